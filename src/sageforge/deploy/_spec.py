"""Hosting requests in SageMaker's shape (snake_case): models, configs, endpoints, transforms.

The field names are SageMaker's (`primary_container.model_data_url`,
`production_variants[].initial_variant_weight`, `data_capture_config` …) so the
SageMaker-compatible API is a mechanical translation. Where sageforge needs a
knob SageMaker spells through CloudWatch (rollback thresholds) or does not have
(serverless idle time), the extra field is named for what it does and documented
in docs/deployment.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sageforge.core.spec import Spec, TagSpec

Name = Annotated[str, Field(min_length=1, max_length=63)]


# -- models ------------------------------------------------------------------------------------


class ContainerDefinition(Spec):
    """How to serve one model: its artifact plus a built-in, the user's code, or a data-prep flow.

    Exactly one of `algorithm_name` (a built-in's inference handler), `entry_point`
    (the user's `inference.py` contract) or `flow_url` (a fitted data-prep flow,
    only as a non-final container of a pipeline) says what answers.
    """

    model_data_url: Annotated[str | None, Field(max_length=1024)] = None
    algorithm_name: Annotated[str | None, Field(max_length=170)] = None
    entry_point: Annotated[str | None, Field(max_length=256)] = None
    source_dir: Annotated[str | None, Field(max_length=1024)] = None
    flow_url: Annotated[str | None, Field(max_length=1024)] = None
    image: str | None = None
    environment: Annotated[dict[str, str], Field(max_length=100)] = {}
    container_hostname: Annotated[str | None, Field(max_length=63)] = None

    @field_validator("entry_point")
    @classmethod
    def _relative_python_file(cls, v: str | None) -> str | None:
        if v is not None and (v.startswith("/") or ".." in v.split("/") or not v.endswith(".py")):
            raise ValueError("must be a Python file (.py) relative to source_dir")
        return v

    @model_validator(mode="after")
    def _one_kind_of_code(self) -> ContainerDefinition:
        if self.image:
            raise ValueError(
                "container images are not run here; use algorithm_name for a built-in, "
                "entry_point for your inference.py, or flow_url for a data-prep flow"
            )
        chosen = [n for n in ("algorithm_name", "entry_point", "flow_url") if getattr(self, n)]
        if len(chosen) != 1:
            raise ValueError(
                "give exactly one of algorithm_name, entry_point or flow_url; "
                f"got {', '.join(chosen) or 'none'}"
            )
        if self.algorithm_name and not self.model_data_url:
            raise ValueError("a built-in needs model_data_url (the training job's model.tar.gz)")
        if self.source_dir and not self.entry_point:
            raise ValueError("source_dir is only used with entry_point")
        return self


class CreateModel(Spec):
    """The CreateModel request: one container, or an inference pipeline of several."""

    model_name: Name
    primary_container: ContainerDefinition | None = None
    containers: Annotated[list[ContainerDefinition], Field(max_length=15)] = []
    execution_role_arn: str | None = None
    tags: Annotated[list[TagSpec], Field(max_length=50)] = []

    @model_validator(mode="after")
    def _one_or_pipeline(self) -> CreateModel:
        if (self.primary_container is None) == (not self.containers):
            raise ValueError("give either primary_container or containers (a pipeline), not both")
        chain = self.chain()
        if chain[-1].flow_url:
            raise ValueError("the last container of a pipeline must be a model, not a flow")
        return self

    def chain(self) -> list[ContainerDefinition]:
        """The containers a request passes through, in order."""
        return [self.primary_container] if self.primary_container else list(self.containers)


# -- endpoint configurations ---------------------------------------------------------------------


class ServerlessConfig(Spec):
    """A serverless variant: no process while idle, cold start on the next request."""

    memory_size_in_mb: Annotated[int, Field(ge=1024, le=6144)] = 2048
    max_concurrency: Annotated[int, Field(ge=1, le=200)] = 1
    idle_timeout_in_seconds: Annotated[float, Field(gt=0, le=86400)] = 300.0
    """sageforge: how long a serverless variant stays warm without requests."""


class ProductionVariant(Spec):
    """One variant: a model behind `initial_instance_count` worker processes, with a weight."""

    variant_name: Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9\-]+$")]
    model_name: Name
    initial_variant_weight: Annotated[float, Field(ge=0)] = 1.0
    initial_instance_count: Annotated[int, Field(ge=1, le=64)] = 1
    instance_type: str = "local"
    serverless_config: ServerlessConfig | None = None


class CaptureOption(Spec):
    capture_mode: Literal["Input", "Output", "InputAndOutput"]


class CaptureContentTypeHeader(Spec):
    """Which content types are captured as text (CSV/JSON) rather than base64."""

    csv_content_types: list[str] = ["text/csv"]
    json_content_types: list[str] = [
        "application/json",
        "application/jsonlines",
        "application/x-jsonlines",
    ]


class DataCaptureConfig(Spec):
    """SageMaker's DataCaptureConfig: what share of requests to record, what, and where."""

    enable_capture: bool = True
    initial_sampling_percentage: Annotated[float, Field(ge=0, le=100)] = 100.0
    destination_s3_uri: Annotated[str, Field(min_length=1, max_length=1024)]
    capture_options: Annotated[list[CaptureOption], Field(min_length=1, max_length=2)] = [
        CaptureOption(capture_mode="Input"),
        CaptureOption(capture_mode="Output"),
    ]
    capture_content_type_header: CaptureContentTypeHeader = CaptureContentTypeHeader()
    kms_key_id: str | None = None


class AsyncOutputConfig(Spec):
    s3_output_path: Annotated[str, Field(min_length=1, max_length=1024)]
    s3_failure_path: Annotated[str | None, Field(max_length=1024)] = None


class AsyncClientConfig(Spec):
    max_concurrent_invocations_per_instance: Annotated[int, Field(ge=1, le=1000)] = 4


class AsyncInferenceConfig(Spec):
    """Asynchronous inference: inputs read from the store, outputs written back."""

    output_config: AsyncOutputConfig
    client_config: AsyncClientConfig = AsyncClientConfig()


class CreateEndpointConfig(Spec):
    """The CreateEndpointConfig request."""

    endpoint_config_name: Name
    production_variants: Annotated[list[ProductionVariant], Field(min_length=1, max_length=10)]
    shadow_production_variants: Annotated[list[ProductionVariant], Field(max_length=1)] = []
    data_capture_config: DataCaptureConfig | None = None
    async_inference_config: AsyncInferenceConfig | None = None
    kms_key_id: str | None = None
    tags: Annotated[list[TagSpec], Field(max_length=50)] = []

    @model_validator(mode="after")
    def _consistent(self) -> CreateEndpointConfig:
        names = [v.variant_name for v in self.production_variants + self.shadow_production_variants]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"variant names must be unique; repeated: {', '.join(dupes)}")
        if sum(v.initial_variant_weight for v in self.production_variants) <= 0:
            raise ValueError("at least one production variant needs a weight above 0")
        serverless = [v.serverless_config is not None for v in self.production_variants]
        if any(serverless) and (len(serverless) > 1 or self.shadow_production_variants):
            raise ValueError("a serverless endpoint configuration has exactly one variant")
        if any(serverless) and self.async_inference_config:
            raise ValueError("asynchronous inference needs instance-based variants")
        return self


# -- endpoints, deployment policies --------------------------------------------------------------


class CapacitySize(Spec):
    """A share of the new fleet's traffic: a percentage, or a number of its instances."""

    type: Literal["CAPACITY_PERCENT", "INSTANCE_COUNT"] = "CAPACITY_PERCENT"
    value: Annotated[float, Field(gt=0)]


class TrafficRoutingConfiguration(Spec):
    """How traffic moves to the new fleet: at once, canary then the rest, or in linear steps."""

    type: Literal["ALL_AT_ONCE", "CANARY", "LINEAR"] = "ALL_AT_ONCE"
    wait_interval_in_seconds: Annotated[float, Field(ge=0, le=3600)] = 0.0
    canary_size: CapacitySize | None = None
    linear_step_size: CapacitySize | None = None

    @model_validator(mode="after")
    def _sizes(self) -> TrafficRoutingConfiguration:
        if self.type == "CANARY" and self.canary_size is None:
            raise ValueError("a CANARY policy needs canary_size")
        if self.type == "LINEAR" and self.linear_step_size is None:
            raise ValueError("a LINEAR policy needs linear_step_size")
        return self


class BlueGreenUpdatePolicy(Spec):
    traffic_routing_configuration: TrafficRoutingConfiguration = TrafficRoutingConfiguration()
    termination_wait_in_seconds: Annotated[float, Field(ge=0, le=3600)] = 0.0
    maximum_execution_timeout_in_seconds: Annotated[float, Field(ge=1, le=28800)] = 3600.0


class RollbackAlarm(Spec):
    """A threshold on the new fleet's traffic during baking; breaching it rolls back.

    SageMaker names CloudWatch alarms here; sageforge evaluates the condition
    itself on the new fleet's own metrics since baking began.
    """

    alarm_name: Annotated[str, Field(min_length=1, max_length=255)]
    metric_name: Literal[
        "ErrorRate", "Invocation5XXErrors", "Invocation4XXErrors", "ModelLatency", "OverheadLatency"
    ] = "ErrorRate"
    statistic: Literal["p50", "p90", "p99", "Sum", "Average"] = "p99"
    threshold: Annotated[float, Field(ge=0)] = 0.0
    """ErrorRate: a fraction (0.05 = 5 %); errors: a count; latencies: milliseconds."""
    min_invocations: Annotated[int, Field(ge=1)] = 1


class AutoRollbackConfig(Spec):
    alarms: Annotated[list[RollbackAlarm], Field(max_length=10)] = []


class DeploymentConfig(Spec):
    blue_green_update_policy: BlueGreenUpdatePolicy = BlueGreenUpdatePolicy()
    auto_rollback_configuration: AutoRollbackConfig | None = None


class CreateEndpoint(Spec):
    """The CreateEndpoint request."""

    endpoint_name: Name
    endpoint_config_name: Name
    deployment_config: DeploymentConfig | None = None
    tags: Annotated[list[TagSpec], Field(max_length=50)] = []


class UpdateEndpoint(Spec):
    """The UpdateEndpoint request: move to a new configuration under a deployment policy."""

    endpoint_config_name: Name
    deployment_config: DeploymentConfig | None = None
    retain_all_variant_properties: bool = False


class DesiredWeightAndCapacity(Spec):
    variant_name: str
    desired_weight: Annotated[float | None, Field(ge=0)] = None
    desired_instance_count: Annotated[int | None, Field(ge=1, le=64)] = None


class UpdateEndpointWeightsAndCapacities(Spec):
    desired_weights_and_capacities: Annotated[
        list[DesiredWeightAndCapacity], Field(min_length=1, max_length=10)
    ]


# -- batch transform -------------------------------------------------------------------------------


class TransformS3DataSource(Spec):
    s3_data_type: Literal["S3Prefix", "ManifestFile"] = "S3Prefix"
    s3_uri: Annotated[str, Field(min_length=1, max_length=1024)]


class TransformDataSource(Spec):
    s3_data_source: TransformS3DataSource


class TransformInput(Spec):
    data_source: TransformDataSource
    content_type: str = "text/csv"
    compression_type: Literal["None", "Gzip"] = "None"
    split_type: Literal["None", "Line"] = "None"


class TransformOutput(Spec):
    s3_output_path: Annotated[str, Field(min_length=1, max_length=1024)]
    accept: str | None = None
    assemble_with: Literal["None", "Line"] = "None"


class TransformResources(Spec):
    instance_type: str = "local"
    instance_count: Annotated[int, Field(ge=1, le=64)] = 1


class DataProcessing(Spec):
    """SageMaker's JSONPath filters around the model, and joining the input to the output."""

    input_filter: Annotated[str, Field(max_length=63)] = "$"
    output_filter: Annotated[str, Field(max_length=63)] = "$"
    join_source: Literal["None", "Input"] = "None"


class CreateTransformJob(Spec):
    """The CreateTransformJob request."""

    transform_job_name: Name
    model_name: Name
    max_concurrent_transforms: Annotated[int, Field(ge=0, le=64)] = 0
    max_payload_in_mb: Annotated[int, Field(ge=0, le=100)] = 6
    batch_strategy: Literal["MultiRecord", "SingleRecord"] = "MultiRecord"
    environment: Annotated[dict[str, str], Field(max_length=16)] = {}
    transform_input: TransformInput
    transform_output: TransformOutput
    transform_resources: TransformResources = TransformResources()
    data_processing: DataProcessing = DataProcessing()
    model_client_config: dict[str, int] | None = None
    tags: Annotated[list[TagSpec], Field(max_length=50)] = []
