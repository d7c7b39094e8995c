"""Running the user's command inside a job: log capture, metrics, stop and timeout.

This runs in the job's runner process, never in the server. The user's
command is a child of the runner in the same process group, so the server's
last-resort SIGKILL of the group reaches it even if the runner itself dies.
Stopping (by the user or by MaxRuntimeInSeconds) is SageMaker's: SIGTERM to the
user's processes, a grace period to save the model, then SIGKILL.
"""

from __future__ import annotations

import collections
import contextlib
import re
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import psutil

from sageforge.core.jobs._events import EventWriter

TAIL_LINES = 60
_POLL_S = 0.05


@dataclass(frozen=True)
class MetricRule:
    """A metric definition compiled: the regex's first group is the value."""

    name: str
    pattern: re.Pattern[str]

    @classmethod
    def compile(cls, definitions: Sequence[Mapping[str, str]]) -> list[MetricRule]:
        """Compile `[{"name", "regex"}]` (already validated by the service)."""
        return [cls(d["name"], re.compile(d["regex"])) for d in definitions]


class StopSignal:
    """Set once when the job must stop; remembers why ("user" or "max_runtime")."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None) -> bool:
        return self._event.wait(timeout)


@dataclass
class ProcessOutcome:
    """How the user's command ended."""

    returncode: int
    stop_reason: str | None
    tail: list[str] = field(default_factory=list)
    command: str = ""

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0 and self.stop_reason is None

    def error_message(self) -> str:
        """The exception the command died of, taken from its output."""
        return last_error_line(self.tail) or f"the command exited with code {self.returncode}"


def last_error_line(lines: Sequence[str]) -> str | None:
    """The final line of the last Python traceback in `lines`, else the last non-blank line."""
    last_tb = max((i for i, line in enumerate(lines) if line.startswith("Traceback (")), default=-1)
    candidates = lines[last_tb + 1 :] if last_tb >= 0 else lines
    for line in reversed(candidates):
        text = line.rstrip()
        if text and (last_tb < 0 or not text.startswith((" ", "\t"))):
            return text
    return None


def run_user_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
    events: EventWriter,
    metrics: Sequence[MetricRule],
    stop: StopSignal,
    max_runtime_s: float | None,
    grace_s: float,
) -> ProcessOutcome:
    """Run `argv` to the end, a stop, or the runtime limit; see the module docstring."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    deadline = None if max_runtime_s is None else time.monotonic() + max_runtime_s
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    with open(log_path, "ab", buffering=0) as log:
        proc = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=str(cwd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            bufsize=0,
        )
        assert proc.stdout is not None
        reader = threading.Thread(
            target=_pump, args=(proc.stdout, log, tail, metrics, events), daemon=True
        )
        reader.start()
        while True:
            try:
                proc.wait(timeout=_POLL_S)  # returns the moment the command exits
                break
            except subprocess.TimeoutExpired:
                pass
            if deadline is not None and time.monotonic() >= deadline:
                stop.set("max_runtime")
            if stop.is_set():
                _terminate(proc, grace_s)
                break
        proc.wait()
        reader.join(timeout=5)
        proc.stdout.close()
    return ProcessOutcome(
        returncode=proc.returncode,
        stop_reason=stop.reason if stop.is_set() else None,
        tail=list(tail),
        command=" ".join(argv),
    )


def _pump(
    stream: BinaryIO,
    log: BinaryIO,
    tail: collections.deque[str],
    metrics: Sequence[MetricRule],
    events: EventWriter,
) -> None:
    """Copy the command's output to the log line by line, scraping metrics as it goes."""
    steps: dict[str, int] = {}
    for raw in iter(stream.readline, b""):
        log.write(raw)
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        tail.append(text)
        for rule in metrics:
            m = rule.pattern.search(text)
            if not m or not m.groups():
                continue
            try:
                value = float(m.group(1))
            except (TypeError, ValueError):
                continue
            step = steps.get(rule.name, 0)
            steps[rule.name] = step + 1
            events.metric(rule.name, value, step)


def _terminate(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM the command and everything it started; SIGKILL what is left after `grace_s`.

    The direct child is waited for through Popen, never psutil: psutil would reap
    it behind Popen's back and Popen would then report exit code 0.
    """
    descendants = _family(proc.pid)[1:]
    _send_pid(proc, signal.SIGTERM)
    for p in descendants:
        _send(p, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        descendants += _family(proc.pid)[1:]
        _send_pid(proc, signal.SIGKILL)
    for p in descendants:
        _send(p, signal.SIGKILL)


def _send_pid(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)


def _family(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _send(p: psutil.Process, sig: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        p.send_signal(sig)
