"""Running the control plane: bind, announce in server.json, serve, clean up.

The socket is bound before uvicorn starts so that port 0 (pick a free port)
works and server.json always names the real address; clients read that file
to find a running local server.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path

import uvicorn

from sageforge.api.app import create_app
from sageforge.core.config import Settings


def serve(
    host: str, port: int, settings: Settings | None = None, *, log_level: str = "info"
) -> None:
    """Serve until SIGINT/SIGTERM; running jobs keep going and are re-adopted on the next start."""
    settings = settings or Settings.load()
    settings.home.mkdir(parents=True, exist_ok=True)
    # Jobs inherit this: a tuning job finds the server (and its new port after a
    # restart) through $SAGEFORGE_HOME/server.json.
    os.environ["SAGEFORGE_HOME"] = str(settings.home)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    bound_port = sock.getsockname()[1]
    url = f"http://{host if ':' not in host else f'[{host}]'}:{bound_port}"
    config = uvicorn.Config(
        create_app(settings), log_level=log_level, access_log=False, timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    info = {
        "pid": os.getpid(),
        "url": url,
        "host": host,
        "port": bound_port,
        "started": time.time(),
    }
    write_server_file(settings.server_file, info)
    logging.getLogger("sageforge").info("sageforge server listening on %s", url)
    print(f"sageforge server listening on {url} (home {settings.home})", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        remove_server_file(settings.server_file, os.getpid())


def write_server_file(path: Path, info: dict[str, object]) -> None:
    """Announce the server atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, path)


def remove_server_file(path: Path, pid: int) -> None:
    """Remove server.json if it is still ours (another server may have replaced it)."""
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (FileNotFoundError, ValueError):
        pass
