"""Executor conformance: every back end launches, watches, signals and reaps alike."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from sageforge.core.executor import Executor, LocalExecutor


@pytest.fixture(params=["local"])
def executor(request: pytest.FixtureRequest) -> Executor:
    return LocalExecutor()


def launch(executor: Executor, tmp_path: Path, code: str):
    return executor.launch(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        log_path=tmp_path / "log.txt",
    )


def test_exit_code_and_log(executor: Executor, tmp_path: Path) -> None:
    h = launch(executor, tmp_path, "print('hello'); raise SystemExit(3)")
    info = executor.wait(h, timeout=30)
    assert info is not None and info.returncode == 3
    assert executor.poll(h) == info  # asking again gives the same answer
    assert (tmp_path / "log.txt").read_text().strip() == "hello"


def test_signal_and_kill_the_group(executor: Executor, tmp_path: Path) -> None:
    h = launch(executor, tmp_path, "import time; time.sleep(60)")
    assert executor.poll(h) is None
    assert executor.wait(h, timeout=0.1) is None
    assert executor.signal(h, signal.SIGKILL, group=True)
    info = executor.wait(h, timeout=30)
    assert info is not None and info.signal == signal.SIGKILL
    assert not executor.signal(h, signal.SIGTERM)


def test_recycled_pid_is_not_our_process(executor: Executor, tmp_path: Path) -> None:
    from sageforge.core.executor import ProcessHandle

    h = launch(executor, tmp_path, "import time; time.sleep(60)")
    imposter = ProcessHandle(h.pid, h.create_time - 1000)
    fresh = LocalExecutor()  # a restarted server: the process is not its child
    assert fresh.poll(imposter) is not None
    assert fresh.poll(h) is None
    executor.signal(h, signal.SIGKILL, group=True)
    executor.wait(h, timeout=30)
