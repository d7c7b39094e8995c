"""Tuning: hyperparameter tuning jobs, a job's trials and charts, Stop."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sageforge.core.db import Job
from sageforge.core.errors import ResourceNotFound, SageforgeError
from sageforge.studio._deps import Page, paginate, services
from sageforge.studio._templates import redirect, render
from sageforge.studio.pages._charts import layout

router = APIRouter()

STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")
RUNNING = ("InProgress", "Stopping")


def _objective(spec: dict[str, Any]) -> dict[str, Any]:
    cfg = spec.get("hyper_parameter_tuning_job_config") or {}
    return cfg.get("hyper_parameter_tuning_job_objective") or {}


@router.get("/tuning", response_class=HTMLResponse)
def tuning_list(request: Request, status: str = "", q: str = "", page: str = "1") -> HTMLResponse:
    svc = services(request)
    query = sa.select(Job).where(Job.kind == "tuning")
    if status in STATUSES:
        query = query.where(Job.status == status)
    if q:
        query = query.where(Job.name.contains(q, autoescape=True))
    query = query.order_by(Job.creation_time.desc(), Job.id.desc())
    jobs: Page[Job] = paginate(query, page, request=request, db=svc.db)
    rows = [
        {
            "name": j.name,
            "status": j.status,
            "objective": _objective(j.spec),
            "strategy": (j.spec.get("hyper_parameter_tuning_job_config") or {}).get("strategy"),
            "max_jobs": (j.spec.get("resolved") or {}).get("max_number_of_training_jobs"),
            "creation_time": j.creation_time,
            "end_time": j.end_time,
        }
        for j in jobs.items
    ]
    return render(
        request,
        "tuning/list.html",
        jobs=jobs,
        rows=rows,
        statuses=STATUSES,
        filters={"status": status, "q": q},
    )


def trial_charts(trials: list[dict[str, Any]], objective: dict[str, Any]) -> list[dict[str, Any]]:
    """Objective per trial (in launch order) with the best so far, as one chart."""
    metric = objective.get("metric_name", "objective")
    maximize = objective.get("type") == "Maximize"
    xs, ys, names, best_y = [], [], [], []
    best: float | None = None
    for i, t in enumerate(trials, start=1):
        m = t.get("final_hyper_parameter_tuning_job_objective_metric")
        if m is None:
            continue
        v = float(m["value"])
        best = v if best is None else (max(best, v) if maximize else min(best, v))
        xs.append(i)
        ys.append(v)
        names.append(t["training_job_name"])
        best_y.append(best)
    if not xs:
        return []
    figure: dict[str, Any] = {
        "data": [
            {
                "type": "scatter",
                "mode": "markers",
                "name": "trial",
                "x": xs,
                "y": ys,
                "text": names,
                "hovertemplate": "%{text}<br>" + metric + " %{y}<extra></extra>",
                "marker": {"size": 9, "color": "#1f5fbf"},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "best so far",
                "x": xs,
                "y": best_y,
                "line": {"shape": "hv", "color": "#2b8a3e", "width": 2},
            },
        ],
        "layout": layout(f"{metric} per trial", "trial", metric),
    }
    figure["layout"]["xaxis"]["dtick"] = max(1, len(trials) // 12)  # whole trial numbers
    return [{"id": "objective-chart", "title": metric, "figure": figure}]


@router.get("/tuning/{name}", response_class=HTMLResponse)
def tuning_page(request: Request, name: str) -> HTMLResponse:
    tune = services(request).tune
    d = tune.describe(name)
    trials = tune.trials(name)
    cfg = d["hyper_parameter_tuning_job_config"]
    objective = cfg.get("hyper_parameter_tuning_job_objective") or {}
    best = (d.get("best_training_job") or {}).get("training_job_name")
    tuned = sorted({k for t in trials for k in t["tuned_hyper_parameters"]})
    return render(
        request,
        "tuning/job.html",
        job=d,
        trials=trials,
        tuned=tuned,
        best=best,
        objective=objective,
        charts=trial_charts(trials, objective),
        running=d["hyper_parameter_tuning_job_status"] in RUNNING,
        nav="tuning",
    )


@router.post("/tuning/{name}/stop", response_model=None)
def stop_tuning(request: Request, name: str) -> Response:
    try:
        services(request).tune.stop(name)
    except ResourceNotFound:
        raise
    except SageforgeError as exc:
        return redirect(f"/tuning/{name}", error=f"Not stopped: {exc.message}")
    return redirect(f"/tuning/{name}", flash="Stop requested: running trials are being stopped.")
