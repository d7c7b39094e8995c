"""Hyperparameter tuning over the REST API: `/tuning-jobs`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from sageforge.api._state import Platform, platform
from sageforge.api.routers.jobs import make_job_router
from sageforge.core.errors import ValidationError
from sageforge.tune._service import TuningJobService
from sageforge.tune._spec import CreateTuningJob

extra = APIRouter(prefix="/tuning-jobs", tags=["tuning-jobs"])

_SORT = ("FinalObjectiveMetricValue", "Name", "CreationTime", "Status")


def _service(p: Platform = Depends(platform)) -> TuningJobService:
    return p.services["tune"]  # type: ignore[no-any-return]


@extra.get(
    "/{name}/trials",
    summary="The tuning job's training jobs (ListTrainingJobsForHyperParameterTuningJob)",
)
def trials(
    name: str,
    svc: TuningJobService = Depends(_service),
    status_equals: str | None = None,
    sort_by: str = "FinalObjectiveMetricValue",
    sort_order: str | None = None,
) -> dict[str, Any]:
    if sort_by not in _SORT:
        raise ValidationError(f"sort_by must be one of {', '.join(_SORT)}", field="sort_by")
    job = svc.supervisor.get(svc.kind, name)
    rows = svc.trials(name, job)
    if status_equals:
        rows = [r for r in rows if r["training_job_status"] == status_equals]
    maximize = (
        job.spec["hyper_parameter_tuning_job_config"]["hyper_parameter_tuning_job_objective"][
            "type"
        ]
        == "Maximize"
    )
    if sort_by == "FinalObjectiveMetricValue":

        def key(r: dict[str, Any]) -> tuple[int, float]:
            m = r["final_hyper_parameter_tuning_job_objective_metric"]
            return (1, 0.0) if m is None else (0, m["value"])

        descending = (sort_order or ("Descending" if maximize else "Ascending")) == "Descending"
        scored = sorted((r for r in rows if key(r)[0] == 0), key=key, reverse=descending)
        rows = scored + [r for r in rows if key(r)[0] == 1]
    else:
        field = {
            "Name": "training_job_name",
            "CreationTime": "creation_time",
            "Status": "training_job_status",
        }[sort_by]
        rows = sorted(
            rows, key=lambda r: r[field], reverse=(sort_order or "Ascending") == "Descending"
        )
    return {"training_job_summaries": rows}


@extra.get("/{name}/analysis", response_class=HTMLResponse, summary="The analysis report (HTML)")
def analysis(name: str, svc: TuningJobService = Depends(_service)) -> HTMLResponse:
    from sageforge.tune._analysis import render_analysis

    return HTMLResponse(render_analysis(svc.describe(name), svc.trials(name)))


routers = [extra, make_job_router("tuning-jobs", lambda p: p.services["tune"], CreateTuningJob)]


def attach(p: Platform) -> None:
    """Create the tuning service for this server."""
    p.services["tune"] = TuningJobService(p.supervisor, p.store)
