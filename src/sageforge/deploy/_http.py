"""A small keep-alive HTTP/1.1 client for hops we own: server → endpoint, worker → variant.

Why not httpx: every hop adds its client's cost to each request, and a
general-purpose async client spends a few hundred microseconds per request on
things these hops never need (proxies, cookies, redirects, HTTP/2, auth). This
one keeps a pool of idle connections per address, writes the request in one
`write`, and parses the answer with httptools (the parser uvicorn uses).

A request sent on a reused connection that dies before any byte of the answer
arrives is retried once on a fresh connection: that is the keep-alive race (the
peer closed an idle connection just as we reused it), and the peer never saw
the request. Anything else is reported to the caller.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Iterable

import httptools

Headers = list[tuple[bytes, bytes]]

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"transfer-encoding",
        b"content-length",
        b"host",
        b"te",
        b"trailer",
        b"upgrade",
        b"proxy-connection",
        b"date",
        b"server",
    }
)
"""Headers a hop re-creates itself rather than passing on."""


class UpstreamError(Exception):
    """The upstream could not be reached or broke the connection mid-answer."""


class _Response:
    __slots__ = ("body", "complete", "headers", "status")

    def __init__(self) -> None:
        self.status = 0
        self.headers: Headers = []
        self.body: list[bytes] = []
        self.complete = False


class _Connection(asyncio.Protocol):
    """One keep-alive connection; answers one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.keep_alive = True
        self._parser: httptools.HttpResponseParser | None = None
        self._response: _Response | None = None
        self._waiter: asyncio.Future[_Response] | None = None
        self._received = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._received = True
        if self._parser is None:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"malformed answer from upstream: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            r = self._response
            if r is not None and r.status and not any(n == b"content-length" for n, _ in r.headers):
                # An answer delimited by the connection's end (no length given) is whole now.
                r.complete = True
                self.keep_alive = False
                self._waiter.set_result(r)
                return
            self._waiter.set_exception(
                _Dropped(self._received) if not self._received else UpstreamError("reset")
            )

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        assert self._response is not None
        self._response.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        assert self._response is not None and self._parser is not None
        self._response.status = self._parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        assert self._response is not None
        self._response.body.append(body)

    def on_message_complete(self) -> None:
        assert self._response is not None and self._parser is not None
        self._response.complete = True
        self.keep_alive = self._parser.should_keep_alive()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(self._response)

    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)
        self.close()

    def send(self, raw: bytes) -> asyncio.Future[_Response]:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self._response = _Response()
        self._parser = httptools.HttpResponseParser(self)
        self._waiter = loop.create_future()
        self._received = False
        self.transport.write(raw)
        return self._waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class _Dropped(UpstreamError):
    """The connection ended before any byte of the answer: safe to retry once."""

    def __init__(self, received: bool) -> None:
        super().__init__("connection closed before the answer")
        self.received = received


class HttpPool:
    """Keep-alive connections to one `host:port`; see the module docstring."""

    def __init__(self, host: str, port: int, *, max_idle: int = 256) -> None:
        self.host = host
        self.port = port
        self._host_header = f"{host}:{port}".encode()
        self._idle: collections.deque[_Connection] = collections.deque()
        self._max_idle = max_idle

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(_Connection, self.host, self.port)
        except OSError as exc:
            raise UpstreamError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        return conn

    def _take(self) -> _Connection | None:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed:
                return conn
        return None

    async def request(
        self,
        method: bytes,
        path: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
        *,
        timeout: float = 60.0,
    ) -> tuple[int, Headers, bytes]:
        """Send one request; (status, headers with lower-case names, body)."""
        lines = [method, b" ", path, b" HTTP/1.1\r\nhost: ", self._host_header]
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                lines += [b"\r\n", name, b": ", value]
        lines += [b"\r\ncontent-length: ", str(len(body)).encode(), b"\r\n\r\n", body]
        raw = b"".join(lines)
        for attempt in (0, 1):
            conn = self._take() if attempt == 0 else None
            reused = conn is not None
            if conn is None:
                conn = await self._connect()
            try:
                response = await asyncio.wait_for(conn.send(raw), timeout)
            except _Dropped:
                conn.close()
                if reused:
                    continue
                raise UpstreamError(f"{self.host}:{self.port} closed the connection") from None
            except TimeoutError:
                conn.close()
                raise UpstreamError(
                    f"{self.host}:{self.port} did not answer in {timeout:g}s"
                ) from None
            except BaseException:
                conn.close()
                raise
            if conn.keep_alive and not conn.closed and len(self._idle) < self._max_idle:
                self._idle.append(conn)
            else:
                conn.close()
            return response.status, response.headers, b"".join(response.body)
        raise UpstreamError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close every idle connection."""
        while self._idle:
            self._idle.pop().close()
