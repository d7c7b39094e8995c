"""Batch transform jobs: the list, a job's page (status, log, inputs and outputs, Stop), and
starting one from a model's page.

Transform jobs are jobs like training jobs (same supervisor, same statuses,
same log); their page follows the same shape as the other job pages so a
person reads them the same way.
"""

from __future__ import annotations

from typing import Any

import pydantic
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sageforge.api._errors import validation_error
from sageforge.core.db import Job
from sageforge.core.errors import ResourceInUse, ValidationError
from sageforge.core.names import unique_name
from sageforge.deploy._spec import CreateTransformJob
from sageforge.studio._deps import Page, paginate, services
from sageforge.studio._forms import Form
from sageforge.studio._templates import redirect, render

router = APIRouter()

KIND = "transform"
STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")

TRANSFORM_FIELDS = {
    "transform_job_name": "job_name",
    "transform_input.data_source.s3_data_source.s3_uri": "input_url",
    "transform_input.content_type": "content_type",
    "transform_input.split_type": "split_type",
    "transform_output.s3_output_path": "output_url",
    "batch_strategy": "batch_strategy",
    "transform_resources.instance_count": "instance_count",
}
"""Where a service's error field shows on the transform form."""


@router.get("/transform", response_class=HTMLResponse)
def transform_jobs_page(
    request: Request, q: str = "", status: str = "", page: int = 1
) -> HTMLResponse:
    svc = services(request)
    query = sa.select(Job).where(Job.kind == KIND).order_by(Job.creation_time.desc(), Job.id.desc())
    if q:
        query = query.where(Job.name.contains(q, autoescape=True))
    if status in STATUSES:
        query = query.where(Job.status == status)
    listing: Page[Job] = paginate(query, page, request=request, db=svc.db)
    rows = [
        {
            "name": j.name,
            "status": j.status,
            "secondary": j.secondary_status,
            "model": (j.spec or {}).get("model_name"),
            "created": j.creation_time,
            "start": j.start_time,
            "end": j.end_time,
            "failure_reason": j.failure_reason,
        }
        for j in listing.items
    ]
    return render(
        request, "transform/list.html", page=listing, rows=rows, q=q, status=status,
        statuses=STATUSES, busy=any(r["status"] in ("InProgress", "Stopping") for r in rows),
    )  # fmt: skip


@router.get("/transform/{name}", response_class=HTMLResponse)
def transform_job_page(request: Request, name: str) -> HTMLResponse:
    job = services(request).deploy.transform.describe(name)
    return render(
        request,
        "transform/detail.html",
        job=job,
        running=job["transform_job_status"] in ("InProgress", "Stopping"),
    )


@router.post("/transform/{name}/stop")
def stop_transform_job(request: Request, name: str) -> Response:
    services(request).deploy.transform.stop(name)
    return redirect(f"/transform/{name}", f"Stopping transform job {name}.")


def transform_defaults(model: str) -> dict[str, str]:
    """The transform form's starting values for a model."""
    job = unique_name(f"{model[:28].rstrip('-')}-transform")
    return {
        "job_name": job,
        "input_url": "",
        "output_url": f"store://transform/{job}",
        "content_type": "text/csv",
        "split_type": "Line",
        "batch_strategy": "MultiRecord",
        "instance_count": "1",
    }


@router.post("/models/{name}/transform", response_class=HTMLResponse)
async def start_transform_job(request: Request, name: str) -> Response:
    from sageforge.studio.pages.deploy_models import render_model_page

    svc = services(request)
    svc.deploy.models.get(name)
    raw = await request.form()
    values = {k: str(raw.get(k) or "").strip() for k in transform_defaults(name)}
    body: dict[str, Any] = {
        "transform_job_name": values["job_name"],
        "model_name": name,
        "batch_strategy": values["batch_strategy"] or "MultiRecord",
        "transform_input": {
            "data_source": {"s3_data_source": {"s3_uri": values["input_url"]}},
            "content_type": values["content_type"] or "text/csv",
            "split_type": values["split_type"] or "Line",
        },
        "transform_output": {
            "s3_output_path": values["output_url"],
            "assemble_with": "Line" if values["split_type"] == "Line" else "None",
        },
        "transform_resources": {"instance_count": values["instance_count"] or "1"},
    }
    try:
        try:
            req = CreateTransformJob.model_validate(body)
        except pydantic.ValidationError as exc:
            raise validation_error(list(exc.errors())) from None  # type: ignore[arg-type]
        svc.deploy.transform.create(req)
    except (ValidationError, ResourceInUse) as exc:
        form = Form(values).fail(exc, TRANSFORM_FIELDS)
        return render_model_page(request, name, transform_form=form, status_code=400)
    return redirect(
        f"/transform/{values['job_name']}", f"Started transform job {values['job_name']}."
    )
