"""Reading jobs back: lists with SageMaker's filters and paging, logs, metrics.

Shared by every job kind's service so that listing training jobs and listing
processing jobs behave identically (same filters, same NextToken paging).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from sageforge.core.db import Database, Job, JobMetric, Tag
from sageforge.core.errors import ValidationError
from sageforge.core.jobs._layout import JobLayout

_SORT_COLUMNS = {"CreationTime": Job.creation_time, "Name": Job.name, "Status": Job.status}
MAX_RESULTS = 100


@dataclass(frozen=True)
class JobFilter:
    """SageMaker's List* filters (snake_case)."""

    kind: str | None = None
    name_contains: str | None = None
    status_equals: str | None = None
    creation_time_after: datetime | None = None
    creation_time_before: datetime | None = None
    sort_by: str = "CreationTime"
    sort_order: str = "Descending"
    max_results: int = 50
    next_token: str | None = None


def list_jobs(db: Database, f: JobFilter) -> tuple[list[Job], str | None]:
    """One page of jobs matching `f`, and the token of the next page (None at the end)."""
    if f.sort_by not in _SORT_COLUMNS:
        raise ValidationError(f"sort_by must be one of {', '.join(_SORT_COLUMNS)}", field="sort_by")
    if f.sort_order not in ("Ascending", "Descending"):
        raise ValidationError("sort_order must be Ascending or Descending", field="sort_order")
    if not 1 <= f.max_results <= MAX_RESULTS:
        raise ValidationError(f"max_results must be 1–{MAX_RESULTS}", field="max_results")
    offset = _decode_token(f.next_token)
    q = sa.select(Job)
    if f.kind:
        q = q.where(Job.kind == f.kind)
    if f.name_contains:
        q = q.where(Job.name.contains(f.name_contains, autoescape=True))
    if f.status_equals:
        q = q.where(Job.status == f.status_equals)
    if f.creation_time_after:
        q = q.where(Job.creation_time > f.creation_time_after)
    if f.creation_time_before:
        q = q.where(Job.creation_time < f.creation_time_before)
    col = _SORT_COLUMNS[f.sort_by]
    order = col.asc() if f.sort_order == "Ascending" else col.desc()
    q = q.order_by(order, Job.id.desc()).offset(offset).limit(f.max_results + 1)
    with db.session() as s:
        rows = list(s.scalars(q))
    more = len(rows) > f.max_results
    return rows[: f.max_results], _encode_token(offset + f.max_results) if more else None


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["o"])
    except (ValueError, KeyError, TypeError):
        raise ValidationError(
            "next_token is not a token this server issued", field="next_token"
        ) from None


def job_metrics(db: Database, job_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every metric's time series: name -> [{step, value, timestamp}]."""
    with db.session() as s:
        rows = s.scalars(
            sa.select(JobMetric)
            .where(JobMetric.job_id == job_id)
            .order_by(JobMetric.name, JobMetric.step)
        )
        out: dict[str, list[dict[str, Any]]] = {}
        for m in rows:
            out.setdefault(m.name, []).append(
                {"step": m.step, "value": m.value, "timestamp": m.timestamp.isoformat()}
            )
    return out


def final_metrics(db: Database, job_id: int) -> list[dict[str, Any]]:
    """The last value of each metric, as SageMaker's FinalMetricDataList."""
    return [
        {"metric_name": name, "value": series[-1]["value"], "timestamp": series[-1]["timestamp"]}
        for name, series in job_metrics(db, job_id).items()
    ]


def job_tags(db: Database, arn: str) -> list[dict[str, str]]:
    """Tags of a resource as `[{"key", "value"}]`."""
    with db.session() as s:
        rows = s.scalars(sa.select(Tag).where(Tag.resource_arn == arn).order_by(Tag.key))
        return [{"key": t.key, "value": t.value} for t in rows]


def read_log(job: Job, offset: int = 0, limit: int = 1 << 20) -> tuple[str, int]:
    """Log text from byte `offset` (at most `limit` bytes, whole lines), and the next offset."""
    if offset < 0:
        raise ValidationError("offset must be >= 0", field="offset")
    path: Path = JobLayout(Path(job.workdir)).log_file
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            chunk = fh.read(limit)
    except FileNotFoundError:
        return "", offset
    if len(chunk) == limit:
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            chunk = chunk[: cut + 1]
    return chunk.decode("utf-8", errors="replace"), offset + len(chunk)


def transitions(job: Job) -> list[dict[str, Any]]:
    """SecondaryStatusTransitions in snake_case."""
    return [
        {
            "status": t.status,
            "start_time": t.start_time,
            "end_time": t.end_time,
            "status_message": t.message,
        }
        for t in job.transitions
    ]
