"""Finding a dataset's Data Quality and Insights report (a processing job and its files)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from sageforge.core.db import Job

TITLE = "Data Quality and Insights: "
LOOK_BACK = 50
"""Report jobs examined (newest first) to find a dataset's; they are few per dataset."""


def latest_report_job(db: Any, dataset: str) -> Job | None:
    """The newest report job run on `dataset` (by the title the data service gives it)."""
    with db.session() as s:
        rows = s.scalars(
            sa.select(Job)
            .where(Job.kind == "processing", Job.name.like("report-%"))
            .order_by(Job.creation_time.desc(), Job.id.desc())
            .limit(LOOK_BACK)
        ).all()
        for job in rows:
            args = ((job.spec or {}).get("app_specification") or {}).get("container_arguments")
            if isinstance(args, list) and TITLE + dataset in args:
                s.expunge(job)
                return job
    return None


def report_url(job: Job) -> str | None:
    """`store://…/report.html` of a report job (from its output config)."""
    outputs = ((job.spec or {}).get("processing_output_config") or {}).get("outputs") or []
    for out in outputs:
        if out.get("output_name") == "report":
            return str(out["s3_output"]["s3_uri"]).rstrip("/") + "/report.html"
    return None


def report_summary(store: Any, job: Job) -> dict[str, Any] | None:
    """The parts of report.json a page shows natively (warnings, sizes), or None."""
    html = report_url(job)
    if html is None:
        return None
    key = store.key_of(html.removesuffix("report.html") + "report.json")
    if key is None or not store.exists(key):
        return None
    report = json.loads(store.get_bytes(key))
    return {
        "warnings": report.get("warnings") or [],
        "rows_total": report.get("rows_total"),
        "summary": report.get("summary") or {},
        "target": (report.get("target") or {}),
        "quick_model": report.get("quick_model"),
        "generated_at": report.get("generated_at"),
    }
