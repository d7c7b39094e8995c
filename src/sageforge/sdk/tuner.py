"""`sageforge.Tuner`: SageMaker SDK-style automatic model tuning.

tuner = sageforge.Tuner(
    estimator,                                   # a configured sageforge.Estimator
    objective_metric_name="validation:auc",
    hyperparameter_ranges={"eta": ContinuousParameter(0.01, 0.3, "Logarithmic"),
                           "max_depth": "3..10"},   # or the short syntax
    max_jobs=20, max_parallel_jobs=2, strategy="Bayesian",
)
tuner.fit({"train": ..., "validation": ...})     # live leaderboard while it runs
tuner.best_training_job()
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sageforge.core.errors import ValidationError
from sageforge.sdk._jobs import TERMINAL, Job, TrainingJob
from sageforge.sdk.estimator import Estimator, TrainingInput
from sageforge.tune._ranges import ParameterRange, parse_range, ranges_to_spec


@dataclass(frozen=True)
class ContinuousParameter:
    """A real-valued range (the SageMaker SDK's class of the same name)."""

    min_value: float
    max_value: float
    scaling_type: str = "Auto"


@dataclass(frozen=True)
class IntegerParameter:
    """An integer range."""

    min_value: int
    max_value: int
    scaling_type: str = "Auto"


@dataclass(frozen=True)
class CategoricalParameter:
    """A set of values."""

    values: list[Any]


RangeLike = ContinuousParameter | IntegerParameter | CategoricalParameter | str


class TuningJob(Job):
    """A hyperparameter tuning job on the server."""

    collection = "tuning-jobs"
    status_key = "hyper_parameter_tuning_job_status"

    def trials(self, **filters: Any) -> list[dict[str, Any]]:
        """Every trial, best first (ListTrainingJobsForHyperParameterTuningJob)."""
        return list(
            self.session.api.get(f"{self._path}/trials", **filters)["training_job_summaries"]
        )

    def best_training_job(self) -> TrainingJob | None:
        best = self.describe().get("best_training_job")
        return None if best is None else TrainingJob(self.session, best["training_job_name"])


def to_range(name: str, spec: RangeLike) -> ParameterRange:
    """A ParameterRange from an SDK range object or the short syntax (`"0.01..0.3:log"`)."""
    if isinstance(spec, str):
        return parse_range(f"{name}={spec}")
    if isinstance(spec, CategoricalParameter):
        r = ParameterRange(name, "categorical", values=tuple(str(v) for v in spec.values))
    else:
        kind: Literal["integer", "continuous"] = (
            "integer" if isinstance(spec, IntegerParameter) else "continuous"
        )
        from sageforge.tune._ranges import _scaling

        r = ParameterRange(
            name,
            kind,
            float(spec.min_value),
            float(spec.max_value),
            _scaling(spec.scaling_type, f"ranges.{name}"),
        )
    r.validate(f"hyperparameter_ranges.{name}")
    return r


class Tuner:
    """Configures tuning jobs over an Estimator; see the module docstring."""

    def __init__(
        self,
        estimator: Estimator,
        objective_metric_name: str,
        hyperparameter_ranges: Mapping[str, RangeLike],
        *,
        objective_type: str = "Maximize",
        max_jobs: int | None = None,
        max_parallel_jobs: int = 1,
        strategy: str = "Bayesian",
        early_stopping_type: str = "Off",
        hyperband_max_resource: int | None = None,
        hyperband_min_resource: int = 1,
        random_seed: int | None = None,
        warm_start_parents: list[str] | None = None,
        warm_start_type: str = "IdenticalDataAndAlgorithm",
        base_tuning_job_name: str | None = None,
        max_runtime_s: int | None = None,
    ) -> None:
        if not hyperparameter_ranges:
            raise ValidationError(
                "give at least one hyperparameter range", field="hyperparameter_ranges"
            )
        self.estimator = estimator
        self.objective_metric_name = objective_metric_name
        self.objective_type = objective_type
        self.ranges = [to_range(n, r) for n, r in hyperparameter_ranges.items()]
        self.max_jobs = max_jobs
        self.max_parallel_jobs = max_parallel_jobs
        self.strategy = strategy
        self.early_stopping_type = early_stopping_type
        self.hyperband = (hyperband_min_resource, hyperband_max_resource)
        self.random_seed = random_seed
        self.warm_start = (warm_start_parents or [], warm_start_type)
        self.base_name = base_tuning_job_name
        self.max_runtime_s = max_runtime_s
        self.latest_tuning_job: TuningJob | None = None

    def request(self, inputs: Mapping[str, Any] | Any, name: str) -> dict[str, Any]:
        """The CreateHyperParameterTuningJob body this tuner sends."""
        est = self.estimator
        session = est.session
        channels = inputs if isinstance(inputs, Mapping) else {"train": inputs}
        input_config = []
        for channel, value in channels.items():
            cfg = (
                value.as_channel()
                if isinstance(value, TrainingInput)
                else (dict(value) if isinstance(value, Mapping) else {"uri": value})
            )
            entry: dict[str, Any] = {
                "channel_name": channel,
                "data_source": {
                    "s3_data_source": {
                        "s3_uri": session._as_url(cfg["uri"], f"uploads/{name}/{channel}")
                    }
                },
            }
            if cfg.get("content_type"):
                entry["content_type"] = cfg["content_type"]
            input_config.append(entry)
        algo: dict[str, Any] = {}
        if est.algorithm:
            algo["algorithm_name"] = est.algorithm
        else:
            algo["entry_point"] = est.entry_point
            algo["source_dir"] = session._as_url(est.source_dir or ".", f"uploads/{name}/source")
        if est.metric_definitions:
            algo["metric_definitions"] = [dict(m) for m in est.metric_definitions]
        tuned = {r.name for r in self.ranges}
        config: dict[str, Any] = {
            "strategy": self.strategy,
            "hyper_parameter_tuning_job_objective": {
                "type": self.objective_type,
                "metric_name": self.objective_metric_name,
            },
            "resource_limits": {"max_parallel_training_jobs": self.max_parallel_jobs},
            "parameter_ranges": ranges_to_spec(self.ranges),
            "training_job_early_stopping_type": self.early_stopping_type,
        }
        if self.max_jobs is not None:
            config["resource_limits"]["max_number_of_training_jobs"] = self.max_jobs
        if self.max_runtime_s:
            config["resource_limits"]["max_runtime_in_seconds"] = self.max_runtime_s
        if self.random_seed is not None:
            config["random_seed"] = self.random_seed
        if self.strategy == "Hyperband":
            lo, hi = self.hyperband
            if hi is None:
                raise ValidationError(
                    "Hyperband needs hyperband_max_resource (rounds of a full trial)",
                    field="hyperband_max_resource",
                )
            config["strategy_config"] = {
                "hyperband_strategy_config": {"min_resource": lo, "max_resource": hi}
            }
        body: dict[str, Any] = {
            "hyper_parameter_tuning_job_name": name,
            "hyper_parameter_tuning_job_config": config,
            "training_job_definition": {
                "algorithm_specification": algo,
                "static_hyper_parameters": {
                    k: _hp(v) for k, v in est.hyperparameters.items() if k not in tuned
                },
                "input_data_config": input_config,
                "stopping_condition": {"max_runtime_in_seconds": est.max_run},
                "environment": dict(est.environment),
            },
        }
        if est.output_path:
            body["training_job_definition"]["output_data_config"] = {
                "s3_output_path": est.output_path
            }
        parents, kind = self.warm_start
        if parents:
            body["warm_start_config"] = {
                "parent_hyper_parameter_tuning_jobs": [
                    {"hyper_parameter_tuning_job_name": p} for p in parents
                ],
                "warm_start_type": kind,
            }
        return body

    def fit(
        self,
        inputs: Mapping[str, Any] | Any,
        *,
        job_name: str | None = None,
        wait: bool = True,
        show_progress: bool = True,
    ) -> TuningJob:
        """Start the tuning job; by default wait, drawing a live leaderboard."""
        name = job_name or _tuning_name(self.base_name or (self.estimator.algorithm or "tuning"))
        session = self.estimator.session
        desc = session.api.post("/tuning-jobs", self.request(inputs, name))
        job = TuningJob(session, name, desc)
        self.latest_tuning_job = job
        if not wait:
            return job
        if show_progress:
            from sageforge.sdk._tuning_progress import watch_tuning

            watch_tuning(job)
        else:
            while job.describe()[job.status_key] not in TERMINAL:
                time.sleep(0.5)
        return job

    def best_training_job(self) -> TrainingJob | None:
        """The best trial of the latest tuning job."""
        return (
            None if self.latest_tuning_job is None else self.latest_tuning_job.best_training_job()
        )


def _tuning_name(base: str) -> str:
    """`<base>-yymmdd-hhmmss`: SageMaker caps tuning job names at 32 characters."""
    stamp = time.strftime("%y%m%d-%H%M%S", time.gmtime())
    base = "".join(c if c.isalnum() or c == "-" else "-" for c in base).strip("-") or "tuning"
    return f"{base[:18].rstrip('-')}-{stamp}"


def _hp(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
