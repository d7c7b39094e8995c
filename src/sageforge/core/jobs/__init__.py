"""The job lifecycle shared by every job kind: runner process, supervisor, queries.

Names are imported lazily: the job process itself (`python -m sageforge.core.jobs`)
starts through this package and must not pay for SQLAlchemy and the supervisor.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "ACTIVE_STATUSES": "sageforge.core.jobs._supervisor",
    "COMPLETED": "sageforge.core.jobs._supervisor",
    "FAILED": "sageforge.core.jobs._supervisor",
    "IN_PROGRESS": "sageforge.core.jobs._supervisor",
    "JobFailure": "sageforge.core.jobs.runner",
    "JobFilter": "sageforge.core.jobs._queries",
    "JobLayout": "sageforge.core.jobs._layout",
    "JobResult": "sageforge.core.jobs.runner",
    "JobSubmission": "sageforge.core.jobs._supervisor",
    "JobSupervisor": "sageforge.core.jobs._supervisor",
    "OPT_ML": "sageforge.core.jobs._layout",
    "ProcessOutcome": "sageforge.core.jobs._process",
    "RunContext": "sageforge.core.jobs.runner",
    "STOPPED": "sageforge.core.jobs._supervisor",
    "STOPPING": "sageforge.core.jobs._supervisor",
    "TERMINAL_STATUSES": "sageforge.core.jobs._supervisor",
    "final_metrics": "sageforge.core.jobs._queries",
    "job_metrics": "sageforge.core.jobs._queries",
    "job_tags": "sageforge.core.jobs._queries",
    "last_error_line": "sageforge.core.jobs._process",
    "list_jobs": "sageforge.core.jobs._queries",
    "read_json": "sageforge.core.jobs._layout",
    "read_log": "sageforge.core.jobs._queries",
    "transitions": "sageforge.core.jobs._queries",
    "write_json_atomic": "sageforge.core.jobs._layout",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ACTIVE_STATUSES",
    "COMPLETED",
    "FAILED",
    "IN_PROGRESS",
    "OPT_ML",
    "STOPPED",
    "STOPPING",
    "TERMINAL_STATUSES",
    "JobFailure",
    "JobFilter",
    "JobLayout",
    "JobResult",
    "JobSubmission",
    "JobSupervisor",
    "ProcessOutcome",
    "RunContext",
    "final_metrics",
    "job_metrics",
    "job_tags",
    "last_error_line",
    "list_jobs",
    "read_json",
    "read_log",
    "transitions",
    "write_json_atomic",
]
