"""Fixtures for the compat layer: the SageMaker SDK's own virtualenv, and AWS settings of a server.

The real SageMaker Python SDK v2 pins its own dependency versions, so it lives in a
virtualenv of its own (`.venv-compat` beside `.venv`), built here on first use with `uv`
and reused while its requirements stay the same. Parallel pytest runs share one build: a
file lock around the check-and-build keeps them from racing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPAT_VENV = Path(os.environ.get("SAGEFORGE_COMPAT_VENV", REPO / ".venv-compat"))
SDK_SCRIPTS = Path(__file__).resolve().parent / "sdk"

# What a SageMaker user's notebook environment holds: the SDK (which brings boto3, numpy,
# pandas), and scikit-learn to make example data. Changing this list rebuilds the venv.
COMPAT_REQUIREMENTS = ("sagemaker>=2.200,<3", "boto3", "scikit-learn")


def _uv() -> str:
    """uv from the main virtualenv (the Makefile installs it there), else from PATH."""
    local = Path(sys.executable).with_name("uv")
    return str(local) if local.exists() else "uv"


def _stamp() -> str:
    return json.dumps({"python": sys.version.split()[0], "requirements": COMPAT_REQUIREMENTS})


def ensure_compat_venv(say: Any = print) -> Path:
    """The compat venv's python, built (or rebuilt when stale) under an exclusive file lock."""
    python = COMPAT_VENV / "bin" / "python"
    stamp_file = COMPAT_VENV / ".sageforge-requirements"
    lock_path = COMPAT_VENV.with_name(COMPAT_VENV.name + ".lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if python.exists() and stamp_file.exists() and stamp_file.read_text() == _stamp():
                say(f"compat venv: reusing {COMPAT_VENV}")
                return python
            t0 = time.perf_counter()
            uv = _uv()
            # --clear so a half-built or stale venv from an interrupted run never lingers.
            subprocess.run(
                [uv, "venv", "--quiet", "--clear", "--python", sys.executable, str(COMPAT_VENV)],
                check=True,
            )
            subprocess.run(
                # Precompiled: each SDK script is a fresh process importing the SDK.
                [
                    *(uv, "pip", "install", "--quiet", "--compile-bytecode"),
                    *("--python", str(python), *COMPAT_REQUIREMENTS),
                ],
                check=True,
            )
            stamp_file.write_text(_stamp())
            say(f"compat venv: built {COMPAT_VENV} in {time.perf_counter() - t0:.1f}s")
            return python
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def compat_python(request: pytest.FixtureRequest) -> Path:
    """`.venv-compat/bin/python`: real boto3 and the real SageMaker SDK v2, outside our env."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    reporter = request.config.pluginmanager.getplugin("terminalreporter")

    def say(line: str) -> None:
        if reporter is not None:
            reporter.write_line(line)

    ctx = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
    with ctx:
        return ensure_compat_venv(say)


@dataclass
class AwsServer:
    """A running sageforge server seen as AWS: its AWS address and `sageforge aws-env` exports."""

    home: Path
    native_url: str
    aws_url: str
    exports: dict[str, str]


def aws_env_exports(home: Path) -> dict[str, str]:
    """Run `sageforge aws-env` for this home and parse its `export NAME=value` lines."""
    env = {**os.environ, "SAGEFORGE_HOME": str(home)}
    env.pop("SAGEFORGE_URL", None)
    out = subprocess.run(
        [sys.executable, "-m", "sageforge.cli", "aws-env"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, f"sageforge aws-env failed:\n{out.stdout}\n{out.stderr}"
    exports: dict[str, str] = {}
    for line in out.stdout.splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, value = words[1].split("=", 1)
            exports[name] = value
    assert "AWS_ENDPOINT_URL_SAGEMAKER" in exports, out.stdout
    return exports


@pytest.fixture(scope="module")
def aws_server(server: Any) -> AwsServer:
    """The module's real server, with the environment a user would `eval $(sageforge aws-env)`."""
    info = json.loads((server.home / "server.json").read_text())
    return AwsServer(server.home, server.url, info["aws_url"], aws_env_exports(server.home))


def user_env(aws: AwsServer, home: Path) -> dict[str, str]:
    """A clean shell for user code: no AWS settings of ours leak in, only aws-env's exports.

    HOME points at an empty folder so ~/.aws and ~/.config/sagemaker of whoever runs the
    tests cannot change what the SDK does.
    """
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(aws.exports)
    return env


@dataclass
class ScriptRun:
    """What a client script printed; `result` is the JSON of its last `RESULT {...}` line."""

    stdout: str
    stderr: str
    seconds: float
    result: dict[str, Any]


@pytest.fixture
def run_sdk_script(compat_python: Path, aws_server: AwsServer, tmp_path: Path) -> Iterator[Any]:
    """Run `tests/compat/sdk/<name>` with the compat venv's python, as a user would."""

    def run(name: str, *args: str, timeout: float = 600) -> ScriptRun:
        env = user_env(aws_server, tmp_path / "user-home")
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(compat_python), str(SDK_SCRIPTS / name), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        seconds = time.perf_counter() - t0
        log = f"--- stdout\n{proc.stdout[-8000:]}\n--- stderr\n{proc.stderr[-12000:]}"
        assert proc.returncode == 0, f"{name} exited {proc.returncode}\n{log}"
        # Not startswith: the SDK's progress dots ("---!") may end without a newline.
        results = [ln for ln in proc.stdout.splitlines() if "RESULT {" in ln]
        assert results, f"{name} printed no RESULT line\n{log}"
        result = json.loads(results[-1].split("RESULT ", 1)[1])
        return ScriptRun(proc.stdout, proc.stderr, seconds, result)

    yield run


class Boto3Clients:
    """Real boto3 clients on a server's AWS-compatible address, signed with its default key."""

    def __init__(self, home: Path) -> None:
        from sageforge.compat._keys import default_credentials
        from sageforge.core.config import Settings

        self.url: str = json.loads((home / "server.json").read_text())["aws_url"]
        self.key, self.secret = default_credentials(Settings.load({"SAGEFORGE_HOME": str(home)}))

    def __call__(self, service: str, region: str) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            config=Config(retries={"max_attempts": 1}),
        )


@pytest.fixture(scope="module")
def boto3_clients(server: Any) -> Boto3Clients:
    """`boto3_clients("sagemaker", region)` for the module's server."""
    return Boto3Clients(server.home)
