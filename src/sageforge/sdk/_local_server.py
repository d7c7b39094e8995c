"""Finding, starting and stopping the local background server.

As `ray.init()` does, the SDK starts a server when none is reachable and
later sessions reuse it: its address is in `$SAGEFORGE_HOME/server.json`. A
file lock keeps two clients starting at once from launching two servers.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psutil

from sageforge.core.config import Settings
from sageforge.core.errors import ServerUnavailable

START_TIMEOUT_S = 30.0


def read_server_file(settings: Settings) -> dict[str, Any] | None:
    """The running server's announcement, if the file exists and parses."""
    try:
        return json.loads(settings.server_file.read_text())  # type: ignore[no-any-return]
    except (FileNotFoundError, ValueError):
        return None


def healthy(url: str, timeout: float = 2.0) -> dict[str, Any] | None:
    """The /health body of a server at `url`, or None."""
    try:
        resp = httpx.get(f"{url}/health", timeout=timeout, trust_env=False)
    except httpx.TransportError:
        return None
    return resp.json() if resp.status_code == 200 else None  # type: ignore[no-any-return]


def running_server(settings: Settings) -> dict[str, Any] | None:
    """server.json's content if the server it names answers, else None."""
    info = read_server_file(settings)
    if info and healthy(str(info["url"])):
        return info
    return None


@contextlib.contextmanager
def _start_lock(settings: Settings) -> Iterator[None]:
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / "server.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_server(settings: Settings) -> str:
    """The URL of a healthy local server, starting one in the background if needed."""
    info = running_server(settings)
    if info:
        return str(info["url"])
    with _start_lock(settings):
        info = running_server(settings)  # someone else may have started it meanwhile
        if info:
            return str(info["url"])
        return start_background(settings)


def start_background(settings: Settings, host: str = "127.0.0.1", port: int = 0) -> str:
    """Launch `sageforge server` detached, wait until it answers, return its URL."""
    settings.server_log.parent.mkdir(parents=True, exist_ok=True)
    old = read_server_file(settings)
    env = {**os.environ, "SAGEFORGE_HOME": str(settings.home)}
    argv = [sys.executable, "-m", "sageforge.cli", "server", "--host", host, "--port", str(port)]
    pid = _spawn_detached(argv, env, str(settings.server_log))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if not _running(pid):
            raise ServerUnavailable(
                f"the sageforge server exited at start-up; see {settings.server_log}"
            )
        info = read_server_file(settings)
        if info and info != old and info.get("pid") == pid and healthy(str(info["url"])):
            return str(info["url"])
        time.sleep(0.05)
    os.kill(pid, signal.SIGTERM)
    raise ServerUnavailable(
        f"the sageforge server did not start in time; see {settings.server_log}"
    )


def _spawn_detached(argv: list[str], env: dict[str, str], log_path: str) -> int:
    """Start `argv` as a daemon (double fork, new session); returns its pid.

    Not our child: it outlives this process, and never lingers as our zombie
    when someone else stops it.
    """
    read_end, write_end = os.pipe()
    middle = os.fork()
    if middle == 0:  # pragma: no cover - runs in the forked child
        try:
            os.close(read_end)
            os.setsid()
            daemon = os.fork()
            if daemon == 0:
                log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.closerange(3, 1024)
                os.execve(argv[0], argv, env)
            os.write(write_end, str(daemon).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        data = fh.read()
    os.waitpid(middle, 0)
    if not data:
        raise ServerUnavailable("could not start the sageforge server process")
    return int(data)


def stop_server(settings: Settings, timeout: float = 15.0) -> dict[str, Any] | None:
    """Stop the local server named in server.json; returns its info, or None if none ran."""
    info = read_server_file(settings)
    if not info:
        return None
    pid = int(info["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        settings.server_file.unlink(missing_ok=True)
        return None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.05)
    if _running(pid):
        os.kill(pid, signal.SIGKILL)
    settings.server_file.unlink(missing_ok=True)
    return info


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
