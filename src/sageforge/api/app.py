"""The control plane's ASGI app: `/health`, `/api/v1` (OpenAPI at `/api/v1/openapi.json`)."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

import sageforge
from sageforge import studio
from sageforge.api import _errors
from sageforge.api._state import Platform
from sageforge.api.routers import meta, store
from sageforge.api.routers.jobs import make_job_router
from sageforge.core.config import Settings
from sageforge.data.processing import CreateProcessingJob
from sageforge.train import CreateTrainingJob

API_PREFIX = "/api/v1"

CAPABILITIES: tuple[str, ...] = (
    "sageforge.tune._api",
    "sageforge.deploy._api",
    "sageforge.data._api",
)
"""Modules that plug a capability into the server. Each has `routers` (a list of
APIRouter mounted under /api/v1) and `attach(platform)`, called at start-up to
create its services in `platform.services` and register start/close hooks."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the Platform (DB, store, supervisor) starts with the app's lifespan."""
    settings = settings or Settings.load()
    capabilities = [importlib.import_module(name) for name in CAPABILITIES]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        p = Platform.build(settings)
        app.state.platform = p
        for module in capabilities:
            module.attach(p)
        p.start()
        try:
            yield
        finally:
            p.close()

    app = FastAPI(
        title="sageforge",
        version=sageforge.__version__,
        description="A self-hosted machine-learning platform with SageMaker's resource model.",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    _errors.install(app)
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(meta.router)
    api.include_router(store.router)
    api.include_router(make_job_router("training-jobs", lambda p: p.training, CreateTrainingJob))
    api.include_router(
        make_job_router("processing-jobs", lambda p: p.processing, CreateProcessingJob)
    )
    for module in capabilities:
        for router in module.routers:
            api.include_router(router)
    app.include_router(meta.health_router)
    app.include_router(api)
    for module in capabilities:  # routes SageMaker has at the root (e.g. its runtime's)
        for router in getattr(module, "root_routers", ()):
            app.include_router(router)
    studio.mount(app)  # last: /api/v1, /health and the runtime routes win over pages
    return app
