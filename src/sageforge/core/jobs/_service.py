"""What every job kind's service does the same way: read, list, stop, wait, logs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace
from typing import Any, ClassVar

from sageforge.core.db import Job
from sageforge.core.errors import ValidationError
from sageforge.core.jobs._queries import JobFilter, job_metrics, list_jobs, read_log
from sageforge.core.jobs._supervisor import TERMINAL_STATUSES, JobSupervisor
from sageforge.core.store import ArtifactStore


class JobService(ABC):
    """Base of a job kind's service; subclasses add `create` and the describe shape."""

    kind: ClassVar[str]
    list_key: ClassVar[str]
    """The List* response's key for its rows, e.g. `training_job_summaries`."""

    def __init__(self, supervisor: JobSupervisor, store: ArtifactStore) -> None:
        self.supervisor = supervisor
        self.store = store

    @abstractmethod
    def render(self, job: Job) -> dict[str, Any]:
        """The Describe* shape of a job row."""

    @abstractmethod
    def summary(self, job: Job) -> dict[str, Any]:
        """The List* row of a job."""

    def check_exists(self, url: str | None, field: str) -> None:
        """Refuse a request whose input is missing now, rather than fail the job later."""
        if not url:
            raise ValidationError("is required", field=field)
        fs, path = self.store.resolve(url, field=field)
        try:
            found = fs.exists(path)
        except Exception as exc:  # a store we cannot reach is the caller's configuration
            raise ValidationError(f"cannot check {url}: {exc}", field=field) from None
        if not found:
            raise ValidationError(f"nothing found at {url}", field=field)

    def describe(self, name: str) -> dict[str, Any]:
        """Describe* by name (ResourceNotFound if there is none)."""
        return self.render(self.supervisor.get(self.kind, name))

    def list(self, f: JobFilter) -> dict[str, Any]:
        """List* with SageMaker's filters and paging."""
        rows, token = list_jobs(self.supervisor.db, replace(f, kind=self.kind))
        return {self.list_key: [self.summary(j) for j in rows], "next_token": token}

    def stop(self, name: str) -> dict[str, Any]:
        """Stop*: SIGTERM now, SIGKILL after the grace period."""
        self.supervisor.stop(self.kind, name)
        return self.describe(name)

    def wait(self, name: str, timeout: float) -> dict[str, Any]:
        """Describe after the job ends or `timeout` passes, whichever is first."""
        return self.render(self.supervisor.wait(self.kind, name, timeout))

    def metrics(self, name: str) -> dict[str, Any]:
        """Every metric's series: name -> [{step, value, timestamp}]."""
        job = self.supervisor.get(self.kind, name)
        return {"name": name, "metrics": job_metrics(self.supervisor.db, job.id)}

    def logs(self, name: str, offset: int = 0) -> dict[str, Any]:
        """A chunk of the log from `offset`; `complete` once the job ended and all is read."""
        job = self.supervisor.get(self.kind, name)
        text, next_offset = read_log(job, offset)
        done = job.status in TERMINAL_STATUSES and not text
        return {"text": text, "next_offset": next_offset, "complete": done, "status": job.status}
