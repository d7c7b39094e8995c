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
    host: str,
    port: int,
    settings: Settings | None = None,
    *,
    log_level: str = "info",
    aws_port: int | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM; running jobs keep going and are re-adopted on the next start.

    `aws_port` binds the AWS-compatible API too (see `sageforge.compat`); None resolves it
    from SAGEFORGE_AWS_PORT / config (default: port + 1, or a free port when port is 0),
    -1 turns it off.
    """
    settings = settings or Settings.load()
    settings.home.mkdir(parents=True, exist_ok=True)
    # Jobs inherit this: a tuning job finds the server (and its new port after a
    # restart) through $SAGEFORGE_HOME/server.json.
    os.environ["SAGEFORGE_HOME"] = str(settings.home)
    from sageforge.compat._listener import OFF, resolve_aws_port, with_aws_listener

    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    url = _url(host, bound_port)
    app = create_app(settings)
    sockets = [sock]
    info: dict[str, object] = {
        "pid": os.getpid(),
        "url": url,
        "host": host,
        "port": bound_port,
        "started": time.time(),
    }
    aws_port = resolve_aws_port(settings, port, aws_port)
    aws_url = None
    asgi: object = app
    if aws_port != OFF:  # the AWS-compatible API: same process, same Platform, own socket
        aws_sock = _bind(host, aws_port, what="the AWS-compatible API (--aws-port)")
        sockets.append(aws_sock)
        aws_url = _url(host, aws_sock.getsockname()[1])
        asgi = with_aws_listener(app, aws_sock.getsockname()[1])
        info["aws_url"] = aws_url
    config = uvicorn.Config(
        asgi,  # type: ignore[arg-type]
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    write_server_file(settings.server_file, info)
    logging.getLogger("sageforge").info("sageforge server listening on %s", url)
    print(f"sageforge server listening on {url} (home {settings.home})", flush=True)
    if aws_url:
        print(f"AWS-compatible API on {aws_url}", flush=True)
    try:
        server.run(sockets=sockets)
    finally:
        remove_server_file(settings.server_file, os.getpid())


def _url(host: str, port: int) -> str:
    return f"http://{host if ':' not in host else f'[{host}]'}:{port}"


def _bind(host: str, port: int, what: str = "the server") -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"cannot bind {what} to {host}:{port}: {exc.strerror}") from exc
    sock.listen(2048)
    return sock


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
