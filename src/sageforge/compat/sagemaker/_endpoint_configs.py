"""CreateEndpointConfig, DescribeEndpointConfig, ListEndpointConfigs, DeleteEndpointConfig.

DeleteEndpointConfig succeeds while an endpoint uses the configuration, as in
SageMaker (the SDK's `delete_endpoint` deletes the configuration first).
"""

from __future__ import annotations

from typing import Any

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import AwsError, validation
from sageforge.compat._json_protocol import operation
from sageforge.compat.sagemaker import _records, _shapes
from sageforge.compat.sagemaker._common import (
    drop_tags,
    list_named,
    native,
    overlay,
    tags_in,
    url_in,
    url_out,
)
from sageforge.compat.sagemaker._translate import create_remembered
from sageforge.core.errors import ResourceNotFound

KIND = "endpoint-config"
OP = "CreateEndpointConfig"


def config_not_found(ctx: AwsContext, name: str) -> AwsError:
    return validation(
        f'Could not find endpoint configuration "{ctx.arn("endpoint-config", name)}".'
    )


def _deploy(ctx: AwsContext) -> Any:
    return ctx.platform.services["deploy"]


def _variants(data: dict[str, Any], group: str) -> None:
    for v in data.get(group) or []:
        serverless = v.get("serverless_config")
        if serverless:
            serverless.pop("provisioned_concurrency", None)


@operation("SageMaker", "CreateEndpointConfig")
def create_endpoint_config(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    from sageforge.deploy._spec import CreateEndpointConfig

    name = params["EndpointConfigName"]
    data = _shapes.to_native(params, _shapes.input_shape(OP), url_in(ctx))
    data["tags"] = tags_in(params.get("Tags"))
    _variants(data, "production_variants")
    _variants(data, "shadow_production_variants")
    capture = data.get("data_capture_config")
    if (
        capture
        and not capture.get("enable_capture", True)
        and not capture.get("destination_s3_uri")
    ):
        data.pop("data_capture_config")
    req = native(CreateEndpointConfig, _shapes.fit(data, CreateEndpointConfig), OP)
    create_remembered(
        ctx, OP, KIND, name, params, create=lambda: _deploy(ctx).configs.create(req),
        taken=lambda: validation("Cannot create already existing endpoint configuration "
                           f'"{ctx.arn("endpoint-config", name)}".'),
    )  # fmt: skip
    return {"EndpointConfigArn": ctx.arn("endpoint-config", name)}


@operation("SageMaker", "DescribeEndpointConfig")
def describe_endpoint_config(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["EndpointConfigName"]
    try:
        d = _deploy(ctx).configs.describe(name)
    except ResourceNotFound:
        raise config_not_found(ctx, name) from None
    shape = _shapes.output_shape("DescribeEndpointConfig")
    base = _shapes.to_aws(d, shape, url_out(ctx))
    out = overlay(base, drop_tags(_records.recall(ctx.platform.db, KIND, name, d["creation_time"])))
    out.update(
        EndpointConfigName=name,
        EndpointConfigArn=ctx.arn("endpoint-config", name),
        CreationTime=d["creation_time"],
    )
    return _shapes.to_aws(out, shape)  # type: ignore[no-any-return]


@operation("SageMaker", "ListEndpointConfigs")
def list_endpoint_configs(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    from sageforge.deploy._models import EndpointConfig

    return list_named(ctx, params, EndpointConfig, "EndpointConfig", "endpoint-config")


@operation("SageMaker", "DeleteEndpointConfig")
def delete_endpoint_config(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["EndpointConfigName"]
    try:
        _deploy(ctx).configs.delete(name)
    except ResourceNotFound:
        raise config_not_found(ctx, name) from None
    _records.forget(ctx.platform.db, KIND, name)
    return {}
