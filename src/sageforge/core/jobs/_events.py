"""The runner's side channel to the server: an append-only JSON-lines file.

A file, not an HTTP call, because the server may be down or restarting while a
job runs; the server reads from the offset it last reached, so no event is lost
or applied twice, and a re-adopting server simply catches up. Each line is
written whole with one `write` on an O_APPEND descriptor and flushed, so a
reader sees complete lines or nothing; a partial trailing line is left for the
next read.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any


class EventWriter:
    """Appends events; thread-safe (the log reader thread emits metrics)."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._lock = threading.Lock()

    def emit(self, type_: str, **fields: Any) -> None:
        """Write one event with a timestamp."""
        line = json.dumps({"type": type_, "t": time.time(), **fields}, default=str) + "\n"
        with self._lock:
            os.write(self._fd, line.encode("utf-8"))

    def status(self, secondary: str, message: str = "") -> None:
        """A secondary-status transition (Downloading, Training, Uploading …)."""
        self.emit("status", secondary=secondary, message=message)

    def metric(self, name: str, value: float, step: int, t: float | None = None) -> None:
        """One metric observation."""
        self.emit("metric", name=name, value=value, step=step, **({"ts": t} if t else {}))

    def close(self) -> None:
        with self._lock:
            os.close(self._fd)


def read_events(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Complete events after byte `offset`, and the offset to continue from."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            chunk = fh.read()
    except FileNotFoundError:
        return [], offset
    end = chunk.rfind(b"\n")
    if end < 0:
        return [], offset
    events = []
    for raw in chunk[: end + 1].splitlines():
        if raw.strip():
            try:
                events.append(json.loads(raw))
            except json.JSONDecodeError:
                continue  # a torn line from a killed writer; skip it, never stall
    return events, offset + end + 1
