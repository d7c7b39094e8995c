"""CreateHyperParameterTuningJob's request, in SageMaker's shape (snake_case)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from sageforge.core.spec import Spec, StoppingCondition, TagSpec
from sageforge.train._spec import (
    AlgorithmSpecification,
    ChannelSpec,
    OutputDataConfig,
    ResourceConfig,
)


class Objective(Spec):
    type: Literal["Maximize", "Minimize"]
    metric_name: Annotated[str, Field(min_length=1, max_length=255)]


class ResourceLimits(Spec):
    max_number_of_training_jobs: Annotated[int | None, Field(ge=1, le=10000)] = None
    max_parallel_training_jobs: Annotated[int, Field(ge=1, le=100)] = 1
    max_runtime_in_seconds: Annotated[int | None, Field(ge=1)] = None


class _Range(Spec):
    name: Annotated[str, Field(min_length=1, max_length=256)]


class NumericRange(_Range):
    min_value: str
    max_value: str
    scaling_type: str = "Auto"

    @field_validator("min_value", "max_value", mode="before")
    @classmethod
    def _as_string(cls, v: Any) -> Any:
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


class CategoricalRange(_Range):
    values: Annotated[list[str], Field(min_length=1, max_length=30)]

    @field_validator("values", mode="before")
    @classmethod
    def _as_strings(cls, v: Any) -> Any:
        return [str(x) for x in v] if isinstance(v, list) else v


class ParameterRanges(Spec):
    integer_parameter_ranges: Annotated[list[NumericRange], Field(max_length=30)] = []
    continuous_parameter_ranges: Annotated[list[NumericRange], Field(max_length=30)] = []
    categorical_parameter_ranges: Annotated[list[CategoricalRange], Field(max_length=30)] = []


class HyperbandStrategyConfig(Spec):
    min_resource: Annotated[int, Field(ge=1)] = 1
    max_resource: Annotated[int, Field(ge=1)]


class StrategyConfig(Spec):
    hyperband_strategy_config: HyperbandStrategyConfig | None = None


class TuningJobConfig(Spec):
    strategy: Literal["Bayesian", "Random", "Grid", "Hyperband"] = "Bayesian"
    strategy_config: StrategyConfig | None = None
    hyper_parameter_tuning_job_objective: Objective
    resource_limits: ResourceLimits = ResourceLimits()
    parameter_ranges: ParameterRanges
    training_job_early_stopping_type: Literal["Off", "Auto"] = "Off"
    random_seed: Annotated[int | None, Field(ge=0)] = None


class TrainingJobDefinition(Spec):
    """The template every trial's training job is made from."""

    algorithm_specification: AlgorithmSpecification
    static_hyper_parameters: Annotated[dict[str, str], Field(max_length=100)] = {}
    input_data_config: Annotated[list[ChannelSpec], Field(max_length=20)] = []
    output_data_config: OutputDataConfig = OutputDataConfig()
    resource_config: ResourceConfig = ResourceConfig()
    stopping_condition: StoppingCondition = StoppingCondition()
    environment: Annotated[dict[str, str], Field(max_length=100)] = {}

    @field_validator("static_hyper_parameters", mode="before")
    @classmethod
    def _values_as_strings(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: (str(x).lower() if isinstance(x, bool) else str(x)) for k, x in v.items()}
        return v


class ParentJob(Spec):
    hyper_parameter_tuning_job_name: str


class WarmStartConfig(Spec):
    parent_hyper_parameter_tuning_jobs: Annotated[
        list[ParentJob], Field(min_length=1, max_length=5)
    ]
    warm_start_type: Literal["IdenticalDataAndAlgorithm", "TransferLearning"]


class CreateTuningJob(Spec):
    """The CreateHyperParameterTuningJob request."""

    hyper_parameter_tuning_job_name: Annotated[str, Field(max_length=32)]
    hyper_parameter_tuning_job_config: TuningJobConfig
    training_job_definition: TrainingJobDefinition
    warm_start_config: WarmStartConfig | None = None
    tags: Annotated[list[TagSpec], Field(max_length=50)] = []
