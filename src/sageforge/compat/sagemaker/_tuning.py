"""CreateHyperParameterTuningJob, Describe, List, Stop, ListTrainingJobsForHyperParameterTuningJob."""

from __future__ import annotations

from typing import Any

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import AwsError, in_use, not_found, validation
from sageforge.compat._json_protocol import operation
from sageforge.compat.sagemaker import _records, _shapes
from sageforge.compat.sagemaker._algorithm import (
    native_channels,
    training_runtime,
    with_resource_config,
)
from sageforge.compat.sagemaker._common import listed, native, page, tags_in, url_in, url_out
from sageforge.compat.sagemaker._training import jobs_of_kind
from sageforge.compat.sagemaker._translate import native_errors
from sageforge.core.db import Job
from sageforge.core.errors import ResourceNotFound

KIND = "tuning"
OP = "CreateHyperParameterTuningJob"


def _service(ctx: AwsContext) -> Any:
    svc = ctx.platform.services.get("tune")
    if svc is None:
        raise AwsError("InternalFailure", "hyperparameter tuning is not attached", status=500)
    return svc


def _native(ctx: AwsContext, params: dict[str, Any]) -> Any:
    from sageforge.tune._spec import CreateTuningJob

    if params.get("TrainingJobDefinitions"):
        raise validation(
            "TrainingJobDefinitions: tuning several algorithms at once is not supported here; "
            "give one TrainingJobDefinition"
        )
    definition = params.get("TrainingJobDefinition")
    if not definition:
        raise validation("TrainingJobDefinition: is required")
    algo, static = training_runtime(
        ctx, definition["AlgorithmSpecification"], definition.get("StaticHyperParameters") or {},
        "TrainingJobDefinition.AlgorithmSpecification",
    )  # fmt: skip
    data = _shapes.to_native(params, _shapes.input_shape(OP), url_in(ctx))
    tdef = data["training_job_definition"]
    native_channels(tdef.get("input_data_config"), builtin=bool(algo.get("algorithm_name")))
    tdef["algorithm_specification"] = algo
    tdef["static_hyper_parameters"] = static
    data["tags"] = tags_in(params.get("Tags"))
    return native(CreateTuningJob, _shapes.fit(data, CreateTuningJob), OP)


@operation("SageMaker", "CreateHyperParameterTuningJob")
def create_tuning_job(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["HyperParameterTuningJobName"]
    req = _native(ctx, params)
    if _exists(ctx, name):
        raise in_use(f"Hyperparameter tuning job {name!r} already exists")
    # Kept before the job starts: its trials are described from this request.
    _records.remember(ctx.platform.db, KIND, name, params, None)
    try:
        with native_errors(OP):
            out = _service(ctx).create(req)
    except AwsError:
        if not _exists(ctx, name):
            _records.forget(ctx.platform.db, KIND, name)
        raise
    _records.remember(ctx.platform.db, KIND, name, params, out["creation_time"])
    return {"HyperParameterTuningJobArn": ctx.arn("hyper-parameter-tuning-job", name)}


def _exists(ctx: AwsContext, name: str) -> bool:
    try:
        ctx.platform.supervisor.get(KIND, name)
    except ResourceNotFound:
        return False
    return True


def _job(ctx: AwsContext, name: str) -> Job:
    try:
        return ctx.platform.supervisor.get(KIND, name)
    except ResourceNotFound:
        raise not_found(f"Amazon SageMaker can't find a tuning job with name {name}") from None


def _trial(ctx: AwsContext, row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["training_job_arn"] = ctx.arn("training-job", row["training_job_name"])
    out["tuned_hyper_parameters"] = {
        k: str(v) for k, v in (row.get("tuned_hyper_parameters") or {}).items()
    }
    return out


def _summary_shape() -> Any:
    return _shapes.member_shape(
        _shapes.output_shape("DescribeHyperParameterTuningJob"), "BestTrainingJob"
    )


def _reported_definition(job: Job, sent: dict[str, Any], objective: str) -> dict[str, Any]:
    """The TrainingJobDefinition as SageMaker reports it, which the SDK's `attach` relies on.

    SageMaker adds the objective to the static hyperparameters (`attach` deletes
    `_tuning_objective_metric` unconditionally), gives ResourceConfig even when the SDK
    sent HyperParameterTuningResourceConfig, and lists a built-in's metric definitions.
    """
    definition = dict(with_resource_config(sent))
    definition["StaticHyperParameters"] = {
        **(definition.get("StaticHyperParameters") or {}),
        "_tuning_objective_metric": objective,
    }
    algo = dict(definition.get("AlgorithmSpecification") or {})
    if "MetricDefinitions" not in algo:
        algo["MetricDefinitions"] = _builtin_metric_definitions(job)
        definition["AlgorithmSpecification"] = algo
    return definition


def _builtin_metric_definitions(job: Job) -> list[dict[str, str]]:
    """The metrics the built-in of a tuning job's trials emits (none for scripts)."""
    from sageforge.core.errors import ValidationError
    from sageforge.train.algorithms import get_algorithm

    tdef = job.spec.get("training_job_definition") or {}
    name = (tdef.get("algorithm_specification") or {}).get("algorithm_name")
    if not name:
        return []
    algo = get_algorithm(name)
    try:
        typed = algo.validate_hyperparameters(tdef.get("static_hyper_parameters") or {})
    except ValidationError:
        typed = {}
    return [{"Name": m.name, "Regex": m.regex} for m in algo.metric_definitions(typed)]


@operation("SageMaker", "DescribeHyperParameterTuningJob")
def describe_tuning_job(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    job = _job(ctx, params["HyperParameterTuningJobName"])
    d = _service(ctx).render(job)
    req = _records.recall(ctx.platform.db, KIND, job.name, job.creation_time)
    if not req:
        req = _shapes.to_aws(
            {**job.spec, "hyper_parameter_tuning_job_name": job.name},
            _shapes.input_shape(OP),
            url_out(ctx),
        )
    out: dict[str, Any] = {k: v for k, v in req.items() if k != "Tags"}
    objective = (out.get("HyperParameterTuningJobConfig") or {}).get(
        "HyperParameterTuningJobObjective"
    )
    if out.get("TrainingJobDefinition") and objective:
        out["TrainingJobDefinition"] = _reported_definition(
            job, out["TrainingJobDefinition"], objective["MetricName"]
        )
    out.update(
        HyperParameterTuningJobArn=ctx.arn("hyper-parameter-tuning-job", job.name),
        HyperParameterTuningJobStatus=d["hyper_parameter_tuning_job_status"],
        CreationTime=d["creation_time"],
        HyperParameterTuningEndTime=d.get("hyper_parameter_tuning_end_time"),
        LastModifiedTime=d.get("last_modified_time"),
        TrainingJobStatusCounters=d["training_job_status_counters"],
        ObjectiveStatusCounters=d["objective_status_counters"],
        FailureReason=d.get("failure_reason"),
        ConsumedResources=d.get("consumed_resources"),
    )
    if d.get("best_training_job"):
        out["BestTrainingJob"] = _trial(ctx, d["best_training_job"])
        out["OverallBestTrainingJob"] = out["BestTrainingJob"]
    return _shapes.to_aws(out, _shapes.output_shape("DescribeHyperParameterTuningJob"))  # type: ignore[no-any-return]


@operation("SageMaker", "ListHyperParameterTuningJobs")
def list_tuning_jobs(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    svc = _service(ctx)
    shape = _shapes.member_shape(
        _shapes.output_shape("ListHyperParameterTuningJobs"), "HyperParameterTuningJobSummaries"
    )
    rows = []
    for job in jobs_of_kind(ctx, KIND):
        s = svc.summary(job)
        s["hyper_parameter_tuning_job_arn"] = ctx.arn("hyper-parameter-tuning-job", job.name)
        s["resource_limits"] = job.spec["hyper_parameter_tuning_job_config"]["resource_limits"]
        rows.append(_shapes.to_aws(s, shape.member))  # type: ignore[attr-defined]
    chunk, token = page(
        rows, params, name="HyperParameterTuningJobName", status="HyperParameterTuningJobStatus"
    )
    return listed("HyperParameterTuningJobSummaries", chunk, token)


@operation("SageMaker", "ListTrainingJobsForHyperParameterTuningJob")
def list_trials(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    job = _job(ctx, params["HyperParameterTuningJobName"])
    rows = [
        _shapes.to_aws(_trial(ctx, t), _summary_shape())
        for t in _service(ctx).trials(job.name, job)
    ]
    for r in rows:
        r["_objective"] = (r.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value")
    chunk, token = page(
        rows,
        params,
        name="TrainingJobName",
        status="TrainingJobStatus",
        sort_keys={"FinalObjectiveMetricValue": "_objective"},
    )
    return listed("TrainingJobSummaries", [{k: v for k, v in r.items() if k != "_objective"} for r in chunk], token)  # fmt: skip


@operation("SageMaker", "StopHyperParameterTuningJob")
def stop_tuning_job(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    job = _job(ctx, params["HyperParameterTuningJobName"])
    if job.status in ("Completed", "Failed", "Stopped"):
        raise validation(
            f"The request was rejected because the tuning job is in status {job.status}."
        )
    with native_errors("StopHyperParameterTuningJob"):
        _service(ctx).stop(job.name)
    return {}
