"""The SDK's HTTP client: JSON in, JSON out, our errors raised as our exception classes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx

from sageforge.core.errors import SageforgeError, ServerUnavailable, error_from_dict

API_PREFIX = "/api/v1"


class ApiClient:
    """A thin client over `/api/v1`; `transport` lets tests run it in-process."""

    def __init__(
        self, url: str, *, timeout: float = 90.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url, timeout=timeout, transport=transport, trust_env=False
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call `/api/v1<path>`; raise the server's error as its SageforgeError subclass."""
        try:
            resp = self._http.request(method, API_PREFIX + path, **kwargs)
        except httpx.TransportError as exc:
            raise ServerUnavailable(
                f"cannot reach the sageforge server at {self.url}: {exc}"
            ) from None
        if resp.status_code >= 400:
            raise _error(resp)
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, json=body or {})

    def put_bytes(self, path: str, content: Any) -> Any:
        return self.request("PUT", path, content=content)

    @contextlib.contextmanager
    def stream(self, path: str) -> Iterator[httpx.Response]:
        """A streaming GET for downloads; errors raised as `request` raises them."""
        try:
            with self._http.stream("GET", API_PREFIX + path) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise _error(resp)
                yield resp
        except httpx.TransportError as exc:
            raise ServerUnavailable(
                f"cannot reach the sageforge server at {self.url}: {exc}"
            ) from None

    def get_bytes(self, path: str) -> bytes:
        """A whole binary body (e.g. a store object)."""
        with self.stream(path) as resp:
            return resp.read()

    def health(self, timeout: float = 2.0) -> dict[str, Any] | None:
        """The server's /health body, or None if nothing healthy answers."""
        try:
            resp = self._http.get("/health", timeout=timeout)
        except httpx.TransportError:
            return None
        if resp.status_code != 200:
            return None
        return resp.json()  # type: ignore[no-any-return]

    def close(self) -> None:
        self._http.close()


def _error(resp: httpx.Response) -> SageforgeError:
    try:
        body = resp.json()
    except ValueError:
        body = {"error": {"type": "", "message": resp.text[:500]}}
    return error_from_dict(body, resp.status_code)
