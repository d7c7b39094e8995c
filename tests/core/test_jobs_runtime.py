"""The job process's parts: events channel, user process supervision, error lines."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sageforge.core.jobs._events import EventWriter, read_events
from sageforge.core.jobs._process import MetricRule, StopSignal, last_error_line, run_user_process


def test_events_are_read_whole_and_once(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    w = EventWriter(path)
    w.status("Downloading", "x")
    w.metric("loss", 0.5, 0)
    events, offset = read_events(path, 0)
    assert [e["type"] for e in events] == ["status", "metric"]
    with open(path, "ab") as fh:
        fh.write(b'{"type": "metric", "na')  # a torn line is not read yet
    more, offset2 = read_events(path, offset)
    assert more == [] and offset2 == offset
    w.close()


def test_last_error_line() -> None:
    log = [
        "starting",
        "Traceback (most recent call last):",
        '  File "x.py", line 1',
        "    boom()",
        "ValueError: bad",
        "",
    ]
    assert last_error_line(log) == "ValueError: bad"
    assert last_error_line(["just a message", ""]) == "just a message"
    assert last_error_line([]) is None


def run(tmp_path: Path, code: str, **kw):
    events = EventWriter(tmp_path / "events.jsonl")
    out = run_user_process(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        log_path=tmp_path / "out.log",
        events=events,
        metrics=MetricRule.compile([{"name": "acc", "regex": r"acc=([0-9.]+)"}]),
        stop=kw.pop("stop", StopSignal()),
        max_runtime_s=kw.pop("max_runtime_s", None),
        grace_s=kw.pop("grace_s", 5),
    )
    events.close()
    return out, read_events(tmp_path / "events.jsonl", 0)[0]


def test_metrics_and_log(tmp_path: Path) -> None:
    out, events = run(tmp_path, "for i in range(3): print(f'acc={i/10}')")
    assert out.succeeded
    assert [(e["value"], e["step"]) for e in events] == [(0.0, 0), (0.1, 1), (0.2, 2)]
    assert (tmp_path / "out.log").read_text().splitlines() == ["acc=0.0", "acc=0.1", "acc=0.2"]


def test_max_runtime_terminates_then_kills(tmp_path: Path) -> None:
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('up', flush=True)\ntime.sleep(60)"
    start = time.monotonic()
    out, _ = run(tmp_path, code, max_runtime_s=0.5, grace_s=0.5)
    assert out.stop_reason == "max_runtime"
    assert out.returncode == -9  # ignored SIGTERM, so SIGKILL after the grace period
    assert time.monotonic() - start < 10


def test_stop_signal(tmp_path: Path) -> None:
    stop = StopSignal()
    stop.set("user")
    out, _ = run(tmp_path, "import time; time.sleep(60)", stop=stop)
    assert out.stop_reason == "user" and out.returncode == -15
