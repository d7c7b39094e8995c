"""An endpoint worker process: `python -m sageforge.deploy._worker <worker.json>`.

The supervisor binds the endpoint's and the variant's sockets and hands them
down as inherited file descriptors, so every worker of an endpoint accepts on
the same queue: a worker that dies or drains leaves pending connections to its
siblings instead of refusing them, and a restarted worker picks up where it
left off on the same port. The model is loaded before the worker takes any
connection; `ready.json` (pid, control port) tells the supervisor it is up.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any


def _uvicorn_config(app: Any) -> Any:
    import uvicorn

    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        loop = "asyncio"
    try:
        import httptools  # noqa: F401

        http = "httptools"
    except ImportError:  # pragma: no cover
        http = "h11"
    return uvicorn.Config(
        app,
        loop=loop,
        http=http,
        lifespan="on",
        access_log=False,
        log_level=os.environ.get("SAGEFORGE_WORKER_LOG_LEVEL", "warning"),
        timeout_keep_alive=75,
        timeout_graceful_shutdown=int(os.environ.get("SAGEFORGE_WORKER_GRACE_SECONDS", "10")),
        backlog=2048,
    )


def main(argv: list[str]) -> int:
    """Load the model, then serve; see the module docstring."""
    import uvicorn

    from sageforge.core.jobs._layout import write_json_atomic
    from sageforge.core.store import ArtifactStore
    from sageforge.deploy._capture import CaptureWriter
    from sageforge.deploy._dataplane import DataPlane
    from sageforge.deploy._handler import build_handler

    cfg_path = Path(argv[0])
    cfg: dict[str, Any] = json.loads(cfg_path.read_text())
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    workdir = Path(cfg["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    store = ArtifactStore(cfg["store_url"])
    for key, value in (cfg.get("environment") or {}).items():
        os.environ.setdefault(key, value)
    handler = build_handler(store, cfg["containers"], workdir)

    sockets: list[socket.socket] = []
    endpoint_port = variant_port = None
    if cfg.get("endpoint_fd") is not None:
        s = socket.socket(fileno=int(cfg["endpoint_fd"]))
        endpoint_port = s.getsockname()[1]
        sockets.append(s)
    if cfg.get("variant_fd") is not None:
        s = socket.socket(fileno=int(cfg["variant_fd"]))
        variant_port = s.getsockname()[1]
        sockets.append(s)
    control = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    control.bind(("127.0.0.1", 0))
    control.listen(128)
    sockets.append(control)
    control_port = control.getsockname()[1]

    capture = None
    if cfg.get("capture"):
        c = cfg["capture"]
        capture = CaptureWriter(
            store,
            c["destination"],
            cfg["endpoint"],
            cfg["variant"],
            sampling_percentage=c["sampling_percentage"],
            capture_input=c["capture_input"],
            capture_output=c["capture_output"],
            csv_types=c["csv_types"],
            json_types=c["json_types"],
        )

    def announce() -> None:
        write_json_atomic(
            Path(cfg["ready_file"]), {"pid": os.getpid(), "control_port": control_port}
        )

    app = DataPlane(
        endpoint=cfg["endpoint"],
        variant=cfg["variant"],
        fleet=cfg["fleet"],
        handler=handler,
        routing=cfg.get("routing") or {},
        capture=capture,
        endpoint_port=endpoint_port,
        variant_port=variant_port,
        control_port=control_port,
        on_startup=announce,
        max_concurrency=cfg.get("max_concurrency"),
    )
    server = uvicorn.Server(_uvicorn_config(app))
    app.server = server
    print(
        f"worker {cfg['endpoint']}/{cfg['variant']} (fleet {cfg['fleet']}) pid {os.getpid()} "
        f"serving on ports {endpoint_port}, {variant_port}; control {control_port}",
        flush=True,
    )
    server.run(sockets=sockets)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
