"""The server's side of every job: launch, watch, record, stop, recover.

One monitor thread owns the running jobs. For each it reads the runner's
events (secondary statuses, metrics) into the DB, notices when the process
ends and turns its result file into the final status, and enforces the last
resorts: SIGKILL of the whole process group when a stop or the runtime limit
is not honoured in time. On start it re-adopts jobs whose process still runs
and settles every other unfinished job, so no job stays InProgress forever.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sageforge.core.db import Database, Job, JobMetric, JobStatusTransition, Tag, utcnow
from sageforge.core.errors import ResourceInUse, ResourceNotFound, ValidationError
from sageforge.core.executor import Executor, ProcessHandle
from sageforge.core.jobs._events import read_events
from sageforge.core.jobs._layout import JobLayout, read_json, write_json_atomic

log = logging.getLogger("sageforge.jobs")

IN_PROGRESS, STOPPING = "InProgress", "Stopping"
COMPLETED, FAILED, STOPPED = "Completed", "Failed", "Stopped"
ACTIVE_STATUSES = (IN_PROGRESS, STOPPING)
TERMINAL_STATUSES = (COMPLETED, FAILED, STOPPED)

_TICK_S = 0.1
_KILL_MARGIN_S = 10.0


@dataclass
class _Active:
    """A job the monitor is watching."""

    job_id: int
    kind: str
    name: str
    handle: ProcessHandle
    layout: JobLayout
    max_runtime_s: float | None
    started: float
    offset: int = 0
    stop_requested: float | None = None
    killed: bool = False
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class JobSubmission:
    """Everything the supervisor needs to create and launch a job of any kind."""

    kind: str
    name: str
    arn: str
    spec: dict[str, Any]
    program: str
    """`module:function` the runner calls (see sageforge.core.jobs.runner)."""
    tags: dict[str, str]
    max_runtime_s: float | None


class JobSupervisor:
    """Launches and watches job processes; the only writer of job state."""

    def __init__(
        self,
        db: Database,
        executor: Executor,
        *,
        jobs_dir: Path,
        store_url: str,
        stop_grace_s: float = 30.0,
        keep_input_data: bool = False,
    ) -> None:
        self.db = db
        self.executor = executor
        self.jobs_dir = jobs_dir
        self.store_url = store_url
        self.stop_grace_s = stop_grace_s
        self.keep_input_data = keep_input_data
        self._active: dict[int, _Active] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life of the supervisor -------------------------------------------------

    def start(self) -> None:
        """Settle or re-adopt unfinished jobs, then start the monitor thread."""
        self.recover()
        self._thread = threading.Thread(target=self._monitor, name="job-monitor", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop watching. Running jobs go on; the next server re-adopts them."""
        self._closing.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- submitting and stopping ----------------------------------------------

    def submit(self, sub: JobSubmission) -> Job:
        """Record the job, write its job.json and launch its process."""
        layout = JobLayout(self.jobs_dir / sub.kind / sub.name)
        now = utcnow()
        with self.db.session() as s:
            if s.scalar(sa.select(Job.id).where(Job.kind == sub.kind, Job.name == sub.name)):
                raise ResourceInUse(
                    f"a {sub.kind} job named {sub.name!r} already exists; job names are unique",
                    field=f"{sub.kind}_job_name",
                )
            job = Job(
                kind=sub.kind,
                name=sub.name,
                arn=sub.arn,
                status=IN_PROGRESS,
                secondary_status="Starting",
                spec=sub.spec,
                outputs={},
                workdir=str(layout.root),
                creation_time=now,
                last_modified_time=now,
                start_time=now,
            )
            job.transitions.append(
                JobStatusTransition(
                    status="Starting", message="Launching the job process", start_time=now
                )
            )
            s.add(job)
            for key, value in sub.tags.items():
                s.add(Tag(resource_arn=sub.arn, key=key, value=value))
            try:
                s.commit()
            except sa.exc.IntegrityError:
                raise ResourceInUse(
                    f"a {sub.kind} job named {sub.name!r} already exists", field="name"
                ) from None
            job_id = job.id

        if layout.root.exists():  # left over from a DB that was reset; never mix runs
            shutil.rmtree(layout.root)
        layout.root.mkdir(parents=True)
        write_json_atomic(
            layout.job_file,
            {
                "kind": sub.kind,
                "name": sub.name,
                "arn": sub.arn,
                "program": sub.program,
                "spec": sub.spec,
                "store_url": self.store_url,
                "stop_grace_s": self.stop_grace_s,
            },
        )
        try:
            handle = self.executor.launch(
                [sys.executable, "-m", "sageforge.core.jobs", str(layout.root)],
                env=_job_env(),
                cwd=layout.root,
                log_path=layout.runner_log,
            )
        except OSError as exc:
            self._finish(job_id, FAILED, f"InternalServerError: could not start the job: {exc}")
            return self.get(sub.kind, sub.name)
        with self.db.session() as s:
            s.execute(
                sa.update(Job)
                .where(Job.id == job_id)
                .values(pid=handle.pid, pid_create_time=handle.create_time)
            )
            s.commit()
        active = _Active(
            job_id=job_id,
            kind=sub.kind,
            name=sub.name,
            handle=handle,
            layout=layout,
            max_runtime_s=sub.max_runtime_s,
            started=time.time(),
        )
        with self._changed:
            self._active[job_id] = active
        threading.Thread(target=self._reap, args=(active,), daemon=True).start()
        return self.get(sub.kind, sub.name)

    def stop(self, kind: str, name: str) -> Job:
        """Ask a running job to stop: SIGTERM now, SIGKILL if it outlives the grace period."""
        job = self.get(kind, name)
        if job.status in TERMINAL_STATUSES:
            raise ValidationError(
                f"the {kind} job {name!r} has already ended ({job.status}); "
                "only an InProgress job can be stopped",
                field="name",
            )
        if job.status == STOPPING:
            return job
        now = utcnow()
        with self.db.session() as s:
            row = s.get(Job, job.id)
            assert row is not None
            row.status = STOPPING
            row.stop_reason = "user"
            row.stop_requested_time = now
            row.last_modified_time = now
            _transition(s, row, "Stopping", "Stopping the job at the user's request", now)
            s.commit()
        with self._changed:
            active = self._active.get(job.id)
            if active is not None:
                active.stop_requested = time.time()
                self.executor.signal(active.handle, signal.SIGTERM)
            self._changed.notify_all()
        return self.get(kind, name)

    # -- reading ---------------------------------------------------------------

    def get(self, kind: str, name: str) -> Job:
        """The job row (with transitions loaded), or ResourceNotFound."""
        with self.db.session() as s:
            job = s.scalar(sa.select(Job).where(Job.kind == kind, Job.name == name))
            if job is None:
                raise ResourceNotFound(f"no {kind} job named {name!r}", field="name")
            _ = job.transitions  # load before the session closes
            return job

    def wait(self, kind: str, name: str, timeout: float) -> Job:
        """Block until the job ends or `timeout` passes; returns the job either way."""
        job = self.get(kind, name)
        active = self._active.get(job.id)
        if active is not None and job.status in ACTIVE_STATUSES:
            active.done.wait(timeout)
        return self.get(kind, name)

    # -- the monitor ------------------------------------------------------------

    def _reap(self, active: _Active) -> None:
        """Block on our own child's exit and wake the monitor the moment it happens."""
        self.executor.wait(active.handle)
        with self._changed:
            self._changed.notify_all()

    def _monitor(self) -> None:
        while not self._closing.is_set():
            with self._changed:
                self._changed.wait(_TICK_S)
                jobs = list(self._active.values())
            for active in jobs:
                try:
                    self._tick(active)
                except Exception:  # never let one job's trouble stop the watch
                    log.exception("monitoring %s job %s failed", active.kind, active.name)

    def _tick(self, active: _Active) -> None:
        self._ingest(active)
        exit_info = self.executor.poll(active.handle)
        if exit_info is not None:
            self._ingest(active)
            self._settle(active, exit_info.returncode)
            return
        now = time.time()
        grace = self.stop_grace_s + _KILL_MARGIN_S
        if active.stop_requested and now - active.stop_requested > grace and not active.killed:
            log.warning("job %s ignored SIGTERM for %.0fs: killing it", active.name, grace)
            self._kill(active)
        if (
            active.max_runtime_s is not None
            and now - active.started > active.max_runtime_s + grace + _KILL_MARGIN_S
            and not active.killed
        ):
            log.warning("job %s overran its max runtime: killing it", active.name)
            with self.db.session() as s:
                s.execute(
                    sa.update(Job).where(Job.id == active.job_id).values(stop_reason="max_runtime")
                )
                s.commit()
            self._kill(active)

    def _kill(self, active: _Active) -> None:
        active.killed = True
        self.executor.signal(active.handle, signal.SIGKILL, group=True)

    def _ingest(self, active: _Active) -> None:
        events, active.offset = read_events(active.layout.events_file, active.offset)
        if events:
            self._apply_events(active.job_id, events)

    def _apply_events(self, job_id: int, events: list[dict[str, Any]]) -> None:
        with self.db.session() as s:
            job = s.get(Job, job_id)
            if job is None:
                return
            for ev in events:
                when = datetime.fromtimestamp(float(ev.get("ts") or ev["t"]), UTC)
                if ev["type"] == "status" and job.status == IN_PROGRESS:
                    job.secondary_status = str(ev["secondary"])
                    _transition(s, job, job.secondary_status, str(ev.get("message", "")), when)
                elif ev["type"] == "metric":
                    s.add(
                        JobMetric(
                            job_id=job_id,
                            name=str(ev["name"]),
                            value=float(ev["value"]),
                            step=int(ev["step"]),
                            timestamp=when,
                        )
                    )
            job.last_modified_time = utcnow()
            s.commit()

    def _settle(self, active: _Active, returncode: int | None, *, reap_group: bool = True) -> None:
        """Turn a finished process (and its result file, if any) into the final status."""
        if reap_group:
            # Anything the job left in its group (a script whose runner was killed) goes too.
            # Not after a restart: by then the pid may name someone else's group.
            self.executor.signal(active.handle, signal.SIGKILL, group=True)
        result = read_json(active.layout.result_file)
        job = self._job_by_id(active.job_id)
        if isinstance(result, dict):
            status = str(result.get("status", FAILED))
            self._finish(
                active.job_id,
                status,
                result.get("failure_reason"),
                secondary=result.get("secondary_status"),
                outputs=result.get("outputs") or {},
            )
        elif job is not None and (job.status == STOPPING or job.stop_reason):
            secondary = "MaxRuntimeExceeded" if job.stop_reason == "max_runtime" else STOPPED
            self._finish(active.job_id, STOPPED, None, secondary=secondary)
        else:
            self._finish(active.job_id, FAILED, _death_reason(returncode, active.layout))
        self._cleanup(active.layout)
        self.executor.release(active.handle)
        with self._changed:
            self._active.pop(active.job_id, None)
            active.done.set()
            self._changed.notify_all()

    def _finish(
        self,
        job_id: int,
        status: str,
        reason: str | None,
        *,
        secondary: str | None = None,
        outputs: dict[str, Any] | None = None,
    ) -> None:
        now = utcnow()
        with self.db.session() as s:
            job = s.get(Job, job_id)
            if job is None or job.status in TERMINAL_STATUSES:
                return
            job.status = status
            job.secondary_status = secondary or status
            job.failure_reason = reason[:4096] if reason else None
            if outputs:
                job.outputs = {**(job.outputs or {}), **outputs}
            job.end_time = now
            job.last_modified_time = now
            _transition(s, job, job.secondary_status, _final_message(status, reason), now)
            open_last = job.transitions[-1] if job.transitions else None
            if open_last is not None:
                open_last.end_time = now
            s.commit()

    def _cleanup(self, layout: JobLayout) -> None:
        """Drop the job's copy of its input data; logs, config and outputs stay."""
        if self.keep_input_data:
            return
        for sub in ("input/data", "processing/input"):
            shutil.rmtree(layout.root / sub, ignore_errors=True)

    def _job_by_id(self, job_id: int) -> Job | None:
        with self.db.session() as s:
            return s.get(Job, job_id)

    # -- recovery ---------------------------------------------------------------

    def recover(self) -> None:
        """Re-adopt running jobs and settle the rest; see the module docstring."""
        with self.db.session() as s:
            unfinished = list(s.scalars(sa.select(Job).where(Job.status.in_(ACTIVE_STATUSES))))
        for job in unfinished:
            layout = JobLayout(Path(job.workdir))
            handle = (
                ProcessHandle(job.pid, job.pid_create_time or 0.0) if job.pid is not None else None
            )
            spec = job.spec or {}
            max_rt = (spec.get("stopping_condition") or {}).get("max_runtime_in_seconds")
            active = _Active(
                job_id=job.id,
                kind=job.kind,
                name=job.name,
                handle=handle or ProcessHandle(-1, 0.0),
                layout=layout,
                max_runtime_s=float(max_rt) if max_rt else None,
                started=(job.start_time or job.creation_time).timestamp(),
                stop_requested=job.stop_requested_time.timestamp()
                if job.stop_requested_time
                else None,
            )
            if handle is not None and self.executor.poll(handle) is None:
                log.info("re-adopting %s job %s (pid %s)", job.kind, job.name, job.pid)
                with self._changed:
                    self._active[job.id] = active
                continue
            self._ingest(active)
            if handle is None:
                self._finish(
                    job.id,
                    FAILED,
                    "InternalServerError: the server stopped before the job process started",
                )
                continue
            if read_json(layout.result_file) is None and job.status == IN_PROGRESS:
                self._finish(
                    job.id,
                    FAILED,
                    "InternalServerError: the job's process ended while no server was watching "
                    "and left no result (the machine or the job was killed)",
                )
                continue
            self._settle(active, None, reap_group=False)


def _transition(s: Session, job: Job, status: str, message: str, when: datetime) -> None:
    """Close the open secondary-status step and open a new one."""
    if job.transitions and job.transitions[-1].end_time is None:
        job.transitions[-1].end_time = when
    job.transitions.append(JobStatusTransition(status=status, message=message, start_time=when))


def _final_message(status: str, reason: str | None) -> str:
    if status == COMPLETED:
        return "Job completed"
    if status == STOPPED:
        return "Job stopped"
    return f"Job failed: {reason}" if reason else "Job failed"


def _death_reason(returncode: int | None, layout: JobLayout) -> str:
    """Explain a job process that ended without writing its result."""
    if returncode is not None and returncode < 0:
        try:
            how = f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"killed by signal {-returncode}"
    elif returncode is not None:
        how = f"exited with code {returncode}"
    else:
        how = "ended"
    tail = ""
    try:
        lines = layout.runner_log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        if lines:
            tail = f"; last runner output: {lines[-1][:300]}"
    except OSError:
        pass
    return f"InternalServerError: the job process {how} before reporting a result{tail}"


def _job_env() -> dict[str, str]:
    """The job process's environment: the server's, so the job sees the same Python and paths."""
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
