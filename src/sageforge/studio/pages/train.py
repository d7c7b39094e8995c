"""Train: start the built-in XGBoost on a flow's exported splits (or any prepared data)."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sageforge.core.errors import ResourceNotFound, SageforgeError
from sageforge.core.names import unique_name
from sageforge.studio._deps import Services, services
from sageforge.studio._forms import FORM_ERROR, Form, read_form
from sageforge.studio._templates import redirect, render
from sageforge.train import CreateTrainingJob

router = APIRouter()

OBJECTIVES = (
    "binary:logistic",
    "reg:squarederror",
    "multi:softprob",
    "multi:softmax",
    "reg:logistic",
    "count:poisson",
)
EVAL_METRICS = ("auc", "logloss", "error", "rmse", "mae", "mlogloss", "merror", "aucpr")
HYPERPARAMETERS = (
    "objective",
    "num_round",
    "max_depth",
    "eta",
    "eval_metric",
    "early_stopping_rounds",
    "num_class",
)
DEFAULTS = {
    "objective": "binary:logistic",
    "num_round": "100",
    "max_depth": "5",
    "eta": "0.2",
    "eval_metric": "auc",
    "early_stopping_rounds": "10",
    "content_type": "text/csv",
}


def _from_flow(svc: Services, flow: str) -> dict[str, Any]:
    """Form values for a flow's last export: its train/validation splits' URLs."""
    desc = svc.flows.describe(flow)
    doc = desc["document"]
    dest = (doc.get("destinations") or [{}])[0]
    url = str(dest.get("url") or "").rstrip("/")
    splits = [s["params"].get("names") for s in doc.get("steps", []) if s["type"] == "split"]
    names = (
        (splits[0] if splits and splits[0] else ["train", "validation", "test"])
        if splits
        else ["all"]
    )
    values = {
        "job_name": unique_name(f"{flow}-xgboost"),
        "train_url": f"{url}/{names[0]}" if url else "",
        "validation_url": f"{url}/{names[1]}" if url and len(names) > 1 else "",
        "content_type": "text/csv" if dest.get("format") == "xgboost" else "application/x-parquet",
        "flow": flow,
    }
    if dest.get("format") == "parquet" and doc.get("target"):
        values["content_type"] = f"application/x-parquet;target={doc['target']}"
    return values


def _page(request: Request, form: Form, status: int = 200) -> HTMLResponse:
    return render(
        request,
        "jobs/train.html",
        status_code=status,
        form=form,
        objectives=OBJECTIVES,
        eval_metrics=EVAL_METRICS,
        nav="jobs",
    )


@router.get("/train", response_class=HTMLResponse)
def train_form(request: Request, flow: str = "") -> HTMLResponse:
    svc = services(request)
    values: dict[str, Any] = {**DEFAULTS, "job_name": unique_name("xgboost")}
    if flow:
        try:
            values.update(_from_flow(svc, flow))
        except ResourceNotFound:
            return redirect("/train", error=f"There is no flow named {flow!r}.")  # type: ignore[return-value]
    return _page(request, Form(values))


def _request(form: Form) -> CreateTrainingJob:
    channels = [
        {
            "channel_name": channel,
            "data_source": {"s3_data_source": {"s3_uri": str(form.values[field]).strip()}},
            "content_type": str(form.values.get("content_type") or "") or None,
        }
        for channel, field in (("train", "train_url"), ("validation", "validation_url"))
        if str(form.values.get(field) or "").strip()
    ]
    hyper = {
        k: str(form.values[k]).strip()
        for k in HYPERPARAMETERS
        if str(form.values.get(k) or "").strip()
    }
    return CreateTrainingJob.model_validate(
        {
            "training_job_name": str(form.values.get("job_name") or "").strip(),
            "algorithm_specification": {"algorithm_name": "xgboost"},
            "hyper_parameters": hyper,
            "input_data_config": channels,
        }
    )


def _field_of(api_field: str) -> str | None:
    """An API field path -> the form input it came from."""
    if api_field.startswith("hyper_parameters."):
        name = api_field.split(".", 1)[1]
        return name if name in HYPERPARAMETERS else None
    if api_field.startswith("input_data_config"):
        return "validation_url" if "validation" in api_field or "[1]" in api_field else "train_url"
    return {"training_job_name": "job_name"}.get(api_field)


@router.post("/train", response_model=None)
async def start_training(request: Request) -> Response:
    svc = services(request)
    form = (await read_form(request)).require("job_name", "train_url")
    if form.ok:
        try:
            req = _request(form)
            job = await anyio.to_thread.run_sync(svc.training.create, req)
            name = job["training_job_name"]
            return redirect(f"/jobs/training/{name}", flash=f"Training job {name} started.")
        except SageforgeError as exc:
            form.fail(exc, _field_of)
        except ValueError as exc:  # pydantic's checks of the request's shape
            form.error(FORM_ERROR, str(exc).splitlines()[-1].strip())
    return _page(request, form, status=400)
