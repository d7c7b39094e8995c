"""CreateTransformJob, DescribeTransformJob, ListTransformJobs, StopTransformJob."""

from __future__ import annotations

from typing import Any

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import validation
from sageforge.compat._json_protocol import operation
from sageforge.compat.sagemaker import _records, _shapes
from sageforge.compat.sagemaker._common import (
    drop_tags,
    native,
    overlay,
    tags_in,
    url_in,
    url_out,
)
from sageforge.compat.sagemaker._model import model_not_found
from sageforge.compat.sagemaker._training import (
    job_named,
    list_job_summaries,
    name_taken,
    stop_job,
)
from sageforge.compat.sagemaker._translate import create_remembered
from sageforge.core.db import Job
from sageforge.core.errors import ResourceNotFound

KIND = "transform"
OP = "CreateTransformJob"


def _deploy(ctx: AwsContext) -> Any:
    return ctx.platform.services["deploy"]


@operation("SageMaker", "CreateTransformJob")
def create_transform_job(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    from sageforge.deploy._spec import CreateTransformJob

    name = params["TransformJobName"]
    try:
        _deploy(ctx).models.get(params["ModelName"])
    except ResourceNotFound:
        raise model_not_found(ctx, params["ModelName"]) from None
    data = _shapes.to_native(params, _shapes.input_shape(OP), url_in(ctx))
    data["tags"] = tags_in(params.get("Tags"))
    split = (data.get("transform_input") or {}).get("split_type")
    if split in ("RecordIO", "TFRecord"):
        raise validation(
            f"TransformInput.SplitType: {split} is not supported here; use Line or None"
        )
    client = data.get("model_client_config")
    if isinstance(client, dict):
        data["model_client_config"] = {k: int(v) for k, v in client.items()}
    req = native(CreateTransformJob, _shapes.fit(data, CreateTransformJob), OP)
    create_remembered(
        ctx,
        OP,
        KIND,
        name,
        params,
        create=lambda: _deploy(ctx).transform.create(req),
        taken=lambda: name_taken(ctx, "transform-job", name),
    )
    return {"TransformJobArn": ctx.arn("transform-job", name)}


def _job(ctx: AwsContext, name: str) -> Job:
    return job_named(ctx, KIND, name)


@operation("SageMaker", "DescribeTransformJob")
def describe_transform_job(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    job = _job(ctx, params["TransformJobName"])
    d = _deploy(ctx).transform.render(job)
    shape = _shapes.output_shape("DescribeTransformJob")
    base = _shapes.to_aws(d, shape, url_out(ctx))
    out = overlay(
        base, drop_tags(_records.recall(ctx.platform.db, KIND, job.name, job.creation_time))
    )
    out.update(
        TransformJobArn=ctx.arn("transform-job", job.name),
        TransformJobStatus=d["transform_job_status"],
        FailureReason=d.get("failure_reason"),
    )
    return _shapes.to_aws(out, shape)  # type: ignore[no-any-return]


@operation("SageMaker", "ListTransformJobs")
def list_transform_jobs(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return list_job_summaries(ctx, params, kind=KIND, noun="Transform", arn_type="transform-job")


@operation("SageMaker", "StopTransformJob")
def stop_transform_job(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    job = _job(ctx, params["TransformJobName"])
    return stop_job(job, "transform", "StopTransformJob", _deploy(ctx).transform.stop)
