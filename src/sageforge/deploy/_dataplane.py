"""The data plane: the plain ASGI app every endpoint worker runs.

A worker serves one variant of one fleet and listens on up to three sockets:

- the endpoint's socket (shared by every production worker of the endpoint; the
  endpoint URL) — a request here is routed: by `X-Amzn-SageMaker-Target-Variant`
  or by weight, answered here when the choice is this worker's own variant and
  forwarded to the chosen variant's socket otherwise;
- its variant's socket (shared by the variant's workers) — answered here, never
  routed again; forwarded requests and shadow copies arrive on it;
- its own control socket — `/_sf/stats`, `/_sf/routing`, `/_sf/drain` for the
  supervisor.

Everything on the hot path is a few dict lookups, one `random()`, the model's
own work, an append to the capture buffer and two histogram increments. No
framework: routing three paths by hand costs less than any router.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import os
import random
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sageforge.core.errors import ValidationError
from sageforge.deploy._capture import CaptureWriter
from sageforge.deploy._handler import Handler, InvocationContext, ModelError
from sageforge.deploy._http import HOP_BY_HOP, HttpPool, UpstreamError
from sageforge.deploy._metrics import VariantStats, prometheus_text

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

VARIANT_HEADER = b"x-amzn-invoked-production-variant"
TARGET_HEADER = b"x-amzn-sagemaker-target-variant"
CUSTOM_HEADER = b"x-amzn-sagemaker-custom-attributes"
INFERENCE_ID_HEADER = b"x-amzn-sagemaker-inference-id"
_JSON = [(b"content-type", b"application/json")]
_SHADOW_CONCURRENCY = 32


class _Route:
    """A compiled routing table: cumulative weights over (fleet, variant, port) targets."""

    def __init__(self, table: dict[str, Any], own: tuple[str, str]) -> None:
        self.version = int(table.get("version", 0))
        self.targets = [t for t in table.get("targets", []) if float(t.get("weight", 0)) > 0]
        self.all_targets = list(table.get("targets", []))
        self.cumulative: list[float] = []
        total = 0.0
        for t in self.targets:
            total += float(t["weight"])
            self.cumulative.append(total)
        self.total = total
        self.own = own
        self.shadow = list(table.get("shadow", []))

    def pick(self, target_variant: str | None) -> dict[str, Any] | None:
        if target_variant is not None:
            named = [t for t in self.all_targets if t["variant"] == target_variant]
            if not named:
                return None
            live = [t for t in named if float(t.get("weight", 0)) > 0] or named
            return live[0] if len(live) == 1 else random.choice(live)
        if not self.targets:
            return None
        i = bisect.bisect_right(self.cumulative, random.random() * self.total)
        return self.targets[min(i, len(self.targets) - 1)]


class DataPlane:
    """The worker's ASGI app; see the module docstring."""

    def __init__(
        self,
        *,
        endpoint: str,
        variant: str,
        fleet: str,
        handler: Handler,
        routing: dict[str, Any],
        capture: CaptureWriter | None = None,
        endpoint_port: int | None = None,
        variant_port: int | None = None,
        control_port: int | None = None,
        on_startup: Callable[[], None] | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.variant = variant
        self.fleet = fleet
        self.handler = handler
        self.capture = capture
        self.endpoint_port = endpoint_port
        self.variant_port = variant_port
        self.control_port = control_port
        self.on_startup = on_startup
        self.stats = VariantStats()
        self.route = _Route(routing, (fleet, variant))
        self.sampling = capture.sampling if capture else 0.0
        self.draining = False
        self.inflight = 0
        self.max_concurrency = max_concurrency
        """A serverless variant's MaxConcurrency: requests served at once past it are throttled."""
        self.serving = 0
        """Requests being answered here (not forwarded) right now."""
        self.server: Any = None  # the uvicorn.Server, set by the worker's main
        self._pools: dict[int, HttpPool] = {}
        self._variant_header = (VARIANT_HEADER, variant.encode())
        self._shadow_slots = asyncio.Semaphore(_SHADOW_CONCURRENCY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path == "/invocations" and scope["method"] == "POST":
                await self._invocations(scope, receive, send)
            elif path == "/ping":
                await self._send(send, 200, b"", [(b"content-type", b"text/plain")])
            elif path == "/metrics":
                text = prometheus_text({self.endpoint: {self.variant: self.stats}})
                await self._send(send, 200, text.encode(), [(b"content-type", b"text/plain")])
            elif path.startswith("/_sf/") and scope["server"][1] == self.control_port:
                await self._control(scope, receive, send)
            else:
                await self._error(send, 404, "NotFound", f"no route {scope['method']} {path}")
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.on_startup is not None:
                    self.on_startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.capture is not None:
                    await asyncio.get_running_loop().run_in_executor(None, self.capture.close)
                for pool in self._pools.values():
                    pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- invocations ---------------------------------------------------------------------------

    async def _invocations(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        self.inflight += 1
        try:
            body = await _read_body(receive)
            content_type = accept = ""
            target = custom = inference_id = None
            for name, value in scope["headers"]:
                if name == b"content-type":
                    content_type = value.decode("latin-1")
                elif name == b"accept":
                    accept = value.decode("latin-1")
                elif name == TARGET_HEADER:
                    target = value.decode("latin-1")
                elif name == CUSTOM_HEADER:
                    custom = value.decode("latin-1")
                elif name == INFERENCE_ID_HEADER:
                    inference_id = value.decode("latin-1")
            if inference_id is not None and not 1 <= len(inference_id) <= 64:
                await self._error(send, 400, "ValidationException", "InferenceId: 1–64 characters")
                return
            if scope["server"][1] != self.endpoint_port:
                await self._serve(send, body, content_type, accept, custom, inference_id, started)
                return
            chosen = self.route.pick(target)
            if chosen is None:
                if target is not None:
                    await self._error(
                        send,
                        400,
                        "ValidationException",
                        f"TargetVariant {target!r} is not a variant of endpoint {self.endpoint}",
                    )
                else:
                    await self._error(send, 503, "ServiceUnavailable", "no variant takes traffic")
                return
            if (chosen["fleet"], chosen["variant"]) == self.route.own:
                status = await self._serve(
                    send, body, content_type, accept, custom, inference_id, started
                )
            else:
                status = await self._forward(send, int(chosen["port"]), scope["headers"], body)
            if self.route.shadow and status < 400:
                self._shadow_copy(scope["headers"], body)
        finally:
            self.inflight -= 1

    async def _serve(
        self,
        send: Send,
        body: bytes,
        content_type: str,
        accept: str,
        custom: str | None,
        inference_id: str | None,
        started: float,
    ) -> int:
        if self.max_concurrency is not None and self.serving >= self.max_concurrency:
            await self._error(
                send,
                429,
                "ThrottlingException",
                f"Rate exceeded: variant {self.variant} of endpoint {self.endpoint} is already "
                f"serving its MaxConcurrency of {self.max_concurrency} request(s)",
            )
            self.stats.record(429, 0.0, time.perf_counter() - started, time.time())
            return 429
        self.serving += 1
        try:
            ctx = InvocationContext(custom, inference_id, None, self.variant)
            model_start = time.perf_counter()
            try:
                if self.handler.blocking:
                    loop = asyncio.get_running_loop()
                    out, out_type = await loop.run_in_executor(
                        None, self.handler.invoke, body, content_type, accept, ctx
                    )
                else:
                    out, out_type = self.handler.invoke(body, content_type, accept, ctx)
            except ValidationError as exc:
                model_s = time.perf_counter() - model_start
                status = (
                    415 if exc.field == "ContentType" else 406 if exc.field == "Accept" else 400
                )
                await self._error(send, status, "ValidationException", str(exc.message))
                self.stats.record(status, model_s, time.perf_counter() - started, time.time())
                return status
            except ModelError as exc:
                model_s = time.perf_counter() - model_start
                await self._error(send, 500, "ModelError", exc.message, log=exc.log)
                self.stats.record(500, model_s, time.perf_counter() - started, time.time())
                return 500
            model_s = time.perf_counter() - model_start
            headers = [(b"content-type", out_type.encode("latin-1")), self._variant_header]
            if ctx.response_custom_attributes:
                headers.append((CUSTOM_HEADER, ctx.response_custom_attributes.encode("latin-1")))
            await self._send(send, 200, out, headers)
            now = time.time()
            if self.capture is not None and (
                self.sampling >= 100.0 or random.random() * 100.0 < self.sampling
            ):
                self.capture.add(now, inference_id, content_type, body, out_type, out, custom)
            self.stats.record(200, model_s, time.perf_counter() - started, now)
            return 200
        finally:
            self.serving -= 1

    async def _forward(
        self, send: Send, port: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> int:
        pool = self._pools.get(port)
        if pool is None:
            pool = self._pools[port] = HttpPool("127.0.0.1", port)
        try:
            status, out_headers, out = await pool.request(b"POST", b"/invocations", headers, body)
        except UpstreamError as exc:
            await self._error(send, 503, "ServiceUnavailable", f"variant unreachable: {exc}")
            return 503
        await self._send(send, status, out, [h for h in out_headers if h[0] not in HOP_BY_HOP])
        return status

    def _shadow_copy(self, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Send a copy to the shadow variant, best effort, never delaying the caller."""
        for shadow in self.route.shadow:
            if random.random() >= float(shadow.get("fraction", 1.0)):
                continue
            if self._shadow_slots.locked():
                continue  # the shadow is behind: drop the copy rather than queue without bound
            asyncio.get_running_loop().create_task(
                self._shadow_send(int(shadow["port"]), headers, body)
            )

    async def _shadow_send(
        self, port: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        async with self._shadow_slots:
            pool = self._pools.get(port)
            if pool is None:
                pool = self._pools[port] = HttpPool("127.0.0.1", port)
            with contextlib.suppress(UpstreamError):
                await pool.request(b"POST", b"/invocations", headers, body)

    # -- answering -----------------------------------------------------------------------------

    async def _send(
        self, send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        headers.append((b"content-length", str(len(body)).encode()))
        if self.draining:
            headers.append((b"connection", b"close"))  # the client reconnects to a live worker
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _error(
        self, send: Send, status: int, kind: str, message: str, *, log: str | None = None
    ) -> None:
        err: dict[str, Any] = {"type": kind, "message": message}
        if log is not None:
            err["original_status_code"] = status
            err["log"] = log[-8000:]
            err["log_file"] = os.environ.get("SAGEFORGE_WORKER_LOG", "")
        body = json.dumps({"error": err}).encode()
        await self._send(send, status, body, [*_JSON, self._variant_header])

    # -- control -------------------------------------------------------------------------------

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/_sf/stats":
            doc = {
                "variant": self.variant,
                "fleet": self.fleet,
                "pid": os.getpid(),
                "inflight": self.inflight,
                "draining": self.draining,
                "routing_version": self.route.version,
                "captured": self.capture.written if self.capture else 0,
                "stats": self.stats.to_dict(),
            }
            await self._send(send, 200, json.dumps(doc).encode(), list(_JSON))
        elif path == "/_sf/routing" and method == "PUT":
            table = json.loads(await _read_body(receive))
            if int(table.get("version", 0)) >= self.route.version:
                self.route = _Route(table, (self.fleet, self.variant))
            await self._send(send, 200, b'{"ok":true}', list(_JSON))
        elif path == "/_sf/drain" and method == "POST":
            self.drain()
            await self._send(send, 200, b'{"ok":true}', list(_JSON))
        elif path == "/_sf/flush" and method == "POST":
            n = 0
            if self.capture is not None:
                n = await asyncio.get_running_loop().run_in_executor(None, self.capture.flush)
            await self._send(send, 200, json.dumps({"flushed": n}).encode(), list(_JSON))
        else:
            await self._error(send, 404, "NotFound", f"no control route {method} {path}")

    def drain(self) -> None:
        """Stop taking new connections on shared sockets; close kept-alive ones as they answer."""
        self.draining = True
        if self.server is None:
            return
        for srv in list(getattr(self.server, "servers", [])):
            ports = {s.getsockname()[1] for s in srv.sockets}
            if ports & {self.endpoint_port, self.variant_port}:
                srv.close()


async def _read_body(receive: Receive) -> bytes:
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):
        return body
    chunks = [body]
    while message.get("more_body"):
        message = await receive()
        chunks.append(message.get("body", b""))
    return b"".join(chunks)
