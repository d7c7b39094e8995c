"""`sageforge.Model`, `Transformer`: deploy a model artifact, or run it over files.

    model = sageforge.Model("store://training-jobs/j/output/model.tar.gz", algorithm="xgboost")
    predictor = model.deploy(instance_count=2, data_capture=DataCaptureConfig("store://capture"))
    job = model.transformer(output_path="store://scores").transform("store://data/test")

A model is served by a built-in's inference handler (`algorithm=`), by your
`inference.py` (`entry_point=` in `source_dir=`, SageMaker's model_fn /
input_fn / predict_fn / output_fn contract), or as a pipeline (`PipelineModel`)
whose first stage is a fitted data-prep flow, so raw records go in as they are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sageforge.core.errors import ValidationError
from sageforge.core.names import unique_name
from sageforge.sdk._jobs import Job
from sageforge.sdk.predictor import Predictor

if TYPE_CHECKING:
    from sageforge.sdk.session import Session


@dataclass(frozen=True)
class DataCaptureConfig:
    """What share of requests to record, which halves, and where (SageMaker's DataCaptureConfig)."""

    destination: str
    sampling_percentage: float = 100.0
    capture_input: bool = True
    capture_output: bool = True

    def to_request(self) -> dict[str, Any]:
        modes = [
            m for m, on in (("Input", self.capture_input), ("Output", self.capture_output)) if on
        ]
        return {
            "enable_capture": True,
            "initial_sampling_percentage": self.sampling_percentage,
            "destination_s3_uri": self.destination,
            "capture_options": [{"capture_mode": m} for m in modes],
        }


@dataclass(frozen=True)
class ServerlessConfig:
    """A serverless variant: no worker while idle for `idle_timeout_s`, cold start on demand."""

    memory_size_in_mb: int = 2048
    max_concurrency: int = 1
    idle_timeout_s: float = 300.0

    def to_request(self) -> dict[str, Any]:
        return {
            "memory_size_in_mb": self.memory_size_in_mb,
            "max_concurrency": self.max_concurrency,
            "idle_timeout_in_seconds": self.idle_timeout_s,
        }


def _session(session: Session | None) -> Session:
    if session is None:
        from sageforge.sdk.session import Session

        return Session()
    return session


class Model:
    """A deployable model; see the module docstring."""

    def __init__(
        self,
        model_data: str | os.PathLike[str] | None = None,
        algorithm: str | None = None,
        *,
        entry_point: str | None = None,
        source_dir: str | os.PathLike[str] | None = None,
        environment: Mapping[str, str] | None = None,
        name: str | None = None,
        session: Session | None = None,
    ) -> None:
        if (algorithm is None) == (entry_point is None):
            raise ValidationError(
                "give a built-in algorithm name (e.g. 'xgboost') or an entry_point (inference.py)",
                field="algorithm",
            )
        self.model_data = model_data
        self.algorithm = algorithm
        self.entry_point = entry_point
        self.source_dir = source_dir
        self.environment = dict(environment or {})
        self.name = name
        self._session = session
        self._created = False

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = _session(None)
        return self._session

    def container(self) -> dict[str, Any]:
        """This model's container definition (local paths uploaded or passed by path)."""
        base = self.name or unique_name(self.algorithm or "model")
        c: dict[str, Any] = {"environment": self.environment}
        if self.model_data is not None:
            c["model_data_url"] = self.session._as_url(self.model_data, f"uploads/{base}/model")
        if self.algorithm:
            c["algorithm_name"] = self.algorithm
        else:
            c["entry_point"] = self.entry_point
            if self.source_dir is not None:
                c["source_dir"] = self.session._as_url(self.source_dir, f"uploads/{base}/code")
        return c

    def _body(self, name: str) -> dict[str, Any]:
        return {"model_name": name, "primary_container": self.container()}

    def create(self) -> str:
        """CreateModel (once); returns the model's name."""
        if not self._created:
            self.name = self.name or unique_name(self.algorithm or "model")
            self.session.api.post("/models", self._body(self.name))
            self._created = True
        assert self.name is not None
        return self.name

    def endpoint_config(
        self,
        *,
        instance_count: int = 1,
        variant_name: str = "AllTraffic",
        data_capture: DataCaptureConfig | None = None,
        serverless: ServerlessConfig | None = None,
        async_output_path: str | None = None,
        name: str | None = None,
    ) -> str:
        """CreateEndpointConfig with this model as its one variant; returns the config's name."""
        model_name = self.create()
        variant: dict[str, Any] = {
            "variant_name": variant_name,
            "model_name": model_name,
            "initial_instance_count": instance_count,
            "initial_variant_weight": 1.0,
        }
        if serverless is not None:
            variant["serverless_config"] = serverless.to_request()
        body: dict[str, Any] = {
            "endpoint_config_name": name or unique_name(f"{self.algorithm or 'model'}-config"),
            "production_variants": [variant],
        }
        if data_capture is not None:
            body["data_capture_config"] = data_capture.to_request()
        if async_output_path:
            body["async_inference_config"] = {
                "output_config": {"s3_output_path": async_output_path}
            }
        return str(self.session.api.post("/endpoint-configs", body)["endpoint_config_name"])

    def deploy(
        self,
        instance_count: int = 1,
        *,
        endpoint_name: str | None = None,
        variant_name: str = "AllTraffic",
        data_capture: DataCaptureConfig | None = None,
        serverless: ServerlessConfig | None = None,
        async_output_path: str | None = None,
        deployment_config: Mapping[str, Any] | None = None,
        wait: bool = True,
    ) -> Predictor:
        """Create the model, an endpoint configuration and an endpoint; return its Predictor."""
        config = self.endpoint_config(
            instance_count=instance_count,
            variant_name=variant_name,
            data_capture=data_capture,
            serverless=serverless,
            async_output_path=async_output_path,
        )
        name = endpoint_name or unique_name(self.name or "endpoint")
        body: dict[str, Any] = {"endpoint_name": name, "endpoint_config_name": config}
        if deployment_config:
            body["deployment_config"] = dict(deployment_config)
        self.session.api.post("/endpoints", body)
        predictor = Predictor(name, self.session)
        if wait:
            predictor.wait()
        return predictor

    def transformer(
        self,
        instance_count: int = 1,
        *,
        strategy: str = "MultiRecord",
        assemble_with: str = "Line",
        output_path: str | None = None,
        accept: str | None = None,
        max_payload: int = 6,
        max_concurrent_transforms: int = 0,
        env: Mapping[str, str] | None = None,
    ) -> Transformer:
        """A Transformer running this model over files."""
        return Transformer(
            self.create(),
            instance_count=instance_count,
            strategy=strategy,
            assemble_with=assemble_with,
            output_path=output_path,
            accept=accept,
            max_payload=max_payload,
            max_concurrent_transforms=max_concurrent_transforms,
            env=env,
            session=self.session,
        )


class PipelineModel(Model):
    """An inference pipeline: a fitted data-prep flow (or models) before the final model.

    `PipelineModel([flow_url, Model(...)])`: a string stage is a fitted flow's
    JSON in the store; raw records go in, the flow's features reach the model.
    """

    def __init__(
        self,
        stages: Sequence[str | Model],
        *,
        name: str | None = None,
        session: Session | None = None,
    ) -> None:
        if not stages or isinstance(stages[-1], str):
            raise ValidationError("a pipeline ends with a Model", field="stages")
        self.stages = list(stages)
        self.name = name
        self._session = session
        self._created = False
        self.algorithm = None
        self.entry_point = "pipeline"

    def _body(self, name: str) -> dict[str, Any]:
        containers = []
        for stage in self.stages:
            if isinstance(stage, str):
                containers.append({"flow_url": self.session._as_url(stage, f"uploads/{name}/flow")})
            else:
                stage._session = stage._session or self.session
                containers.append(stage.container())
        return {"model_name": name, "containers": containers}


class TransformJob(Job):
    """A batch transform job; `output_path` is where the `<file>.out`s go."""

    collection = "transform-jobs"
    status_key = "transform_job_status"

    @property
    def output_path(self) -> str:
        return str(self.describe()["transform_output"]["s3_output_path"])


class Transformer:
    """Runs a model over files in the store (SageMaker's batch transform)."""

    def __init__(
        self,
        model_name: str,
        *,
        instance_count: int = 1,
        strategy: str = "MultiRecord",
        assemble_with: str = "Line",
        output_path: str | None = None,
        accept: str | None = None,
        max_payload: int = 6,
        max_concurrent_transforms: int = 0,
        env: Mapping[str, str] | None = None,
        session: Session | None = None,
    ) -> None:
        self.model_name = model_name
        self.instance_count = instance_count
        self.strategy = strategy
        self.assemble_with = assemble_with
        self.output_path = output_path
        self.accept = accept
        self.max_payload = max_payload
        self.max_concurrent_transforms = max_concurrent_transforms
        self.env = dict(env or {})
        self.session = _session(session)
        self.latest_transform_job: TransformJob | None = None

    def transform(
        self,
        data: str | os.PathLike[str],
        *,
        content_type: str = "text/csv",
        split_type: str = "Line",
        compression_type: str = "None",
        input_filter: str | None = None,
        output_filter: str | None = None,
        join_source: str | None = None,
        job_name: str | None = None,
        wait: bool = True,
    ) -> TransformJob:
        """Start a transform job over the file or prefix `data`; wait for it unless told not to."""
        name = job_name or unique_name(f"{self.model_name}-transform")
        output = self.output_path or f"store://transform-jobs/{name}/output"
        body: dict[str, Any] = {
            "transform_job_name": name,
            "model_name": self.model_name,
            "batch_strategy": self.strategy,
            "max_payload_in_mb": self.max_payload,
            "max_concurrent_transforms": self.max_concurrent_transforms,
            "environment": self.env,
            "transform_input": {
                "data_source": {"s3_data_source": {"s3_uri": self.session._as_url(data, f"uploads/{name}/input")}},
                "content_type": content_type,
                "split_type": split_type,
                "compression_type": compression_type,
            },
            "transform_output": {"s3_output_path": output, "assemble_with": self.assemble_with},
            "transform_resources": {"instance_count": self.instance_count},
            "data_processing": {
                "input_filter": input_filter or "$",
                "output_filter": output_filter or "$",
                "join_source": join_source or "None",
            },
        }  # fmt: skip
        if self.accept:
            body["transform_output"]["accept"] = self.accept
        job = TransformJob(self.session, name, self.session.api.post("/transform-jobs", body))
        self.latest_transform_job = job
        if wait:
            job.wait()
        return job
