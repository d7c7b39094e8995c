"""CreateTrainingJob's request, in SageMaker's shape (snake_case)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from sageforge.core.spec import MetricDefinitionSpec, Spec, StoppingCondition, TagSpec

DEFAULT_OUTPUT_PATH = "store://training-jobs"


class S3DataSource(Spec):
    """Where a channel's data lives: a store key URL, any fsspec URL or a local path."""

    s3_uri: Annotated[str, Field(min_length=1, max_length=1024)]
    s3_data_type: Literal["S3Prefix"] = "S3Prefix"
    s3_data_distribution_type: Literal["FullyReplicated"] = "FullyReplicated"


class DataSource(Spec):
    s3_data_source: S3DataSource


class ChannelSpec(Spec):
    """One input channel: a name the script sees and the data behind it."""

    channel_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9\.\-_]+$", max_length=64)]
    data_source: DataSource
    content_type: Annotated[str | None, Field(max_length=256)] = None
    compression_type: Literal["None"] = "None"
    input_mode: Literal["File", "FastFile"] | None = None


class AlgorithmSpecification(Spec):
    """What runs: a built-in (`algorithm_name`) or the user's script (`entry_point`)."""

    algorithm_name: Annotated[str | None, Field(max_length=170)] = None
    entry_point: Annotated[str | None, Field(max_length=256)] = None
    source_dir: Annotated[str | None, Field(max_length=1024)] = None
    training_image: str | None = None
    training_input_mode: Literal["File", "FastFile"] = "File"
    metric_definitions: Annotated[list[MetricDefinitionSpec], Field(max_length=40)] = []

    @field_validator("entry_point")
    @classmethod
    def _relative_python_file(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if v.startswith("/") or ".." in v.split("/"):
            raise ValueError("must be a path relative to source_dir")
        if not v.endswith(".py"):
            raise ValueError("must be a Python file (.py)")
        return v

    @model_validator(mode="after")
    def _one_kind_of_code(self) -> AlgorithmSpecification:
        chosen = [
            n for n in ("algorithm_name", "entry_point", "training_image") if getattr(self, n)
        ]
        if len(chosen) != 1:
            raise ValueError(
                "give exactly one of algorithm_name (a built-in), entry_point (your script) "
                f"or training_image; got {', '.join(chosen) or 'none'}"
            )
        if self.source_dir and not self.entry_point:
            raise ValueError("source_dir is only used with entry_point")
        return self


class OutputDataConfig(Spec):
    """Where model.tar.gz and output.tar.gz go: `<s3_output_path>/<job>/output/`."""

    s3_output_path: Annotated[str, Field(min_length=1, max_length=1024)] = DEFAULT_OUTPUT_PATH


class ResourceConfig(Spec):
    """Accepted for compatibility; a local job uses this machine's cores."""

    instance_type: str = "local"
    instance_count: Annotated[int, Field(ge=1, le=1)] = 1
    volume_size_in_gb: Annotated[int, Field(ge=1)] = 30


class CreateTrainingJob(Spec):
    """The CreateTrainingJob request."""

    training_job_name: str
    algorithm_specification: AlgorithmSpecification
    hyper_parameters: Annotated[dict[str, str], Field(max_length=100)] = {}
    input_data_config: Annotated[list[ChannelSpec], Field(max_length=20)] = []
    output_data_config: OutputDataConfig = OutputDataConfig()
    resource_config: ResourceConfig = ResourceConfig()
    stopping_condition: StoppingCondition = StoppingCondition()
    environment: Annotated[dict[str, str], Field(max_length=100)] = {}
    tags: Annotated[list[TagSpec], Field(max_length=50)] = []

    @field_validator("hyper_parameters", mode="before")
    @classmethod
    def _values_as_strings(cls, v: Any) -> Any:
        # SageMaker's API carries every hyperparameter as a string; accept numbers
        # and booleans from friendlier clients and store them the way SageMaker would.
        if isinstance(v, dict):
            return {
                str(k): (str(val).lower() if isinstance(val, bool) else str(val))
                for k, val in v.items()
            }
        return v

    @field_validator("input_data_config")
    @classmethod
    def _unique_channels(cls, v: list[ChannelSpec]) -> list[ChannelSpec]:
        names = [c.channel_name for c in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"channel names must be unique; repeated: {', '.join(dupes)}")
        return v
