"""Home: what exists and what happened lately, or the first-run welcome."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sageforge.core.db import Job
from sageforge.data._models import DatasetRecord, FlowRecord
from sageforge.deploy._models import Endpoint
from sageforge.studio._deps import services
from sageforge.studio._templates import render

router = APIRouter()

RECENT = 10
RUNNING = ("InProgress", "Stopping")


def _counts(db: Any) -> dict[str, int]:
    """Every number on the home page, each one COUNT query (never a full-table read)."""

    def count(q: sa.Select[Any]) -> int:
        return int(s.scalar(q) or 0)

    with db.session() as s:
        jobs = sa.select(sa.func.count(Job.id))
        return {
            "datasets": count(sa.select(sa.func.count(DatasetRecord.id))),
            "flows": count(sa.select(sa.func.count(FlowRecord.id))),
            "jobs": count(jobs),
            "running": count(jobs.where(Job.status.in_(RUNNING))),
            "failed": count(jobs.where(Job.status == "Failed")),
            "endpoints": count(sa.select(sa.func.count(Endpoint.id))),
            "in_service": count(
                sa.select(sa.func.count(Endpoint.id)).where(Endpoint.status == "InService")
            ),
        }


def _recent(db: Any) -> list[dict[str, Any]]:
    """The newest jobs, datasets and flows, merged by time."""
    with db.session() as s:
        jobs = s.execute(
            sa.select(Job.kind, Job.name, Job.status, Job.creation_time)
            .order_by(Job.creation_time.desc(), Job.id.desc())
            .limit(RECENT)
        ).all()
        datasets = s.execute(
            sa.select(DatasetRecord.name, DatasetRecord.creation_time)
            .order_by(DatasetRecord.creation_time.desc())
            .limit(RECENT)
        ).all()
        flows = s.execute(
            sa.select(FlowRecord.name, FlowRecord.last_modified_time)
            .order_by(FlowRecord.last_modified_time.desc())
            .limit(RECENT)
        ).all()
    items = [
        {
            "what": f"{kind} job",
            "name": name,
            "href": job_href(kind, name),
            "status": status,
            "time": t,
        }
        for kind, name, status, t in jobs
    ]
    items += [
        {"what": "dataset", "name": n, "href": f"/data/{n}", "status": None, "time": t}
        for n, t in datasets
    ]
    items += [
        {"what": "flow", "name": n, "href": f"/flows/{n}", "status": None, "time": t}
        for n, t in flows
    ]
    items.sort(key=lambda i: i["time"], reverse=True)
    return items[:RECENT]


def job_href(kind: str, name: str) -> str:
    """Where a job of any kind is shown."""
    if kind == "tuning":
        return f"/tuning/{name}"
    if kind == "transform":
        return f"/transform/{name}"
    return f"/jobs/{kind}/{name}"


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    db = services(request).db
    counts = _counts(db)
    first_run = counts["datasets"] == 0 and counts["jobs"] == 0 and counts["flows"] == 0
    return render(request, "home.html", counts=counts, recent=_recent(db), first_run=first_run)
