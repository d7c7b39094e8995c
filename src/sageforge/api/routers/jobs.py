"""Routes for job resources; training and processing jobs share one shape.

Not `from __future__ import annotations`: the request model is a closure
variable, and FastAPI must see the real class in the signature.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from sageforge.api._state import Platform, platform
from sageforge.core.jobs import JobFilter
from sageforge.core.jobs._service import JobService

MAX_WAIT_S = 60.0


def make_job_router(
    path: str, service_of: Callable[[Platform], JobService], create_model: type[BaseModel]
) -> APIRouter:
    """CRUD-ish routes for one job kind under `/<path>`."""
    router = APIRouter(prefix=f"/{path}", tags=[path])

    def service(p: Platform = Depends(platform)) -> JobService:
        return service_of(p)

    @router.post("", status_code=201, summary=f"Create a {path[:-1]}")
    def create(body: create_model, svc: JobService = Depends(service)) -> dict[str, Any]:  # type: ignore[valid-type]
        return svc.create(body)  # type: ignore[attr-defined, no-any-return]

    @router.get("", summary=f"List {path}")
    def list_(
        svc: JobService = Depends(service),
        name_contains: str | None = None,
        status_equals: str | None = None,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        max_results: int = 50,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        return svc.list(
            JobFilter(
                name_contains=name_contains,
                status_equals=status_equals,
                creation_time_after=creation_time_after,
                creation_time_before=creation_time_before,
                sort_by=sort_by,
                sort_order=sort_order,
                max_results=max_results,
                next_token=next_token,
            )
        )

    @router.get("/{name}", summary="Describe one job")
    def describe(name: str, svc: JobService = Depends(service)) -> dict[str, Any]:
        return svc.describe(name)

    @router.post("/{name}/stop", summary="Stop a running job")
    def stop(name: str, svc: JobService = Depends(service)) -> dict[str, Any]:
        return svc.stop(name)

    @router.get("/{name}/wait", summary="Describe once the job ends (or the timeout passes)")
    def wait(
        name: str,
        svc: JobService = Depends(service),
        timeout: float = Query(30.0, ge=0, le=MAX_WAIT_S),
    ) -> dict[str, Any]:
        return svc.wait(name, timeout)

    @router.get("/{name}/logs", summary="The job log from a byte offset")
    def logs(
        name: str, svc: JobService = Depends(service), offset: int = Query(0, ge=0)
    ) -> dict[str, Any]:
        return svc.logs(name, offset)

    @router.get("/{name}/metrics", summary="Every metric's time series")
    def metrics(name: str, svc: JobService = Depends(service)) -> dict[str, Any]:
        return svc.metrics(name)

    return router
