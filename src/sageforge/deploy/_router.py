"""The SageMaker runtime route through the server: `POST /endpoints/{name}/invocations`.

A plain ASGI callable mounted as a route, not a FastAPI endpoint: no request
model, no dependency injection, no JSON re-encoding — the body goes to the
endpoint's socket as it came, over a pooled keep-alive connection, and the
answer comes back with the worker's headers (the answering variant included).
The endpoint's own workers do the variant routing, so this hop adds one local
round trip and nothing else.
"""

from __future__ import annotations

import json
from typing import Any

from sageforge.deploy._dataplane import Receive, Scope, Send, _read_body
from sageforge.deploy._http import HOP_BY_HOP, HttpPool, UpstreamError


async def _error(send: Send, status: int, kind: str, message: str) -> None:
    body = json.dumps({"error": {"type": kind, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class EndpointUnavailable(Exception):
    """The endpoint cannot take the request: none by that name, not InService, or unreachable."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message


class RuntimeRoute:
    """Proxies invocations to the named endpoint; see the module docstring."""

    def __init__(self) -> None:
        self._pools: dict[int, HttpPool] = {}

    async def forward(
        self, deploy: Any, name: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """One invocation through the endpoint's socket: (status, headers, body) as answered.

        Shared with the SageMaker-compatible runtime, which renders the same
        outcomes in AWS's error format.
        """
        rt = deploy.supervisor.get(name)
        if rt is None or not any(f.share > 0 for f in list(rt.fleets.values())):
            if rt is None and not deploy.endpoints._exists(name):
                raise EndpointUnavailable(404, "ResourceNotFound", f"no endpoint named {name!r}")
            raise EndpointUnavailable(
                400, "ValidationException", f"endpoint {name!r} is not InService; wait for it"
            )
        pool = self._pools.get(rt.port)
        if pool is None:
            pool = self._pools[rt.port] = HttpPool("127.0.0.1", rt.port)
        try:
            status, out_headers, out = await pool.request(
                b"POST", b"/invocations", headers, body, timeout=60.0
            )
        except UpstreamError as exc:
            raise EndpointUnavailable(
                503, "ServiceUnavailable", f"endpoint {name!r}: {exc}"
            ) from exc
        return status, [h for h in out_headers if h[0] not in HOP_BY_HOP], out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        deploy: Any = scope["app"].state.platform.services["deploy"]
        name = scope["path_params"]["name"]
        body = await _read_body(receive)
        try:
            status, headers, out = await self.forward(deploy, name, scope["headers"], body)
        except EndpointUnavailable as exc:
            await _error(send, exc.status, exc.kind, exc.message)
            return
        headers.append((b"content-length", str(len(out)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})
