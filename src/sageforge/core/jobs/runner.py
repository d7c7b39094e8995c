"""The job process: `python -m sageforge.core.jobs <job folder>`.

The server writes `job.json` and launches this; it imports the job kind's
*program* (named in job.json as `module:function`), runs it with a
`RunContext`, and writes `result.json` last. Whatever happens inside the
program — a bug in sageforge included — ends in a result file with a status
and a reason, so the server never has to guess. Only a SIGKILL of this process
leaves no result, and the server treats that as a failure it can explain.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sageforge.core.jobs._events import EventWriter
from sageforge.core.jobs._layout import JobLayout, read_json, write_json_atomic
from sageforge.core.jobs._process import (
    MetricRule,
    ProcessOutcome,
    StopSignal,
    run_user_process,
)

COMPLETED, FAILED, STOPPED = "Completed", "Failed", "Stopped"


@dataclass
class JobResult:
    """A program's verdict; becomes result.json and then the job's final state."""

    status: str
    failure_reason: str | None = None
    secondary_status: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "failure_reason": self.failure_reason,
            "secondary_status": self.secondary_status or self.status,
            "outputs": self.outputs,
            "end_time": time.time(),
        }


class JobFailure(Exception):
    """Raised by a program to fail the job with a user-facing reason (e.g. missing input)."""


@dataclass
class RunContext:
    """What a program gets: its folder, its spec, the event channel, the store, the stop flag."""

    layout: JobLayout
    job: dict[str, Any]
    events: EventWriter
    stop: StopSignal

    @property
    def name(self) -> str:
        return str(self.job["name"])

    @property
    def spec(self) -> dict[str, Any]:
        return dict(self.job["spec"])

    @cached_property
    def store(self) -> Any:
        from sageforge.core.store import ArtifactStore

        return ArtifactStore(self.job["store_url"])

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        metric_definitions: Sequence[Mapping[str, str]] = (),
        max_runtime_s: float | None = None,
    ) -> ProcessOutcome:
        """Run the user's command under this job's log, metrics, stop and time limit."""
        return run_user_process(
            argv,
            env=env,
            cwd=cwd,
            log_path=self.layout.log_file,
            events=self.events,
            metrics=MetricRule.compile(metric_definitions),
            stop=self.stop,
            max_runtime_s=max_runtime_s,
            grace_s=float(self.job.get("stop_grace_s", 30)),
        )

    def log(self, message: str) -> None:
        """A line of sageforge's own in the job log, as SageMaker prints its status lines."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        with open(self.layout.log_file, "a+b") as fh:
            # The user's output may end mid-line; ours must start a line of its own,
            # or log readers (CloudWatch's GetLogEvents, Studio) see one glued line.
            fh.seek(0, os.SEEK_END)
            starts_line = fh.tell() == 0
            if not starts_line:
                fh.seek(-1, os.SEEK_END)
                starts_line = fh.read(1) == b"\n"
            prefix = b"" if starts_line else b"\n"
            fh.write(prefix + f"{stamp} [sageforge] {message}\n".encode())


Program = Callable[[RunContext], JobResult]


def main(argv: Sequence[str]) -> int:
    """Entry point; see the module docstring."""
    if len(argv) != 1:
        print("usage: python -m sageforge.core.jobs <job folder>", file=sys.stderr)
        return 2
    layout = JobLayout(Path(argv[0]))
    job = read_json(layout.job_file)
    if not isinstance(job, dict):
        print(f"no readable job.json in {layout.root}", file=sys.stderr)
        return 2
    layout.log_file.parent.mkdir(parents=True, exist_ok=True)
    events = EventWriter(layout.events_file)
    stop = StopSignal()
    signal.signal(signal.SIGTERM, lambda *_: stop.set("user"))
    signal.signal(signal.SIGINT, lambda *_: stop.set("user"))
    ctx = RunContext(layout=layout, job=job, events=events, stop=stop)
    try:
        program = _load_program(str(job["program"]))
        result = program(ctx)
    except JobFailure as exc:
        result = JobResult(FAILED, failure_reason=str(exc))
    except Exception as exc:
        traceback.print_exc()
        result = JobResult(
            FAILED,
            failure_reason=f"InternalServerError: sageforge failed running the job: "
            f"{type(exc).__name__}: {exc} (details in {layout.runner_log})",
        )
    if result.status == COMPLETED and stop.is_set():
        # Asked to stop while finishing up: SageMaker reports what was asked.
        result.status, result.secondary_status = STOPPED, STOPPED
    write_json_atomic(layout.result_file, result.to_dict())
    events.close()
    return 0


def _load_program(ref: str) -> Program:
    module, _, func = ref.partition(":")
    return getattr(importlib.import_module(module), func)  # type: ignore[no-any-return]
