"""CreateProcessingJob's request, in SageMaker's shape (snake_case)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from sageforge.core.spec import Spec, StoppingCondition, TagSpec

PROCESSING_ROOT = "/opt/ml/processing"


def _check_local_path(v: str) -> str:
    # Local paths are container paths; they are mapped into the job folder, so they
    # must live under /opt/ml/processing as SageMaker requires.
    if not (v == PROCESSING_ROOT or v.startswith(PROCESSING_ROOT + "/")):
        raise ValueError(f"must be under {PROCESSING_ROOT}")
    if ".." in v.split("/"):
        raise ValueError("must not contain '..'")
    return v.rstrip("/")


class S3Input(Spec):
    """Data placed in the job's folder before the script starts."""

    s3_uri: Annotated[str, Field(min_length=1, max_length=1024)]
    local_path: str
    s3_data_type: Literal["S3Prefix"] = "S3Prefix"
    s3_input_mode: Literal["File"] = "File"
    s3_data_distribution_type: Literal["FullyReplicated"] = "FullyReplicated"

    @field_validator("local_path")
    @classmethod
    def _under_processing_root(cls, v: str) -> str:
        return _check_local_path(v)


class ProcessingInput(Spec):
    input_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9\-_]+$", max_length=256)]
    s3_input: S3Input


class S3Output(Spec):
    """A folder of the job uploaded to `s3_uri` when the job ends."""

    s3_uri: Annotated[str, Field(min_length=1, max_length=1024)]
    local_path: str
    s3_upload_mode: Literal["EndOfJob"] = "EndOfJob"

    @field_validator("local_path")
    @classmethod
    def _under_processing_root(cls, v: str) -> str:
        return _check_local_path(v)


class ProcessingOutput(Spec):
    output_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9\-_]+$", max_length=256)]
    s3_output: S3Output


class ProcessingOutputConfig(Spec):
    outputs: Annotated[list[ProcessingOutput], Field(max_length=10)] = []


class AppSpecification(Spec):
    """The command: `container_entrypoint` + `container_arguments`.

    `python`/`python3` as the first word runs sageforge's own interpreter, so
    the script sees the same libraries as the platform.
    """

    image_uri: str | None = None
    container_entrypoint: Annotated[list[str], Field(min_length=1, max_length=100)]
    container_arguments: Annotated[list[str], Field(max_length=256)] = []


class ClusterConfig(Spec):
    instance_count: Annotated[int, Field(ge=1, le=1)] = 1
    instance_type: str = "local"
    volume_size_in_gb: Annotated[int, Field(ge=1)] = 30


class ProcessingResources(Spec):
    cluster_config: ClusterConfig = ClusterConfig()


class CreateProcessingJob(Spec):
    """The CreateProcessingJob request."""

    processing_job_name: str
    app_specification: AppSpecification
    processing_inputs: Annotated[list[ProcessingInput], Field(max_length=10)] = []
    processing_output_config: ProcessingOutputConfig = ProcessingOutputConfig()
    processing_resources: ProcessingResources = ProcessingResources()
    stopping_condition: StoppingCondition = StoppingCondition()
    environment: Annotated[dict[str, str], Field(max_length=100)] = {}
    tags: Annotated[list[TagSpec], Field(max_length=50)] = []

    @field_validator("processing_inputs")
    @classmethod
    def _unique_inputs(cls, v: list[ProcessingInput]) -> list[ProcessingInput]:
        names = [i.input_name for i in v]
        if len(names) != len(set(names)):
            raise ValueError("input names must be unique")
        return v

    @field_validator("processing_output_config")
    @classmethod
    def _unique_outputs(cls, v: ProcessingOutputConfig) -> ProcessingOutputConfig:
        names = [o.output_name for o in v.outputs]
        if len(names) != len(set(names)):
            raise ValueError("output names must be unique")
        return v
