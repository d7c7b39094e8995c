"""Models: the list, a model's page with its inputs and the Deploy form, and Deploy from a job.

Deploying is two resources in SageMaker (an endpoint configuration, then the
endpoint); the form asks for what a person decides — a name, how many worker
processes, whether to capture traffic — and creates both, then shows the
endpoint's page, which follows it from Creating to InService.
"""

from __future__ import annotations

from typing import Any

import pydantic
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sageforge.api._errors import validation_error
from sageforge.core.db import Job
from sageforge.core.errors import ResourceInUse, ResourceNotFound, ValidationError
from sageforge.core.names import unique_name, validate_name
from sageforge.deploy._models import DeployModel, Endpoint, EndpointConfig
from sageforge.deploy._spec import CreateEndpoint, CreateEndpointConfig, CreateModel
from sageforge.studio._deps import Page, paginate, services
from sageforge.studio._forms import Form
from sageforge.studio._templates import redirect, render
from sageforge.studio.deploy_features import model_inputs, training_job_inputs

router = APIRouter()

DEPLOY_FIELDS = {
    "endpoint_name": "endpoint_name",
    "endpoint_config_name": "endpoint_name",
    "production_variants[0].variant_name": "variant_name",
    "production_variants[0].initial_instance_count": "instance_count",
    "data_capture_config.initial_sampling_percentage": "capture_percentage",
    "data_capture_config.destination_s3_uri": "capture_destination",
}
"""Where a service's error field shows on the Deploy form."""


def describe_kind(containers: list[dict[str, Any]]) -> str:
    """How a model answers, in a few words: `built-in xgboost`, `flow → xgboost` …"""
    parts = []
    for c in containers:
        if c.get("flow_url"):
            parts.append("data-prep flow")
        elif c.get("algorithm_name"):
            parts.append(f"built-in {c['algorithm_name']}")
        elif c.get("entry_point"):
            parts.append(f"script {c['entry_point']}")
    return " → ".join(parts) or "—"


def chain_of(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [model["primary_container"]] if model.get("primary_container") else list(model.get("containers") or [])  # fmt: skip


def endpoints_by_model(db: Any) -> dict[str, list[tuple[str, str]]]:
    """model name -> [(endpoint, status)] over every endpoint's current configuration."""
    with db.session() as s:
        endpoints = s.execute(sa.select(Endpoint.name, Endpoint.status, Endpoint.config_name)).all()
        names = {c for _, _, c in endpoints}
        configs = {
            c.name: c.spec
            for c in s.scalars(sa.select(EndpointConfig).where(EndpointConfig.name.in_(names)))
        }
    out: dict[str, list[tuple[str, str]]] = {}
    for name, status, config in endpoints:
        spec = configs.get(config) or {}
        models = {
            v["model_name"]
            for group in ("production_variants", "shadow_production_variants")
            for v in spec.get(group) or []
        }
        for m in models:
            out.setdefault(m, []).append((name, status))
    return out


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, q: str = "", page: int = 1) -> HTMLResponse:
    svc = services(request)
    query = sa.select(DeployModel).order_by(DeployModel.creation_time.desc(), DeployModel.id.desc())
    if q:
        query = query.where(DeployModel.name.contains(q, autoescape=True))
    listing: Page[DeployModel] = paginate(query, page, request=request, db=svc.db)
    serving = endpoints_by_model(svc.db)
    rows = [
        {
            "name": m.name,
            "kind": describe_kind(m.spec.get("containers") or []),
            "artifact": (m.spec.get("containers") or [{}])[-1].get("model_data_url"),
            "created": m.creation_time,
            "endpoints": serving.get(m.name, []),
        }
        for m in listing.items
    ]
    return render(request, "models/list.html", page=listing, rows=rows, q=q)


def _deploy_defaults(svc: Any, model: str) -> dict[str, Any]:
    name = model if not _endpoint_exists(svc, model) else unique_name(model[:36])
    return {
        "endpoint_name": name,
        "variant_name": "AllTraffic",
        "instance_count": "1",
        "capture": "true",
        "capture_percentage": "100",
        "capture_destination": "store://capture",
    }


def _endpoint_exists(svc: Any, name: str) -> bool:
    try:
        svc.deploy.endpoints.get(name)
    except ResourceNotFound:
        return False
    return True


def render_model_page(
    request: Request,
    name: str,
    form: Form | None = None,
    *,
    transform_form: Form | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The model's page; `form`/`transform_form` re-show a submitted form with its errors."""
    from sageforge.studio.pages.deploy_transform import transform_defaults

    svc = services(request)
    model = svc.deploy.models.describe(name)
    chain = chain_of(model)
    inputs = model_inputs(svc, model)
    form = form or Form(_deploy_defaults(svc, name))
    transform_form = transform_form or Form(transform_defaults(name))
    return render(
        request,
        "models/detail.html",
        status_code=status_code,
        model=model,
        chain=chain,
        kind=describe_kind(chain),
        inputs=inputs,
        serving=endpoints_by_model(svc.db).get(name, []),
        form=form,
        transform_form=transform_form,
        transforms=_transform_jobs(svc.db, name),
    )


def _transform_jobs(db: Any, model: str, limit: int = 10) -> list[Job]:
    """The model's latest transform jobs (the spec names the model)."""
    with db.session() as s:
        jobs = s.scalars(
            sa.select(Job)
            .where(Job.kind == "transform", Job.spec["model_name"].as_string() == model)
            .order_by(Job.creation_time.desc(), Job.id.desc())
            .limit(limit)
        ).all()
        s.expunge_all()
    return list(jobs)


@router.get("/models/{name}", response_class=HTMLResponse)
def model_page(request: Request, name: str) -> HTMLResponse:
    return render_model_page(request, name)


def _deploy_request(
    name: str, values: dict[str, Any]
) -> tuple[CreateEndpointConfig, CreateEndpoint]:
    endpoint = validate_name(values["endpoint_name"], "endpoint_name")
    try:
        count = int(values["instance_count"] or "1")
    except ValueError:
        raise ValidationError(
            "must be a whole number from 1 to 64", field="instance_count"
        ) from None
    config_name = unique_name(endpoint[:38])
    body: dict[str, Any] = {
        "endpoint_config_name": config_name,
        "production_variants": [
            {
                "variant_name": values["variant_name"] or "AllTraffic",
                "model_name": name,
                "initial_instance_count": count,
                "initial_variant_weight": 1.0,
            }
        ],
    }
    if values.get("capture") == "true":
        try:
            percentage = float(values["capture_percentage"] or "100")
        except ValueError:
            raise ValidationError("must be a number from 0 to 100", field="capture_percentage") from None  # fmt: skip
        body["data_capture_config"] = {
            "initial_sampling_percentage": percentage,
            "destination_s3_uri": values["capture_destination"] or "store://capture",
        }
    try:
        config = CreateEndpointConfig.model_validate(body)
        create = CreateEndpoint(endpoint_name=endpoint, endpoint_config_name=config_name)
    except pydantic.ValidationError as exc:
        raise validation_error(list(exc.errors())) from None  # type: ignore[arg-type]
    return config, create


@router.post("/models/{name}/deploy", response_class=HTMLResponse)
async def deploy_model(request: Request, name: str) -> Response:
    svc = services(request)
    svc.deploy.models.get(name)  # 404 page for a model that is gone
    raw = await request.form()
    keys = ("endpoint_name", "variant_name", "instance_count", "capture_percentage", "capture_destination")  # fmt: skip
    values: dict[str, Any] = {k: str(raw.get(k) or "").strip() for k in keys}
    values["capture"] = "true" if raw.get("capture") else ""
    form = Form(values)
    try:
        config, create = _deploy_request(name, values)
        if _endpoint_exists(svc, create.endpoint_name):
            raise ResourceInUse(
                f"an endpoint named {create.endpoint_name!r} already exists; choose another name",
                field="endpoint_name",
            )
        svc.deploy.configs.create(config)
        try:
            svc.deploy.endpoints.create(create)
        except Exception:
            svc.deploy.configs.delete(config.endpoint_config_name)
            raise
    except (ValidationError, ResourceInUse) as exc:
        form.fail(exc, lambda f: DEPLOY_FIELDS.get(f, f if f in values else None))
        return render_model_page(request, name, form, status_code=400)
    return redirect(
        f"/endpoints/{create.endpoint_name}",
        f"Deploying {name} to endpoint {create.endpoint_name}: starting its worker processes.",
    )


@router.post("/models/{name}/delete")
def delete_model(request: Request, name: str) -> Response:
    svc = services(request)
    svc.deploy.models.get(name)
    serving = endpoints_by_model(svc.db).get(name, [])
    if serving:
        raise ResourceInUse(
            f"model {name!r} is served by endpoint {serving[0][0]}; delete the endpoint first",
            field="model_name",
        )
    svc.deploy.models.delete(name)
    return redirect("/models", f"Deleted model {name}.")


# -- Deploy on a completed training job --------------------------------------------------------


def model_from_job(svc: Any, job: dict[str, Any], pipeline: bool) -> tuple[str, bool]:
    """Create (or find) the model of a completed training job; (model name, created)."""
    name = job["training_job_name"]
    if job["training_job_status"] != "Completed" or not job.get("model_artifacts"):
        raise ResourceInUse(
            f"training job {name} is {job['training_job_status']}; only a Completed job has a "
            "model to deploy",
            field="training_job_name",
        )
    artifact = job["model_artifacts"]["s3_model_artifacts"]
    algo = job["algorithm_specification"]
    if algo.get("algorithm_name"):
        container: dict[str, Any] = {"model_data_url": artifact, "algorithm_name": algo["algorithm_name"]}  # fmt: skip
    else:
        container = {
            "model_data_url": artifact,
            "entry_point": algo.get("entry_point"),
            "source_dir": algo.get("source_dir"),
        }
    chain = [container]
    flow_url = None
    if pipeline:
        inputs = training_job_inputs(svc, job)
        flow_url = inputs.flow_url if inputs else None
        if flow_url:
            chain = [{"flow_url": flow_url}, container]
    model_name = name + ("-raw" if flow_url and len(name) <= 59 else "")
    for attempt in range(1, 20):
        candidate = model_name if attempt == 1 else f"{model_name[:58]}-{attempt}"
        try:
            existing = svc.deploy.models.describe(candidate)
        except ResourceNotFound:
            body = {"model_name": candidate}
            body.update({"containers": chain} if len(chain) > 1 else {"primary_container": container})  # fmt: skip
            try:
                svc.deploy.models.create(CreateModel.model_validate(body))
            except pydantic.ValidationError as exc:
                raise validation_error(list(exc.errors())) from None  # type: ignore[arg-type]
            return candidate, True
        if [_strip(c) for c in chain_of(existing)] == [_strip(c) for c in chain]:
            return candidate, False
    raise ResourceInUse(f"too many models named like {model_name!r}", field="model_name")


def _strip(container: dict[str, Any]) -> dict[str, Any]:
    keys = ("model_data_url", "algorithm_name", "entry_point", "source_dir", "flow_url")
    return {k: container.get(k) for k in keys if container.get(k)}


@router.post("/jobs/training/{name}/deploy")
async def deploy_training_job(request: Request, name: str) -> Response:
    svc = services(request)
    job = svc.training.describe(name)
    raw = await request.form()
    # The job page's form has a "take raw records" checkbox (absent when unticked); a bare
    # POST without that form deploys the pipeline whenever a flow made the training data.
    pipeline = raw.get("pipeline") == "true" if raw.get("pipeline_choice") else True
    model, created = model_from_job(svc, job, pipeline)
    note = "Created model" if created else "Model"
    return redirect(
        f"/models/{model}#deploy",
        f"{note} {model} from training job {name}. Choose an endpoint name and deploy it.",
    )
