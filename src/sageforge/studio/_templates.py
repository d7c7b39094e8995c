"""Jinja2 set-up shared by every Studio page: one environment, filters, and `render`.

Pages never build an HTMLResponse by hand: `render` adds what the layout needs
(the active nav section, the version, the flash message left by a redirect) so
that every page looks and behaves the same.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from starlette.templating import Jinja2Templates

import sageforge

TEMPLATE_DIR = Path(__file__).parent / "templates"
FLASH_COOKIE = "sf_flash"
FLASH_ERROR_COOKIE = "sf_flash_error"

NAV: tuple[tuple[str, str, str], ...] = (
    ("home", "Home", "/"),
    ("data", "Data", "/data"),
    ("flows", "Flows", "/flows"),
    ("jobs", "Jobs", "/jobs"),
    ("tuning", "Tuning", "/tuning"),
    ("models", "Models", "/models"),
    ("endpoints", "Endpoints", "/endpoints"),
    ("transform", "Transform", "/transform"),
)
"""(section, label, href) of the header's links, in order."""


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def ago(value: Any, now: datetime | None = None) -> str:
    """'3 min ago' — how long ago `value` (datetime or ISO string) was; '—' when unknown."""
    dt = _as_datetime(value)
    if dt is None:
        return "—"
    seconds = ((now or datetime.now(UTC)) - dt).total_seconds()
    if seconds < 0:
        return "just now" if seconds > -5 else "in " + duration(-seconds)
    if seconds < 45:
        return "just now"
    return duration(seconds) + " ago"


def duration(value: Any, end: Any = None) -> str:
    """Seconds (or the time between two datetimes) as '1 h 4 min'; '—' when unknown."""
    if end is not None or isinstance(value, (datetime, str)):
        start, stop = _as_datetime(value), _as_datetime(end) or datetime.now(UTC)
        if start is None:
            return "—"
        value = (stop - start).total_seconds()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    s = max(0.0, float(value))
    if s < 60:
        return f"{s:.1f} s" if s < 10 else f"{s:.0f} s"
    if s < 3600:
        return f"{int(s // 60)} min" + (f" {int(s % 60)} s" if s < 600 else "")
    if s < 86400:
        return f"{int(s // 3600)} h {int(s % 3600 // 60)} min"
    return f"{int(s // 86400)} d {int(s % 86400 // 3600)} h"


_BADGE_TONES = {
    "completed": "ok",
    "inservice": "ok",
    "ready": "ok",
    "succeeded": "ok",
    "failed": "bad",
    "error": "bad",
    "stopped": "muted",
    "deleting": "muted",
    "outofservice": "muted",
}


def status_badge(status: Any) -> Markup:
    """A coloured `<span class="badge …">` for a resource status; unknown ones are 'busy'."""
    text = str(status or "Unknown")
    tone = _BADGE_TONES.get(text.lower().replace(" ", ""), "busy")
    return Markup('<span class="badge badge-{}">{}</span>').format(tone, text)


def bytes_(value: Any) -> str:
    """1536 -> '1.5 KB'."""
    if value is None:
        return "—"
    n = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover - the loop always returns


def num(value: Any) -> str:
    """'0.39999999999999997' -> '0.4': tuned hyperparameters arrive as full-precision
    strings; a table of them is read at a glance. Integers and words pass unchanged."""
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    if number.is_integer() and "." not in text and "e" not in text.lower():
        return text
    return f"{number:.5g}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(ago=ago, duration=duration, status_badge=status_badge, bytes=bytes_, num=num)
    env.globals.update(NAV=NAV)
    return env


templates = Jinja2Templates(env=_environment())
"""The Studio's templates (autoescaped); studio-deploy's pages use the same object."""


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render `template` inside the layout; `nav` defaults to the URL's first segment."""
    segment = request.url.path.strip("/").split("/", 1)[0]
    context.setdefault("nav", segment or "home")
    context.setdefault("version", sageforge.__version__)
    flash = request.cookies.get(FLASH_COOKIE)
    flash_error = request.cookies.get(FLASH_ERROR_COOKIE)
    context.setdefault("flash", unquote(flash) if flash else None)
    context.setdefault("flash_error", unquote(flash_error) if flash_error else None)
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    for name, value in ((FLASH_COOKIE, flash), (FLASH_ERROR_COOKIE, flash_error)):
        if value:
            response.delete_cookie(name, path="/")
    return response  # type: ignore[no-any-return]


def redirect(url: str, flash: str | None = None, error: str | None = None) -> RedirectResponse:
    """Post/Redirect/Get: a 303 to `url`, carrying a message (`flash`, or an `error`) to
    show once on the next page."""
    response = RedirectResponse(url, status_code=303)
    for name, value in ((FLASH_COOKIE, flash), (FLASH_ERROR_COOKIE, error)):
        if value:
            response.set_cookie(name, quote(value), path="/", httponly=True, samesite="lax")
    return response
