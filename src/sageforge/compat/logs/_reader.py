"""A log file as CloudWatch log events: one event per line, with a timestamp each.

Job logs are plain text; sageforge's own lines start with a UTC time stamp
("2026-11-23 12:11:16 [sageforge] Training in progress") and user output
usually does not. A line's timestamp is its own stamp when it has one, else
that of the line before (the first falls back on the stream's start time), and
never earlier than the one before: events stay in order, and the same file
always yields the same timestamps, which the SageMaker SDK's tailing relies on
(it resumes from the last timestamp it saw, skipping events it already printed).

Files only grow, so each is parsed once: `LogFileIndex` keeps the events read
so far per path and parses only the bytes appended since.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

_STAMP = re.compile(rb"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:[.,](\d{1,6}))?")
_MAX_EVENT_BYTES = 256 * 1024
"""CloudWatch caps an event at 256 KiB; longer lines are cut there."""


@dataclass
class ParsedLog:
    """The complete lines of a file parsed so far: messages and their timestamps (ms)."""

    base_ms: int
    offset: int = 0
    size_seen: int = 0
    messages: list[str] = field(default_factory=list)
    timestamps: list[int] = field(default_factory=list)
    byte_counts: list[int] = field(default_factory=list)
    tail: str | None = None
    """A last line without its newline yet (only shown once the writer is done)."""

    @property
    def last_ms(self) -> int:
        return self.timestamps[-1] if self.timestamps else self.base_ms


def _stamp_ms(line: bytes) -> int | None:
    match = _STAMP.match(line)
    if match is None:
        return None
    try:
        when = datetime.strptime(
            f"{match.group(1).decode()} {match.group(2).decode()}", "%Y-%m-%d %H:%M:%S"
        ).replace(tzinfo=UTC)
    except ValueError:
        return None
    frac = match.group(3)
    millis = int(frac.decode().ljust(6, "0")[:3]) if frac else 0
    return int(when.timestamp() * 1000) + millis


class LogFileIndex:
    """Parsed log files by path, extended incrementally as they grow."""

    def __init__(self, max_files: int = 256) -> None:
        self._files: dict[Path, ParsedLog] = {}
        self._lock = threading.Lock()
        self._max_files = max_files

    def read(self, path: Path, base_ms: int) -> ParsedLog:
        """The file's events up to its current end (empty if it does not exist)."""
        with self._lock:
            parsed = self._files.get(path)
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                return ParsedLog(base_ms=base_ms)
            if parsed is None or size < parsed.size_seen or parsed.base_ms != base_ms:
                parsed = ParsedLog(base_ms=base_ms)  # new, truncated or re-created: start over
            if size > parsed.offset:
                _extend(parsed, path, size)
            parsed.size_seen = size
            self._files[path] = parsed
            if len(self._files) > self._max_files:
                self._files.pop(next(iter(self._files)))
            return parsed


def _extend(parsed: ParsedLog, path: Path, size: int) -> None:
    with open(path, "rb") as fh:
        fh.seek(parsed.offset)
        chunk = fh.read(size - parsed.offset)
    cut = chunk.rfind(b"\n")
    complete, rest = (chunk[: cut + 1], chunk[cut + 1 :]) if cut >= 0 else (b"", chunk)
    last = parsed.last_ms
    for raw in complete.splitlines():
        stamp = _stamp_ms(raw)
        if stamp is not None and stamp > last:
            last = stamp
        parsed.messages.append(raw[:_MAX_EVENT_BYTES].decode("utf-8", errors="replace"))
        parsed.timestamps.append(last)
        parsed.byte_counts.append(len(raw) + 1)
    parsed.offset += len(complete)
    parsed.tail = rest.decode("utf-8", errors="replace") if rest else None
