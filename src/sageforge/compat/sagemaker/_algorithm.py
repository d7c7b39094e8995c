"""A training job's AlgorithmSpecification and hyperparameters → a native one.

Shared by CreateTrainingJob and the TrainingJobDefinition of a tuning job.
Script mode follows the SageMaker SDK's contract: `sagemaker_program` names
the entry point and `sagemaker_submit_directory` the `sourcedir.tar.gz` in
S3, both JSON-encoded as every framework hyperparameter is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import validation
from sageforge.compat.sagemaker._common import url_in
from sageforge.compat.sagemaker._images import Runtime, resolve_image

_DROPPED_FOR_BUILTINS = ("sagemaker_", "_")
"""Hyperparameters the SDK adds for its own bookkeeping (`_tuning_objective_metric`,
`sagemaker_estimator_class_name` …); SageMaker's built-ins ignore them."""


def decode_hp(value: Any) -> Any:
    """A framework hyperparameter as the training toolkit reads it (JSON when it parses)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def training_runtime(
    ctx: AwsContext, spec: Mapping[str, Any], hps: Mapping[str, str], field: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """(native algorithm_specification, native hyper_parameters) for an AWS request."""
    program = decode_hp(hps.get("sagemaker_program"))
    image = spec.get("TrainingImage")
    if image:
        runtime = resolve_image(str(image), script=bool(program), field=f"{field}.TrainingImage")
    elif spec.get("AlgorithmName"):
        runtime = _named_builtin(str(spec["AlgorithmName"]), f"{field}.AlgorithmName")
    else:
        raise validation(f"{field}: give TrainingImage or AlgorithmName")
    mode = spec.get("TrainingInputMode") or "File"
    if mode == "Pipe":
        if runtime.script_mode:
            raise validation(
                f"{field}.TrainingInputMode: Pipe mode is not available for scripts here; "
                "use File or FastFile"
            )
        mode = "File"  # built-ins read the same records from files
    native: dict[str, Any] = {
        "training_input_mode": mode,
        "metric_definitions": [
            {"name": m["Name"], "regex": m["Regex"]} for m in spec.get("MetricDefinitions") or []
        ],
    }
    if runtime.script_mode:
        submit = decode_hp(hps.get("sagemaker_submit_directory"))
        if not isinstance(program, str) or not isinstance(submit, str) or not submit:
            raise validation(
                f"{field}: script mode needs the hyperparameters sagemaker_program (the entry "
                "point) and sagemaker_submit_directory (an s3:// URL of sourcedir.tar.gz)"
            )
        native["entry_point"] = program
        native["source_dir"] = url_in(ctx)(submit)
        return native, dict(hps)
    native["algorithm_name"] = runtime.algorithm
    kept = {k: v for k, v in hps.items() if not k.startswith(_DROPPED_FOR_BUILTINS)}
    return native, kept


def _named_builtin(name: str, field: str) -> Runtime:
    from sageforge.train.algorithms import available_algorithms

    if name in available_algorithms():
        return Runtime(repository=name, tag="latest", algorithm=name)
    raise validation(
        f"{field}: no algorithm named {name!r}; use TrainingImage with a SageMaker image URI, "
        f"or one of sageforge's built-ins: {', '.join(available_algorithms())}"
    )


CONTENT_TYPE_ALIASES = {"csv": "text/csv", "parquet": "application/x-parquet"}
"""Short channel content types SageMaker's XGBoost takes (the example notebooks write `csv`)."""


def native_channels(channels: list[dict[str, Any]] | None, builtin: bool) -> None:
    """Adjust native channels (in place) to what one host running here means."""
    for channel in channels or []:
        source = (channel.get("data_source") or {}).get("s3_data_source") or {}
        if source.get("s3_data_distribution_type") == "ShardedByS3Key":
            source["s3_data_distribution_type"] = "FullyReplicated"  # one host holds every shard
        if channel.get("input_mode") == "Pipe" and builtin:
            channel["input_mode"] = "File"  # built-ins read the same records from files
        content_type = channel.get("content_type")
        if isinstance(content_type, str) and content_type.lower() in CONTENT_TYPE_ALIASES:
            channel["content_type"] = CONTENT_TYPE_ALIASES[content_type.lower()]


def with_resource_config(definition: dict[str, Any]) -> dict[str, Any]:
    """A tuning job's TrainingJobDefinition with ResourceConfig, as SageMaker describes it.

    The SageMaker SDK sends HyperParameterTuningResourceConfig instead, yet
    reads ResourceConfig back (`HyperparameterTuner.attach`), as AWS fills it in.
    """
    if definition.get("ResourceConfig") or not definition.get("HyperParameterTuningResourceConfig"):
        return definition
    hpo = definition["HyperParameterTuningResourceConfig"]
    first = (hpo.get("InstanceConfigs") or [{}])[0]
    resource = {
        "InstanceType": hpo.get("InstanceType") or first.get("InstanceType") or "ml.m5.large",
        "InstanceCount": hpo.get("InstanceCount") or first.get("InstanceCount") or 1,
        "VolumeSizeInGB": hpo.get("VolumeSizeInGB") or first.get("VolumeSizeInGB") or 30,
    }
    if hpo.get("VolumeKmsKeyId"):
        resource["VolumeKmsKeyId"] = hpo["VolumeKmsKeyId"]
    return {**definition, "ResourceConfig": resource}
