"""CreateModel, DescribeModel, ListModels, DeleteModel.

Each container's image says what serves it (see `_images`): a built-in's
inference handler over ModelDataUrl, or the user's inference script named by
`SAGEMAKER_PROGRAM`, with its code from `SAGEMAKER_SUBMIT_DIRECTORY` (an S3
`sourcedir.tar.gz`) or from `code/` inside model.tar.gz, as the framework
containers read it. DeleteModel succeeds while endpoints use the model, as in
SageMaker: a running endpoint keeps serving what it loaded.
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
    role,
    tags_in,
    url_in,
    url_out,
)
from sageforge.compat.sagemaker._images import resolve_image
from sageforge.compat.sagemaker._translate import create_remembered
from sageforge.core.errors import ResourceNotFound

KIND = "model"
OP = "CreateModel"
FRAMEWORK_ENV = "SAGEFORGE_FRAMEWORK"
"""Tells the inference handler which framework container it plays (its default model_fn)."""


def model_not_found(ctx: AwsContext, name: str) -> AwsError:
    return validation(f'Could not find model "{ctx.arn("model", name)}".')


def native_container(ctx: AwsContext, c: dict[str, Any], where: str) -> dict[str, Any]:
    env = {str(k): str(v) for k, v in (c.get("Environment") or {}).items()}
    program = env.get("SAGEMAKER_PROGRAM")
    source = (c.get("ModelDataSource") or {}).get("S3DataSource") or {}
    model_data = c.get("ModelDataUrl") or source.get("S3Uri")
    out: dict[str, Any] = {"environment": env}
    if c.get("ContainerHostname"):
        out["container_hostname"] = c["ContainerHostname"]
    if model_data:
        out["model_data_url"] = url_in(ctx)(str(model_data))
    if not c.get("Image"):
        if c.get("ModelPackageName"):
            raise validation(f"{where}.ModelPackageName: model packages are not supported here")
        raise validation(f"{where}.Image: is required")
    runtime = resolve_image(str(c["Image"]), script=bool(program), field=f"{where}.Image")
    if runtime.script_mode:
        out["entry_point"] = program
        submit = env.get("SAGEMAKER_SUBMIT_DIRECTORY", "")
        if submit.startswith("s3://"):
            out["source_dir"] = url_in(ctx)(submit)
        out["environment"] = {**env, FRAMEWORK_ENV: str(runtime.framework)}
    else:
        out["algorithm_name"] = runtime.algorithm
    return out


def _deploy(ctx: AwsContext) -> Any:
    return ctx.platform.services["deploy"]


@operation("SageMaker", "CreateModel")
def create_model(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    from sageforge.deploy._spec import CreateModel

    name = params["ModelName"]
    mode = (params.get("InferenceExecutionConfig") or {}).get("Mode", "Serial")
    if mode != "Serial":
        raise validation(
            "InferenceExecutionConfig.Mode: only Serial inference pipelines are supported here"
        )
    data: dict[str, Any] = {"model_name": name, "tags": tags_in(params.get("Tags"))}
    if params.get("PrimaryContainer"):
        data["primary_container"] = native_container(
            ctx, params["PrimaryContainer"], "PrimaryContainer"
        )
    if params.get("Containers"):
        data["containers"] = [
            native_container(ctx, c, f"Containers[{i}]") for i, c in enumerate(params["Containers"])
        ]
    if not params.get("PrimaryContainer") and not params.get("Containers"):
        raise validation("PrimaryContainer: give PrimaryContainer or Containers")
    req = native(CreateModel, data, OP)
    create_remembered(
        ctx, OP, KIND, name, params, create=lambda: _deploy(ctx).models.create(req),
        taken=lambda: validation(f'Cannot create already existing model "{ctx.arn("model", name)}".'),
    )  # fmt: skip
    return {"ModelArn": ctx.arn("model", name)}


@operation("SageMaker", "DescribeModel")
def describe_model(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["ModelName"]
    try:
        d = _deploy(ctx).models.describe(name)
    except ResourceNotFound:
        raise model_not_found(ctx, name) from None
    shape = _shapes.output_shape("DescribeModel")
    req = _records.recall(ctx.platform.db, KIND, name, d["creation_time"])
    out = drop_tags(req) if req else _shapes.to_aws(d, shape, url_out(ctx))
    out.update(
        ModelName=name,
        ModelArn=ctx.arn("model", name),
        CreationTime=d["creation_time"],
        ExecutionRoleArn=role(ctx, out, "ExecutionRoleArn"),
        EnableNetworkIsolation=bool(out.get("EnableNetworkIsolation", False)),
    )
    return _shapes.to_aws(out, shape)  # type: ignore[no-any-return]


@operation("SageMaker", "ListModels")
def list_models(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    from sageforge.deploy._models import DeployModel

    return list_named(ctx, params, DeployModel, "Model", "model")


@operation("SageMaker", "DeleteModel")
def delete_model(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["ModelName"]
    try:
        _deploy(ctx).models.delete(name)
    except ResourceNotFound:
        raise model_not_found(ctx, name) from None
    _records.forget(ctx.platform.db, KIND, name)
    return {}
