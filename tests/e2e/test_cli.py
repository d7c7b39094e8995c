"""The `sageforge` command against a real server: what a user reads in the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def run(server, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SAGEFORGE_HOME": str(server.home),
        "SAGEFORGE_URL": server.url,
        "COLUMNS": "200",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "sageforge.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_train_script_then_inspect_it(server, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        "import sys\nfor i in range(3):\n    print(f'acc={0.5 + i / 10}', flush=True)\n"
    )
    out = run(
        server,
        "train",
        "script",
        str(script),
        "--name",
        "cli-job",
        "--hp",
        "epochs=3",
        "--metric",
        "acc=acc=([0-9.]+)",
    ).stdout
    assert "Completed" in out and "metric acc" in out and "0.7" in out
    assert "store://training-jobs/cli-job/output/model.tar.gz" in out

    listing = run(server, "jobs", "list").stdout
    assert "cli-job" in listing and "training" in listing
    described = run(server, "jobs", "describe", "cli-job").stdout
    assert "Downloading" in described and "Uploading" in described
    logs = run(server, "jobs", "logs", "cli-job").stdout
    assert "acc=0.7" in logs


def test_errors_are_one_line(server, tmp_path: Path) -> None:
    proc = run(server, "jobs", "describe", "no-such-job", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: no training or processing job named 'no-such-job'"
    ]
    assert "Traceback" not in proc.stderr

    script = tmp_path / "t.py"
    script.write_text("print(1)\n")
    proc = run(server, "train", "script", str(script), "--name", "bad name", check=False)
    assert proc.returncode == 1
    assert "training_job_name" in proc.stderr and "Traceback" not in proc.stderr


def test_failed_job_exits_nonzero_with_reason(server, tmp_path: Path) -> None:
    script = tmp_path / "t.py"
    script.write_text("raise KeyError('label')\n")
    proc = run(server, "train", "script", str(script), "--name", "cli-fail", check=False)
    assert proc.returncode == 1
    assert "Failed" in proc.stdout and "KeyError" in proc.stdout


def test_config_shows_sources(server) -> None:
    out = run(server, "config").stdout
    assert "env SAGEFORGE_HOME" in out and "env SAGEFORGE_URL" in out


def test_server_status_start_stop(tmp_path: Path) -> None:
    env = {**os.environ, "SAGEFORGE_HOME": str(tmp_path / "h"), "COLUMNS": "200"}
    env.pop("SAGEFORGE_URL", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sageforge.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert cli("server", "status").returncode == 3
    started = cli("server", "start")
    assert started.returncode == 0 and "started at http://127.0.0.1:" in started.stdout
    status = cli("server", "status")
    assert status.returncode == 0 and "running" in status.stdout
    assert "already running" in cli("server", "start").stdout
    assert "stopped the server" in cli("server", "stop").stdout
    assert cli("server", "status").returncode == 3
