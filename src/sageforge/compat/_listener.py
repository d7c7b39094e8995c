"""Serving the AWS-compatible API next to the native one, in the same process.

One uvicorn server listens on two sockets; `PortRouter` sends each connection
to the native FastAPI app or to the compat app by the local port it arrived
on. Both share the one `Platform` the native app's lifespan builds, so a job
created through boto3 is the same row the native API lists.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sageforge.core.config import Settings

AWS_PORT_ENV = "SAGEFORGE_AWS_PORT"
OFF = -1
"""`--aws-port -1` (or SAGEFORGE_AWS_PORT=-1): no AWS-compatible listener."""

log = logging.getLogger("sageforge.compat")


def resolve_aws_port(settings: Settings, native_port: int, given: int | None) -> int:
    """The port to bind for the AWS API: the option, `SAGEFORGE_AWS_PORT`, config key
    `aws_port`, else the native port + 1 (a free port when the native one is 0)."""
    if given is not None:
        return _checked(given, "--aws-port")
    env = os.environ.get(AWS_PORT_ENV, "").strip()
    if env:
        try:
            return _checked(int(env), AWS_PORT_ENV)
        except ValueError:
            raise SystemExit(f"{AWS_PORT_ENV}={env!r} is not a port number") from None
    config_path = settings.home / "config.toml"
    if config_path.is_file():
        with config_path.open("rb") as fh:
            value = tomllib.load(fh).get("aws_port")
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise SystemExit(f"{config_path}: aws_port must be an integer, got {value!r}")
            return _checked(value, f"aws_port in {config_path}")
    return 0 if native_port == 0 else native_port + 1


def _checked(port: int, source: str) -> int:
    if port != OFF and not 0 <= port <= 65535:
        raise SystemExit(f"{source}: {port} is not a port (0-65535, or -1 for none)")
    return port


class PortRouter:
    """Route HTTP by the local port; lifespan goes to the native app, then `on_started` runs."""

    def __init__(
        self,
        native: ASGIApp,
        by_port: dict[int, ASGIApp],
        on_started: Callable[[], None] | None = None,
    ) -> None:
        self.native = native
        self.by_port = by_port
        self.on_started = on_started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.native(scope, receive, self._lifespan_send(send))
            return
        server: Any = scope.get("server")
        app = self.by_port.get(server[1]) if server else None
        await (app or self.native)(scope, receive, send)

    def _lifespan_send(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete" and self.on_started is not None:
                try:
                    self.on_started()
                except Exception as exc:
                    log.exception("the AWS-compatible API failed to start")
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
            await send(message)

        return wrapped


def with_aws_listener(native: Any, aws_port: int) -> PortRouter:
    """The native FastAPI app plus the compat app on `aws_port`, sharing its Platform.

    The default access key is created once the native lifespan has built the Platform
    (first start of a fresh home), before either socket answers a request.
    """
    from sageforge.compat._app import CompatApp
    from sageforge.compat._keys import ensure_default_key

    def platform() -> Any:
        return native.state.platform

    def started() -> None:
        ensure_default_key(platform().db)

    return PortRouter(native, {aws_port: CompatApp(platform)}, on_started=started)
