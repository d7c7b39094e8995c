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


class RuntimeRoute:
    """Proxies invocations to the named endpoint; see the module docstring."""

    def __init__(self) -> None:
        self._pools: dict[int, HttpPool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        deploy: Any = scope["app"].state.platform.services["deploy"]
        name = scope["path_params"]["name"]
        rt = deploy.supervisor.get(name)
        if rt is None or not any(f.share > 0 for f in list(rt.fleets.values())):
            if rt is None and not deploy.endpoints._exists(name):
                await _error(send, 404, "ResourceNotFound", f"no endpoint named {name!r}")
            else:
                await _error(send, 400, "ValidationException",
                             f"endpoint {name!r} is not InService; wait for it")  # fmt: skip
            return
        body = await _read_body(receive)
        pool = self._pools.get(rt.port)
        if pool is None:
            pool = self._pools[rt.port] = HttpPool("127.0.0.1", rt.port)
        try:
            status, headers, out = await pool.request(
                b"POST", b"/invocations", scope["headers"], body, timeout=60.0
            )
        except UpstreamError as exc:
            await _error(send, 503, "ServiceUnavailable", f"endpoint {name!r}: {exc}")
            return
        headers = [h for h in headers if h[0] not in HOP_BY_HOP]
        headers.append((b"content-length", str(len(out)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})
