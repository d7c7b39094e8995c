"""Endpoints: the list, an endpoint's page (status, variants, metrics, capture, test form),
re-weighting and deleting, and the standalone shareable prediction page.

The test form is the course's "web application integrated with the endpoint":
it asks for the model's own columns (see `deploy_features`), sends one record
through the endpoint exactly as a client would, and shows the prediction. The
same form, without Studio's navigation, is `/predict/{endpoint}`, a page to
hand to someone who should only get predictions.
"""

from __future__ import annotations

from typing import Any

import pydantic
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, Response

from sageforge.api._errors import validation_error
from sageforge.core.errors import ResourceInUse, ResourceNotFound, ValidationError
from sageforge.deploy._models import Endpoint
from sageforge.deploy._spec import UpdateEndpointWeightsAndCapacities
from sageforge.studio._deps import Page, paginate, services
from sageforge.studio._forms import FORM_ERROR, Form
from sageforge.studio._templates import redirect, render
from sageforge.studio.deploy_features import ModelInputs, example_values, model_inputs, parse_form
from sageforge.studio.deploy_invoke import Answer, interpret, invoke

router = APIRouter()

STATUSES = ("Creating", "InService", "Updating", "SystemUpdating", "Deleting", "Failed")
BUSY = ("Creating", "Updating", "SystemUpdating", "Deleting")


@router.get("/endpoints", response_class=HTMLResponse)
def endpoints_page(request: Request, q: str = "", status: str = "", page: int = 1) -> HTMLResponse:
    svc = services(request)
    query = sa.select(Endpoint).order_by(Endpoint.creation_time.desc(), Endpoint.id.desc())
    if q:
        query = query.where(Endpoint.name.contains(q, autoescape=True))
    if status in STATUSES:
        query = query.where(Endpoint.status == status)
    listing: Page[Endpoint] = paginate(query, page, request=request, db=svc.db)
    rows = [
        {
            "name": e.name,
            "status": e.status,
            "config": e.config_name,
            "variants": [v["variant_name"] for v in (e.state or {}).get("variants") or []],
            "created": e.creation_time,
            "modified": e.last_modified_time,
            "failure_reason": e.failure_reason,
        }
        for e in listing.items
    ]
    return render(
        request,
        "endpoints/list.html",
        page=listing,
        rows=rows,
        q=q,
        status=status,
        statuses=STATUSES,
        busy=any(r["status"] in BUSY for r in rows),
    )


def _test_model(svc: Any, endpoint: dict[str, Any]) -> dict[str, Any] | None:
    """The model a test record is built for: the production variant with the most weight."""
    variants = sorted(
        endpoint.get("production_variants") or [],
        key=lambda v: -float(v.get("current_weight") or 0),
    )
    if not variants:
        config = svc.deploy.configs.describe(endpoint["endpoint_config_name"])
        variants = config.get("production_variants") or []
    for v in variants:
        try:
            return svc.deploy.models.describe(v["model_name"])  # type: ignore[no-any-return]
        except ResourceNotFound:
            continue
    return None


def _inputs(svc: Any, endpoint: dict[str, Any]) -> tuple[dict[str, Any] | None, ModelInputs]:
    model = _test_model(svc, endpoint)
    if model is None:
        return None, ModelInputs((), "raw", "the endpoint's model was deleted")
    return model, model_inputs(svc, model)


def _share(variants: list[dict[str, Any]]) -> dict[str, float]:
    total = sum(float(v.get("current_weight") or 0) for v in variants)
    return {
        v["variant_name"]: (float(v.get("current_weight") or 0) / total if total else 0.0)
        for v in variants
    }


def _endpoint_page(
    request: Request,
    name: str,
    *,
    test_form: Form | None = None,
    answer: Answer | None = None,
    weights_form: Form | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    svc = services(request)
    endpoint = svc.deploy.endpoints.describe(name)
    try:
        config = svc.deploy.configs.describe(endpoint["endpoint_config_name"])
    except ResourceNotFound:
        config = {}
    model, inputs = _inputs(svc, endpoint)
    series = jsonable_encoder(svc.deploy.endpoints.metric_series(name)["variants"])
    variants = endpoint["production_variants"] or _planned(config, "production_variants")
    shadows = endpoint["shadow_production_variants"] or _planned(
        config, "shadow_production_variants"
    )
    form = test_form or Form(example_values(inputs))
    weights = weights_form or Form(
        {f"weight-{v['variant_name']}": _num(v.get("current_weight")) for v in variants}
    )
    return render(
        request,
        "endpoints/detail.html",
        status_code=status_code,
        endpoint=endpoint,
        config=config,
        variants=variants,
        shadows=shadows,
        share=_share(variants),
        metrics=endpoint.get("metrics") or {},
        series=series,
        traffic=any(
            p["invocations"] or p["invocation_4xx_errors"] or p["invocation_5xx_errors"]
            for points in series.values()
            for p in points
        ),
        model=model,
        inputs=inputs,
        form=form,
        answer=answer,
        meaning=interpret(answer.values, inputs.objective) if answer and answer.ok else None,
        weights=weights,
        busy=endpoint["endpoint_status"] in BUSY,
        base_url=str(request.base_url).rstrip("/"),
    )


def _planned(config: dict[str, Any], group: str) -> list[dict[str, Any]]:
    """Variants as the configuration asks for them (before the endpoint runs any)."""
    return [
        {
            "variant_name": v["variant_name"],
            "model_name": v["model_name"],
            "current_weight": v.get("initial_variant_weight"),
            "current_instance_count": v.get("initial_instance_count"),
            "current_serverless_config": v.get("serverless_config"),
        }
        for v in config.get(group) or []
    ]


def _num(value: Any) -> str:
    v = float(value or 0)
    return str(int(v)) if v.is_integer() else f"{v:g}"


@router.get("/endpoints/{name}", response_class=HTMLResponse)
def endpoint_page(request: Request, name: str) -> HTMLResponse:
    return _endpoint_page(request, name)


async def _run_test(request: Request, name: str) -> tuple[Form, Answer | None, int, ModelInputs, Any]:  # fmt: skip
    """Parse the submitted record, send it, and say what to show (form, answer, status)."""
    svc = services(request)
    endpoint = svc.deploy.endpoints.describe(name, metrics=False)
    _, inputs = _inputs(svc, endpoint)
    submitted = {k: str(v) for k, v in (await request.form()).items()}
    body, content_type, errors, values = parse_form(inputs, submitted)
    form = Form(values, errors)
    if errors:
        return form, None, 400, inputs, endpoint
    if endpoint["endpoint_status"] not in ("InService", "Updating"):
        form.error(FORM_ERROR, f"The endpoint is {endpoint['endpoint_status']}; it answers once InService.")  # fmt: skip
        return form, None, 409, inputs, endpoint
    assert body is not None
    try:
        answer = await invoke(svc.deploy, name, body, content_type)
    except ResourceInUse as exc:
        form.error(FORM_ERROR, exc.message)
        return form, None, 409, inputs, endpoint
    if not answer.ok:
        form.error(FORM_ERROR, f"The endpoint refused the record ({answer.status}): {answer.error}")
    return form, answer, 200, inputs, endpoint


@router.post("/endpoints/{name}/test", response_class=HTMLResponse)
async def test_endpoint(request: Request, name: str) -> HTMLResponse:
    form, answer, status, _, _ = await _run_test(request, name)
    return _endpoint_page(request, name, test_form=form, answer=answer, status_code=status)


@router.post("/endpoints/{name}/weights", response_class=HTMLResponse)
async def update_weights(request: Request, name: str) -> Response:
    svc = services(request)
    endpoint = svc.deploy.endpoints.describe(name, metrics=False)
    raw = await request.form()
    values = {k: str(v).strip() for k, v in raw.items() if k.startswith("weight-")}
    errors: dict[str, str] = {}
    wanted = []
    for v in endpoint["production_variants"]:
        key = f"weight-{v['variant_name']}"
        try:
            weight = float(values.get(key, ""))
            if weight < 0:
                raise ValueError
        except ValueError:
            errors[key] = "Give a weight of 0 or more."
            continue
        wanted.append({"variant_name": v["variant_name"], "desired_weight": weight})
    if not errors and sum(w["desired_weight"] for w in wanted) <= 0:
        errors[FORM_ERROR] = "At least one variant needs a weight above 0."
    if not errors:
        try:
            body = UpdateEndpointWeightsAndCapacities.model_validate(
                {"desired_weights_and_capacities": wanted}
            )
            svc.deploy.endpoints.update_weights_and_capacities(name, body)
        except pydantic.ValidationError as exc:
            errors[FORM_ERROR] = str(validation_error(list(exc.errors())))  # type: ignore[arg-type]
        except (ValidationError, ResourceInUse) as exc:
            errors[FORM_ERROR] = exc.message
    if errors:
        return _endpoint_page(request, name, weights_form=Form(values, errors), status_code=400)
    return redirect(f"/endpoints/{name}#variants", f"Updated the traffic weights of {name}.")


@router.post("/endpoints/{name}/delete")
def delete_endpoint(request: Request, name: str) -> Response:
    svc = services(request)
    svc.deploy.endpoints.delete(name)
    return redirect("/endpoints", f"Deleting endpoint {name}: its worker processes are stopping.")


# -- the standalone prediction page --------------------------------------------------------------


def _predict_page(
    request: Request,
    name: str,
    form: Form | None = None,
    answer: Answer | None = None,
    inputs: ModelInputs | None = None,
    endpoint: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    svc = services(request)
    if endpoint is None:
        endpoint = svc.deploy.endpoints.describe(name, metrics=False)
    if inputs is None:
        _, inputs = _inputs(svc, endpoint)
    return render(
        request,
        "predict.html",
        status_code=status_code,
        endpoint=endpoint,
        inputs=inputs,
        form=form or Form(example_values(inputs)),
        answer=answer,
        meaning=interpret(answer.values, inputs.objective) if answer and answer.ok else None,
    )


@router.get("/predict/{name}", response_class=HTMLResponse)
def predict_page(request: Request, name: str) -> HTMLResponse:
    return _predict_page(request, name)


@router.post("/predict/{name}", response_class=HTMLResponse)
async def predict(request: Request, name: str) -> HTMLResponse:
    form, answer, status, inputs, endpoint = await _run_test(request, name)
    return _predict_page(request, name, form, answer, inputs, endpoint, status)
