"""CreateEndpoint, DescribeEndpoint, ListEndpoints, DeleteEndpoint, UpdateEndpoint,
UpdateEndpointWeightsAndCapacities.

DescribeEndpoint reads the endpoint's own row (status, variants as they run
now) rather than the native describe, so it keeps answering after the
configuration was deleted, as SageMaker's does; `endpoint_deleted` waits for
"Could not find endpoint", which the row's removal brings.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import AwsError, validation
from sageforge.compat._json_protocol import operation
from sageforge.compat.sagemaker import _records, _shapes
from sageforge.compat.sagemaker._common import listed, native, page, tags_in, url_in, url_out
from sageforge.compat.sagemaker._endpoint_configs import config_not_found
from sageforge.compat.sagemaker._translate import create_remembered, native_errors
from sageforge.core.errors import ResourceInUse, ResourceNotFound

KIND = "endpoint"


def endpoint_not_found(ctx: AwsContext, name: str) -> AwsError:
    return validation(f'Could not find endpoint "{ctx.arn("endpoint", name)}".')


def _deploy(ctx: AwsContext) -> Any:
    return ctx.platform.services["deploy"]


def _deployment(ctx: AwsContext, params: dict[str, Any], op: str) -> dict[str, Any] | None:
    config = params.get("DeploymentConfig")
    if not config:
        return None
    if config.get("RollingUpdatePolicy"):
        raise validation(
            "DeploymentConfig.RollingUpdatePolicy: rolling updates are not supported here; "
            "use BlueGreenUpdatePolicy"
        )
    data = _shapes.to_native({"DeploymentConfig": config}, _shapes.input_shape(op), url_in(ctx))
    return data["deployment_config"]  # type: ignore[no-any-return]


@operation("SageMaker", "CreateEndpoint")
def create_endpoint(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    from sageforge.deploy._spec import CreateEndpoint

    name, config = params["EndpointName"], params["EndpointConfigName"]
    data: dict[str, Any] = {
        "endpoint_name": name,
        "endpoint_config_name": config,
        "tags": tags_in(params.get("Tags")),
    }
    deployment = _deployment(ctx, params, "CreateEndpoint")
    if deployment:
        data["deployment_config"] = deployment
    req = native(CreateEndpoint, _shapes.fit(data, CreateEndpoint), "CreateEndpoint")
    d = _deploy(ctx)
    try:
        d.configs.get(config)
    except ResourceNotFound:
        raise config_not_found(ctx, config) from None
    create_remembered(
        ctx, "CreateEndpoint", KIND, name, params, create=lambda: d.endpoints.create(req),
        taken=lambda: validation(f'Cannot create already existing endpoint "{ctx.arn("endpoint", name)}".'),
    )  # fmt: skip
    return {"EndpointArn": ctx.arn("endpoint", name)}


def _row(ctx: AwsContext, name: str) -> Any:
    try:
        return _deploy(ctx).endpoints.get(name)
    except ResourceNotFound:
        raise endpoint_not_found(ctx, name) from None


def _variant(v: dict[str, Any], live: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "VariantName": v["variant_name"],
        "CurrentWeight": v.get("current_weight"),
        "DesiredWeight": v.get("desired_weight"),
        "CurrentInstanceCount": v.get("current_instance_count"),
        "DesiredInstanceCount": v.get("desired_instance_count"),
    }
    serverless = v.get("serverless")
    if serverless:
        config = {"MemorySizeInMB": serverless.get("memory_size_in_mb"),
                  "MaxConcurrency": serverless.get("max_concurrency")}  # fmt: skip
        out["CurrentServerlessConfig"] = out["DesiredServerlessConfig"] = config
        out["CurrentInstanceCount"] = live or 0
        out.pop("DesiredInstanceCount")
    return out


@operation("SageMaker", "DescribeEndpoint")
def describe_endpoint(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    d = _deploy(ctx)
    row = _row(ctx, params["EndpointName"])
    state = row.state or {}
    variants: list[dict[str, Any]] = []
    shadows: list[dict[str, Any]] = []
    for v in state.get("variants") or []:
        live = (
            d.endpoints._live_workers(row.name, v["variant_name"]) if v.get("serverless") else None
        )
        (shadows if v.get("shadow") else variants).append(_variant(v, live))
    out: dict[str, Any] = {
        "EndpointName": row.name,
        "EndpointArn": ctx.arn("endpoint", row.name),
        "EndpointConfigName": row.config_name,
        "EndpointStatus": row.status,
        "FailureReason": row.failure_reason,
        "CreationTime": row.creation_time,
        "LastModifiedTime": row.last_modified_time,
        "ProductionVariants": variants or None,
        "ShadowProductionVariants": shadows or None,
    }
    try:
        config = d.configs.get(row.config_name).spec
    except ResourceNotFound:
        config = {}  # deleted while in use: SageMaker still describes the endpoint
    capture = config.get("data_capture_config")
    if capture:
        enabled = capture.get("enable_capture", True)
        out["DataCaptureConfig"] = {
            "EnableCapture": enabled,
            "CaptureStatus": "Started" if enabled else "Stopped",
            "CurrentSamplingPercentage": int(capture.get("initial_sampling_percentage") or 0),
            "DestinationS3Uri": capture.get("destination_s3_uri"),
        }
    if config.get("async_inference_config"):
        out["AsyncInferenceConfig"] = config["async_inference_config"]
    if (row.spec or {}).get("deployment_config"):
        out["LastDeploymentConfig"] = row.spec["deployment_config"]
    return _shapes.to_aws(out, _shapes.output_shape("DescribeEndpoint"), url_out(ctx))  # type: ignore[no-any-return]


@operation("SageMaker", "ListEndpoints")
def list_endpoints(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    from sageforge.deploy._models import Endpoint

    with ctx.platform.db.session() as s:
        rows = [
            {
                "EndpointName": e.name,
                "EndpointArn": ctx.arn("endpoint", e.name),
                "CreationTime": e.creation_time,
                "LastModifiedTime": e.last_modified_time,
                "EndpointStatus": e.status,
            }
            for e in s.scalars(sa.select(Endpoint))
        ]
    chunk, token = page(rows, params, name="EndpointName", status="EndpointStatus")
    return listed("Endpoints", chunk, token)


@operation("SageMaker", "DeleteEndpoint")
def delete_endpoint(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["EndpointName"]
    _row(ctx, name)
    try:
        _deploy(ctx).endpoints.delete(name)
    except ResourceNotFound:
        raise endpoint_not_found(ctx, name) from None
    except ResourceInUse as exc:
        raise validation(f"Cannot delete endpoint {name}: {exc.message}") from None
    _records.forget(ctx.platform.db, KIND, name)
    return {}


@operation("SageMaker", "UpdateEndpoint")
def update_endpoint(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    from sageforge.deploy._spec import UpdateEndpoint

    name, config = params["EndpointName"], params["EndpointConfigName"]
    row = _row(ctx, name)
    d = _deploy(ctx)
    try:
        d.configs.get(config)
    except ResourceNotFound:
        raise config_not_found(ctx, config) from None
    if row.status != "InService":
        raise validation(f'Cannot update in-progress endpoint "{ctx.arn("endpoint", name)}".')
    data: dict[str, Any] = {
        "endpoint_config_name": config,
        "retain_all_variant_properties": bool(params.get("RetainAllVariantProperties", False)),
    }
    deployment = _deployment(ctx, params, "UpdateEndpoint")
    if deployment:
        data["deployment_config"] = deployment
    req = native(UpdateEndpoint, _shapes.fit(data, UpdateEndpoint), "UpdateEndpoint")
    with native_errors("UpdateEndpoint"):
        try:
            d.endpoints.update(name, req)
        except ResourceInUse as exc:
            raise validation(exc.message) from None
    return {"EndpointArn": ctx.arn("endpoint", name)}


@operation("SageMaker", "UpdateEndpointWeightsAndCapacities")
def update_weights(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    from sageforge.deploy._spec import UpdateEndpointWeightsAndCapacities

    name = params["EndpointName"]
    row = _row(ctx, name)
    if row.status != "InService":
        raise validation(f'Cannot update in-progress endpoint "{ctx.arn("endpoint", name)}".')
    op = "UpdateEndpointWeightsAndCapacities"
    data = _shapes.to_native(params, _shapes.input_shape(op))
    data.pop("endpoint_name", None)
    for item in data.get("desired_weights_and_capacities") or []:
        item.pop("serverless_update_config", None)
    req = native(UpdateEndpointWeightsAndCapacities, _shapes.fit(data, UpdateEndpointWeightsAndCapacities), op)  # fmt: skip
    with native_errors(op):
        try:
            _deploy(ctx).endpoints.update_weights_and_capacities(name, req)
        except ResourceInUse as exc:
            raise validation(exc.message) from None
    return {"EndpointArn": ctx.arn("endpoint", name)}
