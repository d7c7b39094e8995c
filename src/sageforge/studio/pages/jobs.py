"""Jobs: training and processing jobs, filtered and paged; a job's page; Stop."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sageforge.core.db import Job
from sageforge.core.errors import ResourceNotFound, SageforgeError
from sageforge.studio._deps import Page, Services, paginate, services
from sageforge.studio._templates import redirect, render
from sageforge.studio.pages._charts import metric_charts

router = APIRouter()

KINDS = ("training", "processing")
STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")
RUNNING = ("InProgress", "Stopping")
API_PATH = {"training": "training-jobs", "processing": "processing-jobs"}


def _service(svc: Services, kind: str) -> Any:
    if kind not in KINDS:
        raise ResourceNotFound(f"there are no {kind!r} jobs; the job kinds are {', '.join(KINDS)}")
    return svc.training if kind == "training" else svc.processing


@router.get("/jobs", response_class=HTMLResponse)
def job_list(
    request: Request, kind: str = "", status: str = "", q: str = "", page: str = "1"
) -> HTMLResponse:
    svc = services(request)
    query = sa.select(Job).order_by(Job.creation_time.desc(), Job.id.desc())
    query = query.where(Job.kind == kind) if kind in KINDS else query.where(Job.kind.in_(KINDS))
    if status in STATUSES:
        query = query.where(Job.status == status)
    if q:
        query = query.where(Job.name.contains(q, autoescape=True))
    jobs: Page[Job] = paginate(query, page, request=request, db=svc.db)
    return render(
        request,
        "jobs/list.html",
        jobs=jobs,
        kinds=KINDS,
        statuses=STATUSES,
        filters={"kind": kind, "status": status, "q": q},
    )


def job_view(kind: str, d: dict[str, Any]) -> dict[str, Any]:
    """One shape for both kinds' Describe* answers, as the job page shows them."""
    if kind == "training":
        algo = d.get("algorithm_specification") or {}
        inputs = [
            (c["channel_name"], c["data_source"]["s3_data_source"]["s3_uri"])
            for c in d.get("input_data_config") or []
        ]
        outputs = [("output path", (d.get("output_data_config") or {}).get("s3_output_path"))]
        if d.get("model_artifacts"):
            outputs.append(("model", d["model_artifacts"]["s3_model_artifacts"]))
        if d.get("output_data"):
            outputs.append(("output data", d["output_data"]))
        code = algo.get("algorithm_name") or algo.get("entry_point") or algo.get("training_image")
        started, ended = d.get("training_start_time"), d.get("training_end_time")
    else:
        app = d.get("app_specification") or {}
        inputs = [
            (i["input_name"], (i.get("s3_input") or {}).get("s3_uri"))
            for i in d.get("processing_inputs") or []
        ]
        outputs = [
            (o["output_name"], (o.get("s3_output") or {}).get("s3_uri"))
            for o in (d.get("processing_output_config") or {}).get("outputs") or []
        ]
        code = " ".join([*app.get("container_entrypoint", []), *app.get("container_arguments", [])])
        started, ended = d.get("processing_start_time"), d.get("processing_end_time")
    return {
        "kind": kind,
        "name": d[f"{kind}_job_name"],
        "status": d[f"{kind}_job_status"],
        "secondary_status": d.get("secondary_status"),
        "failure_reason": d.get("failure_reason"),
        "created": d.get("creation_time"),
        "started": started,
        "ended": ended,
        "transitions": d.get("secondary_status_transitions") or [],
        "hyperparameters": d.get("hyper_parameters") or {},
        "environment": d.get("environment") or {},
        "final_metrics": d.get("final_metric_data_list") or [],
        "inputs": inputs,
        "outputs": outputs,
        "code": code,
        "api": f"/api/v1/{API_PATH[kind]}/{d[f'{kind}_job_name']}",
        "running": d[f"{kind}_job_status"] in RUNNING,
    }


@router.get("/jobs/{kind}/{name}", response_class=HTMLResponse)
def job_page(request: Request, kind: str, name: str) -> HTMLResponse:
    svc = services(request)
    service = _service(svc, kind)
    job = job_view(kind, service.describe(name))
    charts = metric_charts(service.metrics(name)["metrics"])
    return render(request, "jobs/job.html", job=job, charts=charts, nav="jobs")


@router.post("/jobs/{kind}/{name}/stop", response_model=None)
def stop_job(request: Request, kind: str, name: str) -> Response:
    svc = services(request)
    try:
        _service(svc, kind).stop(name)
    except ResourceNotFound:
        raise
    except SageforgeError as exc:
        return redirect(f"/jobs/{kind}/{name}", error=f"Not stopped: {exc.message}")
    return redirect(
        f"/jobs/{kind}/{name}", flash="Stop requested: the job gets a few seconds to end."
    )
