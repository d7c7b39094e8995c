"""CreateProcessingJob, DescribeProcessingJob, ListProcessingJobs, StopProcessingJob.

The command runs with sageforge's interpreter; the image only says which
libraries the script expects, so it must be one sageforge can stand in for.
"""

from __future__ import annotations

from typing import Any

from sageforge.compat._context import AwsContext
from sageforge.compat._json_protocol import operation
from sageforge.compat.sagemaker import _records, _shapes
from sageforge.compat.sagemaker._common import (
    drop_tags,
    native,
    overlay,
    role,
    tags_in,
    url_in,
    url_out,
)
from sageforge.compat.sagemaker._images import resolve_image
from sageforge.compat.sagemaker._training import (
    job_named,
    list_job_summaries,
    name_taken,
    stop_job,
)
from sageforge.compat.sagemaker._translate import create_remembered
from sageforge.core.db import Job
from sageforge.data.processing import CreateProcessingJob

KIND = "processing"
OP = "CreateProcessingJob"


@operation("SageMaker", "CreateProcessingJob")
def create_processing_job(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["ProcessingJobName"]
    app = params["AppSpecification"]
    if app.get("ImageUri"):
        resolve_image(str(app["ImageUri"]), script=True, field="AppSpecification.ImageUri")
    data = _shapes.to_native(params, _shapes.input_shape(OP), url_in(ctx))
    data["app_specification"].pop("image_uri", None)
    for item in data.get("processing_inputs") or []:
        s3 = item.get("s3_input") or {}
        if s3.get("s3_data_distribution_type") == "ShardedByS3Key":
            s3["s3_data_distribution_type"] = "FullyReplicated"
    for item in (data.get("processing_output_config") or {}).get("outputs") or []:
        s3 = item.get("s3_output") or {}
        if s3.get("s3_upload_mode") == "Continuous":
            s3["s3_upload_mode"] = "EndOfJob"  # the outputs are uploaded when the job ends
    data["tags"] = tags_in(params.get("Tags"))
    req = native(CreateProcessingJob, _shapes.fit(data, CreateProcessingJob), OP)
    create_remembered(
        ctx,
        OP,
        KIND,
        name,
        params,
        create=lambda: ctx.platform.processing.create(req),
        taken=lambda: name_taken(ctx, "processing-job", name),
    )
    return {"ProcessingJobArn": ctx.arn("processing-job", name)}


def _job(ctx: AwsContext, name: str) -> Job:
    return job_named(ctx, KIND, name)


@operation("SageMaker", "DescribeProcessingJob")
def describe_processing_job(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    job = _job(ctx, params["ProcessingJobName"])
    d = ctx.platform.processing.render(job)
    shape = _shapes.output_shape("DescribeProcessingJob")
    base = _shapes.to_aws(d, shape, url_out(ctx))
    req = _records.recall(ctx.platform.db, KIND, job.name, job.creation_time)
    out = overlay(base, drop_tags(req))
    out.update(
        ProcessingJobArn=ctx.arn("processing-job", job.name),
        ProcessingJobStatus=d["processing_job_status"],
        RoleArn=role(ctx, out),
    )
    if d.get("failure_reason"):
        out["FailureReason"] = out["ExitMessage"] = d["failure_reason"]
    return _shapes.to_aws(out, shape)  # type: ignore[no-any-return]


@operation("SageMaker", "ListProcessingJobs")
def list_processing_jobs(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return list_job_summaries(ctx, params, kind=KIND, noun="Processing", arn_type="processing-job")


@operation("SageMaker", "StopProcessingJob")
def stop_processing_job(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    job = _job(ctx, params["ProcessingJobName"])
    return stop_job(job, "processing", "StopProcessingJob", ctx.platform.processing.stop)
