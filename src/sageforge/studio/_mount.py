"""Putting Studio on the app: page routers, static files, HTML error pages."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import plotly
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from sageforge.core.errors import ResourceNotFound, SageforgeError
from sageforge.studio._templates import render

log = logging.getLogger("sageforge.studio")

PAGE_MODULES: tuple[str, ...] = (
    "sageforge.studio.pages.home",
    "sageforge.studio.pages.data",
    "sageforge.studio.pages.flows",
    "sageforge.studio.pages.jobs",
    "sageforge.studio.pages.train",
    "sageforge.studio.pages.tuning",
    "sageforge.studio.pages.deploy_models",
    "sageforge.studio.pages.deploy_endpoints",
    "sageforge.studio.pages.deploy_transform",
)
"""Modules whose `router` holds Studio pages, in the order they are included."""

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static/studio"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

Handler = Callable[[Request, Any], Awaitable[Response]]


def mount(app: FastAPI) -> None:
    """Include every page router, the static files, and HTML error pages for Studio URLs."""

    @app.api_route(f"{STATIC_URL}/plotly.min.js", methods=["GET", "HEAD"], include_in_schema=False)
    def plotly_js() -> FileResponse:
        # The bundle is ~4 MB and changes only with the plotly package: let browsers keep it.
        return FileResponse(
            PLOTLY_JS,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        # Browsers ask for it whatever the page says; answer rather than log a 404.
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    page_endpoints: set[Callable[..., Any]] = set()
    for name in PAGE_MODULES:
        router = importlib.import_module(name).router
        page_endpoints.update(r.endpoint for r in router.routes if hasattr(r, "endpoint"))
        app.include_router(router, include_in_schema=False)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="studio-static")
    _install_error_pages(app, page_endpoints)


def _is_page(request: Request, page_endpoints: set[Callable[..., Any]]) -> bool:
    """A Studio page's request, or a browser asking for an unknown non-API URL."""
    route = request.scope.get("route")
    if route is not None:
        return getattr(route, "endpoint", None) in page_endpoints
    path = request.url.path
    if path.startswith(("/api/", "/health")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _install_error_pages(app: FastAPI, page_endpoints: set[Callable[..., Any]]) -> None:
    """Wrap the API's error handlers: Studio URLs get an HTML page, the rest keep JSON."""

    def wrap(key: Any, page: Callable[[Request, Any], Response]) -> None:
        original: Handler | None = app.exception_handlers.get(key)  # type: ignore[assignment]

        async def handler(request: Request, exc: Any) -> Response:
            if _is_page(request, page_endpoints) or original is None:
                return page(request, exc)
            return await original(request, exc)

        app.exception_handlers[key] = handler

    wrap(SageforgeError, _sageforge_page)
    wrap(StarletteHTTPException, _http_page)
    wrap(Exception, _bug_page)


def not_found_page(request: Request, message: str | None = None) -> Response:
    """The 404 page: what was missing, and a way back."""
    return render(
        request,
        "404.html",
        status_code=404,
        message=message or f"Nothing here at {request.url.path}.",
        back=_section_of(request),
    )


def _section_of(request: Request) -> tuple[str, str]:
    """(label, href) of the list page above `request`'s URL, for the 'back' link."""
    from sageforge.studio._templates import NAV

    segment = request.url.path.strip("/").split("/", 1)[0]
    for section, label, href in NAV:
        if section == segment:
            return label, href
    return "Home", "/"


def _sageforge_page(request: Request, exc: SageforgeError) -> Response:
    if isinstance(exc, ResourceNotFound):
        return not_found_page(request, exc.message)
    if exc.http_status >= 500:
        return _bug_page(request, exc)
    return render(
        request,
        "error.html",
        status_code=exc.http_status,
        title="That did not work",
        message=str(exc),
        back=_section_of(request),
    )


def _http_page(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 404:
        return not_found_page(request, None if exc.detail == "Not Found" else str(exc.detail))
    if exc.status_code >= 500:
        return _bug_page(request, exc)
    return render(
        request,
        "error.html",
        status_code=exc.status_code,
        title="That did not work",
        message=str(exc.detail),
        back=_section_of(request),
    )


def _bug_page(request: Request, exc: BaseException) -> Response:
    log.error("Studio page %s failed", request.url.path, exc_info=exc)
    return render(
        request,
        "500.html",
        status_code=500,
        reason=type(exc).__name__,
        back=_section_of(request),
    )
