"""CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs, StopTrainingJob.

Also the job lookups, listing, stop and name-taken answers that processing and
transform jobs share with training (`jobs_of_kind`, `job_named`,
`list_job_summaries`, `stop_job`, `name_taken`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import AwsError, in_use, validation
from sageforge.compat._json_protocol import operation
from sageforge.compat.sagemaker import _records, _shapes
from sageforge.compat.sagemaker._algorithm import (
    native_channels,
    training_runtime,
    with_resource_config,
)
from sageforge.compat.sagemaker._common import (
    listed,
    native,
    page,
    role,
    tags_in,
    url_in,
    url_out,
)
from sageforge.compat.sagemaker._translate import create_remembered, native_errors
from sageforge.core.db import Job, Tag
from sageforge.core.errors import ResourceNotFound
from sageforge.train import CreateTrainingJob

KIND = "training"
TUNING_TAG = "sageforge:tuning-job"
"""The tag the tuning service puts on its trials (see `sageforge.tune._service`)."""


def native_training_request(ctx: AwsContext, params: dict[str, Any], op: str) -> CreateTrainingJob:
    algo, hps = training_runtime(
        ctx, params["AlgorithmSpecification"], params.get("HyperParameters") or {},
        "AlgorithmSpecification",
    )  # fmt: skip
    data = _shapes.to_native(
        {k: v for k, v in params.items() if k not in ("AlgorithmSpecification", "HyperParameters")},
        _shapes.input_shape(op),
        url_in(ctx),
    )
    native_channels(data.get("input_data_config"), builtin=bool(algo.get("algorithm_name")))
    data["algorithm_specification"] = algo
    data["hyper_parameters"] = hps
    data["tags"] = tags_in(params.get("Tags"))
    return native(CreateTrainingJob, _shapes.fit(data, CreateTrainingJob), op)


@operation("SageMaker", "CreateTrainingJob")
def create_training_job(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["TrainingJobName"]
    req = native_training_request(ctx, params, "CreateTrainingJob")
    create_remembered(
        ctx, "CreateTrainingJob", KIND, name, params, create=lambda: ctx.platform.training.create(req),
        taken=lambda: in_use("Training job names must be unique within an AWS account and region, and "
                       f"a training job with this name already exists ({ctx.arn('training-job', name)})"),
    )  # fmt: skip
    return {"TrainingJobArn": ctx.arn("training-job", name)}


def _job(ctx: AwsContext, name: str) -> Job:
    return job_named(ctx, KIND, name, missing="Requested resource not found.")


def job_named(ctx: AwsContext, kind: str, name: str, *, missing: str | None = None) -> Job:
    """The job, or the ValidationException AWS sends for a missing one (training's says
    `missing`; processing and transform name the job)."""
    try:
        return ctx.platform.supervisor.get(kind, name)
    except ResourceNotFound:
        raise validation(missing or f"Could not find requested job with name {name}") from None


def name_taken(ctx: AwsContext, arn_type: str, name: str) -> AwsError:
    """AWS's ResourceInUse for a processing or transform job name already used."""
    return in_use(
        "Job name must be unique within an AWS account and region, and a job with this "
        f"name already exists ({ctx.arn(arn_type, name)})"
    )


def stop_job(job: Job, noun: str, op: str, stop: Callable[[str], Any]) -> dict[str, Any]:
    """Stop<Noun>Job: refused as AWS refuses it once the job has ended."""
    if job.status in ("Completed", "Failed", "Stopped"):
        raise validation(
            f"The request was rejected because the {noun} job is in status {job.status}."
        )
    with native_errors(op):
        stop(job.name)
    return {}


def tuning_job_of(ctx: AwsContext, job: Job) -> str | None:
    with ctx.platform.db.session() as s:
        return s.scalar(
            sa.select(Tag.value).where(Tag.resource_arn == job.arn, Tag.key == TUNING_TAG)
        )


def request_of(ctx: AwsContext, job: Job) -> tuple[dict[str, Any], str | None]:
    """The AWS request behind a training job, and its tuning job's name for a trial.

    A trial was made by the tuning service, so its request is the tuning job's
    TrainingJobDefinition with the trial's own hyperparameters, as SageMaker
    describes it.
    """
    req = _records.recall(ctx.platform.db, KIND, job.name, job.creation_time)
    tuning = tuning_job_of(ctx, job)
    if req or tuning is None:
        return req, tuning
    parent = _records.recall(ctx.platform.db, "tuning", tuning)
    definition = with_resource_config(parent.get("TrainingJobDefinition") or {})
    if not definition:
        return {}, tuning
    dropped = ("StaticHyperParameters", "DefinitionName", "TuningObjective", "HyperParameterRanges",
               "HyperParameterTuningResourceConfig")  # fmt: skip
    out = {k: v for k, v in definition.items() if k not in dropped}
    out["HyperParameters"] = {
        **(definition.get("StaticHyperParameters") or {}),
        **(job.spec.get("hyper_parameters") or {}),
    }
    return out, tuning


def describe(ctx: AwsContext, job: Job) -> dict[str, Any]:
    d = ctx.platform.training.render(job)
    req, tuning = request_of(ctx, job)
    if not req:
        req = _shapes.to_aws(d, _shapes.input_shape("CreateTrainingJob"), url_out(ctx))
        req["HyperParameters"] = d.get("hyper_parameters") or {}
    out: dict[str, Any] = {k: v for k, v in req.items() if k != "Tags"}
    algo = dict(out.get("AlgorithmSpecification") or {})
    algo.setdefault("TrainingInputMode", "File")
    if not algo.get("MetricDefinitions") and d.get("metric_definitions"):
        algo["MetricDefinitions"] = d["metric_definitions"]
    out["AlgorithmSpecification"] = algo
    # Members SageMaker always answers (the SDK's `attach` indexes them directly).
    out["OutputDataConfig"] = {"KmsKeyId": "", **(out.get("OutputDataConfig") or {})}
    resources = {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}
    out["ResourceConfig"] = {**resources, **(out.get("ResourceConfig") or {})}
    out["StoppingCondition"] = {
        "MaxRuntimeInSeconds": 86400,
        **(out.get("StoppingCondition") or {}),
    }
    output_path = str((out.get("OutputDataConfig") or {}).get("S3OutputPath") or "")
    artifacts = (d.get("model_artifacts") or {}).get("s3_model_artifacts")
    expected = f"{output_path.rstrip('/')}/{job.name}/output/model.tar.gz" if output_path else ""
    out.update(
        TrainingJobName=job.name,
        TrainingJobArn=ctx.arn("training-job", job.name),
        ModelArtifacts={"S3ModelArtifacts": url_out(ctx)(artifacts) if artifacts else expected},
        TrainingJobStatus=d["training_job_status"],
        SecondaryStatus=d["secondary_status"] or d["training_job_status"],
        FailureReason=d.get("failure_reason"),
        HyperParameters=out.get("HyperParameters") or {},
        RoleArn=role(ctx, out),
        CreationTime=d["creation_time"],
        TrainingStartTime=d.get("training_start_time"),
        TrainingEndTime=d.get("training_end_time"),
        LastModifiedTime=d.get("last_modified_time"),
        SecondaryStatusTransitions=d.get("secondary_status_transitions") or [],
        FinalMetricDataList=d.get("final_metric_data_list") or [],
        TrainingTimeInSeconds=d.get("training_time_in_seconds"),
        BillableTimeInSeconds=d.get("billable_time_in_seconds"),
        EnableNetworkIsolation=bool(out.get("EnableNetworkIsolation", False)),
        EnableInterContainerTrafficEncryption=bool(
            out.get("EnableInterContainerTrafficEncryption", False)
        ),
        EnableManagedSpotTraining=bool(out.get("EnableManagedSpotTraining", False)),
    )
    if tuning:
        out["TuningJobArn"] = ctx.arn("hyper-parameter-tuning-job", tuning)
    return _shapes.to_aws(out, _shapes.output_shape("DescribeTrainingJob"))  # type: ignore[no-any-return]


@operation("SageMaker", "DescribeTrainingJob")
def describe_training_job(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return describe(ctx, _job(ctx, params["TrainingJobName"]))


def summary(ctx: AwsContext, job: Job) -> dict[str, Any]:
    return {
        "TrainingJobName": job.name,
        "TrainingJobArn": ctx.arn("training-job", job.name),
        "CreationTime": job.creation_time,
        "TrainingEndTime": job.end_time,
        "LastModifiedTime": job.last_modified_time,
        "TrainingJobStatus": job.status,
        "SecondaryStatus": job.secondary_status or job.status,
    }


def jobs_of_kind(ctx: AwsContext, kind: str) -> list[Job]:
    with ctx.platform.db.session() as s:
        q = sa.select(Job).where(Job.kind == kind).options(selectinload(Job.transitions))
        return list(s.scalars(q))


@operation("SageMaker", "ListTrainingJobs")
def list_training_jobs(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    rows = [summary(ctx, j) for j in jobs_of_kind(ctx, KIND)]
    chunk, token = page(rows, params, name="TrainingJobName", status="TrainingJobStatus")
    return listed("TrainingJobSummaries", [_clean(r) for r in chunk], token)


@operation("SageMaker", "StopTrainingJob")
def stop_training_job(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    job = _job(ctx, params["TrainingJobName"])
    return stop_job(job, "training", "StopTrainingJob", ctx.platform.training.stop)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v is not None}


def list_job_summaries(
    ctx: AwsContext, params: dict[str, Any], *, kind: str, noun: str, arn_type: str
) -> dict[str, Any]:
    """List<Noun>Jobs for the job kinds whose summaries are just name, ARN, times and
    status (`noun` is "Processing" or "Transform": SageMaker names every member after it)."""
    rows = [
        {
            f"{noun}JobName": j.name,
            f"{noun}JobArn": ctx.arn(arn_type, j.name),
            "CreationTime": j.creation_time,
            f"{noun}EndTime": j.end_time,
            "LastModifiedTime": j.last_modified_time,
            f"{noun}JobStatus": j.status,
            "FailureReason": j.failure_reason,
        }
        for j in jobs_of_kind(ctx, kind)
    ]
    chunk, token = page(rows, params, name=f"{noun}JobName", status=f"{noun}JobStatus")
    return listed(f"{noun}JobSummaries", [_clean(r) for r in chunk], token)
