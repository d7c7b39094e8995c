"""Hosting over HTTP: the /api/v1 routers, the runtime routes at the root, and `attach`.

`attach(platform)` builds the services into `platform.services["deploy"]`,
restores every endpoint when the server starts, and drains and stops every
worker when it stops (endpoints come back on the next start; see
`_supervisor`). Routes under /api/v1: /models, /endpoint-configs, /endpoints,
/transform-jobs. At the root, as SageMaker's runtime has them:
`POST /endpoints/{name}/invocations`, `POST /endpoints/{name}/async-invocations`,
and `GET /metrics` (Prometheus text for every endpoint).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from sageforge.api._state import Platform, platform
from sageforge.api.routers.jobs import make_job_router
from sageforge.deploy._async import AsyncInvoker
from sageforge.deploy._metrics import prometheus_text
from sageforge.deploy._resources import EndpointConfigService, ModelService
from sageforge.deploy._router import RuntimeRoute
from sageforge.deploy._service import EndpointService
from sageforge.deploy._spec import (
    CreateEndpoint,
    CreateEndpointConfig,
    CreateModel,
    CreateTransformJob,
    UpdateEndpoint,
    UpdateEndpointWeightsAndCapacities,
)
from sageforge.deploy._supervisor import EndpointSupervisor
from sageforge.deploy._transform import TransformJobService

MAX_WAIT_S = 60.0


@dataclass
class DeployServices:
    """Everything hosting needs, one per server."""

    models: ModelService
    configs: EndpointConfigService
    endpoints: EndpointService
    transform: TransformJobService
    supervisor: EndpointSupervisor
    invoker: AsyncInvoker


def attach(p: Platform) -> None:
    """Create the services and register the start/close hooks."""
    supervisor = EndpointSupervisor(p.db, p.settings.store_url, p.settings.home / "endpoints")
    models = ModelService(p.db, p.store)
    configs = EndpointConfigService(p.db, models)
    endpoints = EndpointService(p.db, supervisor, models, configs)
    services = DeployServices(
        models=models,
        configs=configs,
        endpoints=endpoints,
        transform=TransformJobService(p.supervisor, p.store, models),
        supervisor=supervisor,
        invoker=AsyncInvoker(p.store, None, p.settings.home / "endpoints" / "_async"),
    )
    services.invoker.deploy = services
    p.services["deploy"] = services

    def start() -> None:
        supervisor.start()
        endpoints.restore()
        services.invoker.resume()

    def close() -> None:
        services.invoker.close()
        supervisor.close()

    p.on_start(start)
    p.on_close(close)


def deploy(p: Platform = Depends(platform)) -> DeployServices:
    """FastAPI dependency: the hosting services."""
    return p.services["deploy"]  # type: ignore[no-any-return]


# -- models and endpoint configurations ------------------------------------------------------

models_router = APIRouter(prefix="/models", tags=["models"])


@models_router.post("", status_code=201, summary="Create a model")
def create_model(body: CreateModel, d: DeployServices = Depends(deploy)) -> dict[str, Any]:
    return d.models.create(body)


@models_router.get("", summary="List models")
def list_models(
    d: DeployServices = Depends(deploy),
    name_contains: str | None = None,
    max_results: int = 50,
    next_token: str | None = None,
) -> dict[str, Any]:
    return d.models.list(name_contains, max_results, next_token)


@models_router.get("/{name}", summary="Describe a model")
def describe_model(name: str, d: DeployServices = Depends(deploy)) -> dict[str, Any]:
    return d.models.describe(name)


@models_router.delete("/{name}", status_code=204, summary="Delete a model")
def delete_model(name: str, d: DeployServices = Depends(deploy)) -> None:
    d.models.delete(name)


configs_router = APIRouter(prefix="/endpoint-configs", tags=["endpoint-configs"])


@configs_router.post("", status_code=201, summary="Create an endpoint configuration")
def create_config(
    body: CreateEndpointConfig, d: DeployServices = Depends(deploy)
) -> dict[str, Any]:
    return d.configs.create(body)


@configs_router.get("", summary="List endpoint configurations")
def list_configs(
    d: DeployServices = Depends(deploy),
    name_contains: str | None = None,
    max_results: int = 50,
    next_token: str | None = None,
) -> dict[str, Any]:
    return d.configs.list(name_contains, max_results, next_token)


@configs_router.get("/{name}", summary="Describe an endpoint configuration")
def describe_config(name: str, d: DeployServices = Depends(deploy)) -> dict[str, Any]:
    return d.configs.describe(name)


@configs_router.delete("/{name}", status_code=204, summary="Delete an endpoint configuration")
def delete_config(name: str, d: DeployServices = Depends(deploy)) -> None:
    d.configs.delete(name)


# -- endpoints -----------------------------------------------------------------------------------

endpoints_router = APIRouter(prefix="/endpoints", tags=["endpoints"])


@endpoints_router.post("", status_code=201, summary="Create an endpoint (answers while Creating)")
def create_endpoint(body: CreateEndpoint, d: DeployServices = Depends(deploy)) -> dict[str, Any]:
    return d.endpoints.create(body)


@endpoints_router.get("", summary="List endpoints")
def list_endpoints(
    d: DeployServices = Depends(deploy),
    name_contains: str | None = None,
    status_equals: str | None = None,
    max_results: int = 50,
    next_token: str | None = None,
) -> dict[str, Any]:
    return d.endpoints.list(name_contains, status_equals, max_results, next_token)


@endpoints_router.get("/{name}", summary="Describe an endpoint, with per-variant metrics")
def describe_endpoint(name: str, d: DeployServices = Depends(deploy)) -> dict[str, Any]:
    return d.endpoints.describe(name)


@endpoints_router.get("/{name}/wait", summary="Describe once the endpoint is no longer busy")
def wait_endpoint(
    name: str,
    d: DeployServices = Depends(deploy),
    timeout: float = Query(30.0, ge=0, le=MAX_WAIT_S),
) -> dict[str, Any]:
    return d.endpoints.wait(name, timeout)


@endpoints_router.post("/{name}/update", summary="Move to a new endpoint configuration")
def update_endpoint(
    name: str, body: UpdateEndpoint, d: DeployServices = Depends(deploy)
) -> dict[str, Any]:
    return d.endpoints.update(name, body)


@endpoints_router.post(
    "/{name}/weights-and-capacities", summary="Change variant weights and instance counts"
)
def update_weights(
    name: str, body: UpdateEndpointWeightsAndCapacities, d: DeployServices = Depends(deploy)
) -> dict[str, Any]:
    return d.endpoints.update_weights_and_capacities(name, body)


@endpoints_router.delete("/{name}", status_code=202, summary="Delete an endpoint")
def delete_endpoint(name: str, d: DeployServices = Depends(deploy)) -> dict[str, Any]:
    d.endpoints.delete(name)
    return {"endpoint_name": name, "endpoint_status": "Deleting"}


@endpoints_router.get("/{name}/metrics", summary="Per-variant time series (Studio's charts)")
def endpoint_metrics(name: str, d: DeployServices = Depends(deploy)) -> dict[str, Any]:
    return d.endpoints.metric_series(name)


@endpoints_router.get("/{name}/async-invocations/{inference_id}", summary="Poll an async call")
def async_status(
    name: str, inference_id: str, d: DeployServices = Depends(deploy)
) -> dict[str, Any]:
    return d.invoker.status(name, inference_id)


def _submit_async(name: str, request: Request) -> dict[str, Any]:
    d: DeployServices = request.app.state.platform.services["deploy"]
    h = request.headers
    return d.invoker.submit(
        name,
        h.get("x-amzn-sagemaker-inputlocation"),
        content_type=h.get("content-type"),
        accept=h.get("accept"),
        inference_id=h.get("x-amzn-sagemaker-inference-id"),
        custom_attributes=h.get("x-amzn-sagemaker-custom-attributes"),
    )


@endpoints_router.post(
    "/{name}/async-invocations", status_code=202, summary="Invoke asynchronously"
)
def invoke_async(name: str, request: Request) -> dict[str, Any]:
    return _submit_async(name, request)


_runtime = RuntimeRoute()
endpoints_router.add_route(
    "/{name}/invocations",
    _runtime,  # type: ignore[arg-type]  # a plain ASGI app: Starlette calls it as one
    methods=["POST"],
    include_in_schema=False,
)

transform_router = make_job_router(
    "transform-jobs", lambda p: p.services["deploy"].transform, CreateTransformJob
)

routers = [models_router, configs_router, endpoints_router, transform_router]

# -- the root: SageMaker runtime paths and Prometheus ----------------------------------------------

runtime_router = APIRouter(tags=["runtime"])
runtime_router.add_route(
    "/endpoints/{name}/invocations",
    _runtime,  # type: ignore[arg-type]  # a plain ASGI app: Starlette calls it as one
    methods=["POST"],
    include_in_schema=False,
)


@runtime_router.post(
    "/endpoints/{name}/async-invocations", status_code=202, include_in_schema=False
)
def runtime_invoke_async(name: str, request: Request) -> dict[str, Any]:
    return _submit_async(name, request)


@runtime_router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
def metrics(d: DeployServices = Depends(deploy)) -> str:
    sup = d.supervisor
    return prometheus_text({name: sup.variant_stats(rt) for name, rt in list(sup.runtimes.items())})


root_routers = [runtime_router]
