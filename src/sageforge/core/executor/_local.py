"""LocalExecutor: each job is a child process of the server, in its own session.

Its own session means a job survives a server restart (to be re-adopted) and
that signalling its process group reaches everything the job started, never
the server. Processes we launched are reaped through `Popen`; processes adopted
after a restart are watched through psutil with their recorded start time, so
a recycled pid is never taken for the job.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from sageforge.core.executor._base import Executor, ExitInfo, ProcessHandle

_CREATE_TIME_TOLERANCE = 1.0


class LocalExecutor(Executor):
    """Runs job processes on this machine; see the module docstring."""

    def __init__(self) -> None:
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._exits: dict[int, ExitInfo] = {}  # reaped children, until released
        self._lock = threading.Lock()

    def launch(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log_path: Path
    ) -> ProcessHandle:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=str(cwd),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        try:
            create_time = psutil.Process(proc.pid).create_time()
        except psutil.NoSuchProcess:  # exited already; identity only needs to be unique
            create_time = time.time()
        with self._lock:
            self._children[proc.pid] = proc
        return ProcessHandle(pid=proc.pid, create_time=create_time)

    def _child(self, handle: ProcessHandle) -> subprocess.Popen[bytes] | None:
        with self._lock:
            return self._children.get(handle.pid)

    def _reaped(self, handle: ProcessHandle, rc: int) -> ExitInfo:
        with self._lock:
            self._children.pop(handle.pid, None)
            info = self._exits[handle.pid] = ExitInfo(rc)
            return info

    def release(self, handle: ProcessHandle) -> None:
        with self._lock:
            self._exits.pop(handle.pid, None)

    def poll(self, handle: ProcessHandle) -> ExitInfo | None:
        with self._lock:
            if handle.pid in self._exits:
                return self._exits[handle.pid]
        child = self._child(handle)
        if child is not None:
            rc = child.poll()
            return None if rc is None else self._reaped(handle, rc)
        return None if _alive(handle) else ExitInfo(None)

    def wait(self, handle: ProcessHandle, timeout: float | None = None) -> ExitInfo | None:
        with self._lock:
            if handle.pid in self._exits:
                return self._exits[handle.pid]
        child = self._child(handle)
        if child is not None:
            try:
                rc = child.wait(timeout)
            except subprocess.TimeoutExpired:
                return None
            return self._reaped(handle, rc)
        deadline = None if timeout is None else time.monotonic() + timeout
        while _alive(handle):
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.05)
        return ExitInfo(None)

    def signal(self, handle: ProcessHandle, sig: int, *, group: bool = False) -> bool:
        try:
            if group:
                # The job led its own session, so its group id is its pid. The group
                # can outlive the leader (a killed runner leaves its script behind),
                # hence no liveness check of the leader here.
                os.killpg(handle.pid, sig)
            elif _alive(handle):
                os.kill(handle.pid, sig)
            else:
                return False
        except (ProcessLookupError, PermissionError):
            return False
        return True


def _alive(handle: ProcessHandle) -> bool:
    """True if the pid is running and is the very process we launched."""
    try:
        proc = psutil.Process(handle.pid)
        if abs(proc.create_time() - handle.create_time) > _CREATE_TIME_TOLERANCE:
            return False
        return proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
