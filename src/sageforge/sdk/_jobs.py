"""Handles on jobs: describe, wait (with live logs or a spinner), stop, logs, metrics."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

from sageforge.core.errors import SageforgeError

if TYPE_CHECKING:
    from sageforge.sdk.session import Session

TERMINAL = ("Completed", "Failed", "Stopped")


class JobFailed(SageforgeError):
    """`wait(raise_on_failure=True)` saw the job end Failed."""

    code = "JobFailed"
    http_status = 500


class Job:
    """A job on the server, addressed by name. `describe()` always asks the server."""

    collection: ClassVar[str]
    status_key: ClassVar[str]

    def __init__(
        self, session: Session, name: str, description: dict[str, Any] | None = None
    ) -> None:
        self.session = session
        self.name = name
        self._last = description

    def __repr__(self) -> str:
        status = self._last.get(self.status_key) if self._last else "?"
        return f"{type(self).__name__}({self.name!r}, status={status!r})"

    @property
    def _path(self) -> str:
        return f"/{self.collection}/{self.name}"

    def describe(self) -> dict[str, Any]:
        """The job's full description, fresh from the server."""
        self._last = self.session.api.get(self._path)
        return self._last

    @property
    def status(self) -> str:
        return str(self.describe()[self.status_key])

    @property
    def failure_reason(self) -> str | None:
        return self.describe().get("failure_reason")

    def stop(self) -> dict[str, Any]:
        """Ask the job to stop (SIGTERM, then SIGKILL after the grace period)."""
        self._last = self.session.api.post(f"{self._path}/stop")
        return self._last

    def metrics(self) -> dict[str, list[dict[str, Any]]]:
        """Every metric's series: name -> [{step, value, timestamp}]."""
        return dict(self.session.api.get(f"{self._path}/metrics")["metrics"])

    def logs(self, follow: bool = False, poll_s: float = 0.25) -> Iterator[str]:
        """The log as text chunks; with `follow`, until the job ends."""
        offset = 0
        while True:
            chunk = self.session.api.get(f"{self._path}/logs", offset=offset)
            if chunk["text"]:
                yield chunk["text"]
            offset = chunk["next_offset"]
            if not follow or chunk["complete"]:
                return
            if not chunk["text"]:
                time.sleep(poll_s)

    def wait(
        self,
        timeout: float | None = None,
        *,
        logs: bool = False,
        out: TextIO | None = None,
        raise_on_failure: bool = False,
        on_update: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Block until the job ends; print its log live with `logs=True`.

        Uses the server's long-poll, so it returns the moment the job ends.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if logs:
            stream = out or sys.stdout
            for text in self.logs(follow=True):
                stream.write(text)
                stream.flush()
        while True:
            left = 30.0 if deadline is None else max(0.0, min(30.0, deadline - time.monotonic()))
            desc = self.session.api.get(
                f"{self._path}/wait", timeout=left if on_update is None else min(left, 1.0)
            )
            self._last = desc
            if on_update is not None:
                on_update(desc)
            if desc[self.status_key] in TERMINAL:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"{self.name} still {desc[self.status_key]} after {timeout}s")
        if raise_on_failure and desc[self.status_key] == "Failed":
            raise JobFailed(f"{self.name} failed: {desc.get('failure_reason')}")
        return desc


class TrainingJob(Job):
    """A training job; `model_artifacts` is where its model.tar.gz went."""

    collection = "training-jobs"
    status_key = "training_job_status"

    @property
    def model_artifacts(self) -> str | None:
        d = (
            self._last
            if self._last and self._last.get(self.status_key) in TERMINAL
            else self.describe()
        )
        art = d.get("model_artifacts") or {}
        return art.get("s3_model_artifacts")

    def evaluate(
        self,
        data: str,
        *,
        content_type: str = "text/csv",
        problem_type: str | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """Score this job's model (a built-in's) on labelled `data`; returns evaluation.json.

        The HTML report lands beside it (`report_url` in the result).
        """

        desc = self.describe()
        algorithm = desc["algorithm_specification"].get("algorithm_name")
        if not algorithm or not self.model_artifacts:
            raise SageforgeError(
                f"{self.name} has no built-in model to evaluate (script-mode models need "
                "their own evaluation script)"
            )
        job = self.session.create_evaluation_job(
            model=self.model_artifacts,
            algorithm=algorithm,
            data=data,
            content_type=content_type,
            problem_type=problem_type,
            title=f"Evaluation of training job {self.name}",
        )
        if not wait:
            return {"evaluation_job_name": job.name}
        return job.evaluation_result()

    def final_metrics(self) -> dict[str, float]:
        """Last value of each metric."""
        return {m["metric_name"]: m["value"] for m in self.describe()["final_metric_data_list"]}

    # -- deployment (sageforge.deploy) --------------------------------------------------------

    def model(self, **kwargs: Any) -> Any:
        """A deployable `Model` of this job's artifact: its built-in, or its script as inference.py."""
        from sageforge.sdk.model import Model

        algo = self.describe()["algorithm_specification"]
        if algo.get("algorithm_name"):
            return Model(
                self.model_artifacts, algo["algorithm_name"], session=self.session, **kwargs
            )
        return Model(
            self.model_artifacts,
            entry_point=kwargs.pop("entry_point", algo.get("entry_point")),
            source_dir=kwargs.pop("source_dir", algo.get("source_dir")),
            session=self.session,
            **kwargs,
        )

    def deploy(self, instance_count: int = 1, **kwargs: Any) -> Any:
        """Deploy this job's model to a new endpoint; returns its `Predictor` (see Model.deploy)."""
        return self.model().deploy(instance_count, **kwargs)


class ProcessingJob(Job):
    """A processing job."""

    collection = "processing-jobs"
    status_key = "processing_job_status"

    def evaluation_result(self) -> dict[str, Any]:
        """For an evaluation job: wait, then its evaluation.json with `report_url` added."""
        import json

        desc = self.wait()
        if desc[self.status_key] != "Completed":
            raise JobFailed(f"evaluation job {self.name} failed: {desc.get('failure_reason')}")
        base = desc["processing_outputs"]["evaluation"]["s3_uri"]
        evaluation = json.loads(self.session.read_bytes(f"{base}/evaluation.json"))
        evaluation["evaluation_job_name"] = self.name
        evaluation["report_url"] = f"{base}/report.html"
        return dict(evaluation)
