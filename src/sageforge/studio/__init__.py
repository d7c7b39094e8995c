"""Studio: the web UI, server-rendered with Jinja2 and served by `sageforge server` at `/`.

Each page module has a `router` (an APIRouter with no prefix); `mount` includes
them after the API so `/api/v1` and `/health` always win. Pages call the same
services as the REST API, in process; small scripts in `static/` poll the JSON
API for live status, logs and metrics. Plotly comes from the `plotly` package's
own bundle, so Studio works with no internet.
"""

from __future__ import annotations

from sageforge.studio._deps import Page, Services, paginate, services
from sageforge.studio._mount import PAGE_MODULES, mount
from sageforge.studio._templates import redirect, render, templates

__all__ = [
    "PAGE_MODULES",
    "Page",
    "Services",
    "mount",
    "paginate",
    "redirect",
    "render",
    "services",
    "templates",
]
