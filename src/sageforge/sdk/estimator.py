"""`sageforge.Estimator`: SageMaker SDK-style training with a built-in or your script.

    est = sageforge.Estimator("xgboost", hyperparameters={"num_round": 100, "objective": "binary:logistic"})
    job = est.fit({"train": "store://data/train", "validation": "store://data/validation"})

`fit` waits with a live display (status, round progress, latest metrics) and
returns the finished TrainingJob; a failed job raises JobFailed with its reason.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sageforge.core.errors import ValidationError
from sageforge.sdk._jobs import JobFailed, TrainingJob
from sageforge.sdk.session import Session


@dataclass(frozen=True)
class TrainingInput:
    """A channel's data with its content type, as the SageMaker SDK's `TrainingInput`."""

    s3_data: str | os.PathLike[str]
    content_type: str | None = None

    def as_channel(self) -> dict[str, Any]:
        return {"uri": self.s3_data, "content_type": self.content_type}


class Estimator:
    """Configures training jobs; each `fit` starts one (see the module docstring)."""

    def __init__(
        self,
        algorithm: str | None = None,
        *,
        entry_point: str | None = None,
        source_dir: str | os.PathLike[str] | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        metric_definitions: Sequence[Mapping[str, str]] | None = None,
        max_run: int = 24 * 3600,
        output_path: str | None = None,
        base_job_name: str | None = None,
        environment: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        session: Session | None = None,
    ) -> None:
        if (algorithm is None) == (entry_point is None):
            raise ValidationError(
                "give a built-in algorithm name (e.g. 'xgboost') or an entry_point script, not both",
                field="algorithm",
            )
        self.algorithm = algorithm
        self.entry_point = entry_point
        self.source_dir = source_dir
        self.hyperparameters: dict[str, Any] = dict(hyperparameters or {})
        self.metric_definitions = list(metric_definitions or [])
        self.max_run = max_run
        self.output_path = output_path
        self.base_job_name = base_job_name
        self.environment = dict(environment or {})
        self.tags = dict(tags or {})
        self._session = session
        self.latest_training_job: TrainingJob | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session()
        return self._session

    def set_hyperparameters(self, **hyperparameters: Any) -> None:
        """Add or replace hyperparameters for the next `fit`."""
        self.hyperparameters.update(hyperparameters)

    def fit(
        self,
        inputs: str | os.PathLike[str] | TrainingInput | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        logs: bool = False,
        job_name: str | None = None,
        show_progress: bool = True,
    ) -> TrainingJob:
        """Start a training job on `inputs` (one location = the `train` channel)."""
        channels: dict[str, Any] = {}
        if isinstance(inputs, Mapping):
            items = inputs.items()
        elif inputs is None:
            items = {}.items()
        else:
            items = {"train": inputs}.items()
        for name, value in items:
            channels[name] = value.as_channel() if isinstance(value, TrainingInput) else value
        job = self.session.create_training_job(
            job_name,
            algorithm=self.algorithm,
            entry_point=self.entry_point,
            source_dir=self.source_dir,
            inputs=channels,
            hyperparameters=self.hyperparameters,
            metric_definitions=self.metric_definitions,
            max_runtime_s=self.max_run,
            output_path=self.output_path,
            environment=self.environment,
            tags=self.tags,
            base_name=self.base_job_name,
        )
        self.latest_training_job = job
        if not wait:
            return job
        if logs:
            desc = job.wait(logs=True)
        elif show_progress:
            from sageforge.sdk._progress import watch_training

            desc = watch_training(job, self.hyperparameters)
        else:
            desc = job.wait()
        if desc["training_job_status"] == "Failed":
            raise JobFailed(f"training job {job.name} failed: {desc.get('failure_reason')}")
        return job

    def deploy(self, instance_count: int = 1, **kwargs: Any) -> Any:
        """Deploy the latest training job's model; returns a `Predictor` (see Model.deploy)."""
        if self.latest_training_job is None:
            raise ValidationError("fit() first: there is no trained model to deploy", field="model")
        return self.latest_training_job.deploy(instance_count, **kwargs)

    @property
    def model_data(self) -> str | None:
        """The model.tar.gz URL of the latest training job."""
        if self.latest_training_job is None:
            return None
        return self.latest_training_job.model_artifacts
