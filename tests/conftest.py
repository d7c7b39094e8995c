"""Shared fixtures: an isolated SAGEFORGE_HOME, and real servers in child processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from sageforge.core.config import Settings
from sageforge.sdk import Session


class RunningServer:
    """A real `sageforge server` process on 127.0.0.1 with its own home folder."""

    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self._sessions: list[Session] = []

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SAGEFORGE_HOME": str(self.home),
            "SAGEFORGE_STOP_GRACE_SECONDS": "3",
            **self.extra_env,
        }

    def start(self, timeout: float = 30.0) -> RunningServer:
        server_file = self.home / "server.json"
        server_file.unlink(missing_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / "server-test.log", "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sageforge.cli",
                    "server",
                    "--port",
                    "0",
                    "--log-level",
                    "warning",
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(self.home / 'server-test.log').read_text()}")
            try:
                info = json.loads(server_file.read_text())
                if info["pid"] == self.proc.pid:
                    self.url = info["url"]
                    if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                        return self
            except (FileNotFoundError, ValueError, httpx.TransportError):
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not start")

    def session(self) -> Session:
        """A client of this server; closed when the server is stopped."""
        s = Session(self.url, settings=Settings.load({"SAGEFORGE_HOME": str(self.home)}))
        self._sessions.append(s)
        return s

    def stop(self, sig: int = signal.SIGTERM) -> None:
        for s in self._sessions:
            s.close()
        self._sessions.clear()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill_jobs(self) -> None:
        """Kill any job or endpoint worker process still running under this home (tests must not leak them)."""
        dirs = (str(self.home / "jobs"), str(self.home / "endpoints"))
        for p in psutil.process_iter(["cmdline"]):
            cmd = p.info.get("cmdline") or []
            if any(d in part for part in cmd for d in dirs):
                with contextlib.suppress(psutil.NoSuchProcess):
                    p.kill()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty SAGEFORGE_HOME for this test, set in the environment."""
    h = tmp_path / "home"
    monkeypatch.setenv("SAGEFORGE_HOME", str(h))
    for var in ("SAGEFORGE_URL", "SAGEFORGE_DB_URL", "SAGEFORGE_STORE_URL"):
        monkeypatch.delenv(var, raising=False)
    return h


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One real server per test module."""
    srv = RunningServer(tmp_path_factory.mktemp("server") / "home").start()
    yield srv
    srv.stop()
    srv.kill_jobs()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A real server of this test's own (for tests that restart or kill it)."""
    srv = RunningServer(tmp_path / "home").start()
    yield srv
    srv.stop()
    srv.kill_jobs()


@pytest.fixture(scope="module")
def session(server: RunningServer) -> Session:
    return server.session()


# -- deployment (sageforge.deploy) ------------------------------------------------------------


class TinyXGBoost:
    """A small XGBoost model uploaded to a server's store, and the Booster to check answers."""

    FEATURES = 4

    def __init__(
        self, session: Session, key: str = "models/tiny/model.tar.gz", seed: int = 0
    ) -> None:
        import io
        import tarfile
        import tempfile

        import numpy as np
        import xgboost

        rng = np.random.default_rng(seed)
        X = rng.normal(size=(400, self.FEATURES)).astype(np.float32)
        y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(np.float32)
        self.booster = xgboost.train(
            {"objective": "binary:logistic", "max_depth": 3}, xgboost.DMatrix(X, label=y), 8 + seed
        )
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "xgboost-model"
            self.booster.save_model(str(path.with_suffix(".ubj")))
            path.with_suffix(".ubj").rename(path)
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz") as tar:
                tar.add(path, arcname="xgboost-model")
        self.url = session.upload_bytes(buf.getvalue(), key)

    def scores(self, rows: object) -> object:
        import numpy as np

        return self.booster.inplace_predict(np.asarray(rows, dtype=np.float32))


@pytest.fixture(scope="module")
def tiny_xgboost(session: Session) -> TinyXGBoost:
    """A small XGBoost model.tar.gz in the module server's store."""
    return TinyXGBoost(session)


@pytest.fixture(scope="module")
def make_tiny_xgboost(session: Session) -> object:
    """Another small XGBoost model (a different seed gives different answers)."""

    def make(key: str, seed: int) -> TinyXGBoost:
        return TinyXGBoost(session, key=key, seed=seed)

    return make
