"""What a built-in algorithm is, and how a training job process sees its world.

A built-in algorithm runs exactly where a user's script would: in the training
job's own process, under SageMaker's container contract (channels as folders,
hyperparameters in `hyperparameters.json`, the model written to `SM_MODEL_DIR`,
a reason written to `<output>/failure` when it fails). `TrainingEnvironment`
reads that contract; `Algorithm` is what every built-in implements:

- `hyperparameters`: declared and validated at create time, before any process starts;
- `metric_definitions`: regexes over the job's log, as SageMaker's built-ins publish them;
- `train(env)`: fit on the channels, write the model;
- `load_model(model_dir)` and `predict(model, body, content_type, accept)`: the
  inference handler that endpoints and batch transform use.
"""

from __future__ import annotations

import importlib
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sageforge.core.errors import ValidationError
from sageforge.train.algorithms._hyperparameters import HyperparameterSpec

FLOAT_RE = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
"""The number pattern every built-in's metric regex captures."""


class AlgorithmError(Exception):
    """A built-in algorithm cannot go on: the message becomes the job's FailureReason."""


@dataclass(frozen=True)
class MetricDefinition:
    """A named metric and the regex whose first group is its value in the log."""

    name: str
    regex: str

    def to_dict(self) -> dict[str, str]:
        """The API's shape (`{"name", "regex"}`)."""
        return {"name": self.name, "regex": self.regex}


@dataclass(frozen=True)
class Channel:
    """A channel an algorithm reads: its name and whether a job must supply it."""

    name: str
    required: bool = False


@dataclass
class TrainingEnvironment:
    """The training job's world as SageMaker's container contract lays it out."""

    job_name: str
    model_dir: Path
    output_dir: Path
    output_data_dir: Path
    input_config_dir: Path
    channels: dict[str, Path]
    hyperparameters: dict[str, str]
    input_data_config: dict[str, dict[str, Any]] = field(default_factory=dict)
    num_cpus: int = 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TrainingEnvironment:
        """Read the contract from `SM_*` variables and the config folder."""
        env = os.environ if environ is None else environ
        config_dir = Path(env["SM_INPUT_CONFIG_DIR"])
        hps = _read_json(config_dir / "hyperparameters.json", {})
        data_config = _read_json(config_dir / "inputdataconfig.json", {})
        channel_names = json.loads(env.get("SM_CHANNELS", "[]"))
        channels = {c: Path(env[f"SM_CHANNEL_{c.upper()}"]) for c in channel_names}
        return cls(
            job_name=env.get("TRAINING_JOB_NAME", ""),
            model_dir=Path(env["SM_MODEL_DIR"]),
            output_dir=Path(env["SM_OUTPUT_DIR"]),
            output_data_dir=Path(env["SM_OUTPUT_DATA_DIR"]),
            input_config_dir=config_dir,
            channels=channels,
            hyperparameters={k: str(v) for k, v in hps.items()},
            input_data_config=data_config,
            num_cpus=int(env.get("SM_NUM_CPUS", os.cpu_count() or 1)),
        )

    def content_type(self, channel: str, default: str) -> str:
        """The channel's declared ContentType, or the algorithm's default."""
        ct = self.input_data_config.get(channel, {}).get("ContentType")
        return str(ct) if ct else default

    def write_failure(self, message: str) -> None:
        """Leave SageMaker's failure file, which becomes the job's FailureReason."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        (self.output_dir / "failure").write_text(message, encoding="utf-8")


def _read_json(path: Path, default: Any) -> Any:
    if not path.exists():
        return default
    return json.loads(path.read_text(encoding="utf-8"))


class Algorithm(ABC):
    """A built-in algorithm: declared hyperparameters, training, and inference.

    Subclasses are stateless; learned state lives in the model they write and
    load. Registering one (see `register`) makes it selectable by `name` as a
    training job's `algorithm_name`.
    """

    name: str
    """The name users select it by, e.g. `xgboost`."""
    title: str = ""
    hyperparameters: HyperparameterSpec
    channels: tuple[Channel, ...] = (Channel("train", required=True), Channel("validation"))
    content_types: tuple[str, ...] = ("text/csv",)
    """Training content types accepted on every channel; the first is the default."""
    inference_content_types: tuple[str, ...] = ("text/csv", "application/json")
    inference_accept_types: tuple[str, ...] = ("text/csv", "application/json")

    def validate_hyperparameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Typed hyperparameters with defaults, or a ValidationError naming the bad one.

        Subclasses extend this for rules that span parameters (e.g. `num_class`
        required by a multi-class objective).
        """
        return self.hyperparameters.validate(raw)

    def validate_channels(self, channels: Mapping[str, str | None]) -> None:
        """Check channel names and content types given at create time.

        `channels` maps channel name to its declared content type (or None).
        """
        known = {c.name for c in self.channels}
        for name, ctype in channels.items():
            if name not in known:
                raise ValidationError(
                    f"{self.name} does not read a channel named {name!r}; "
                    f"its channels are {', '.join(sorted(known))}",
                    field=f"input_data_config.{name}",
                )
            if ctype and _base_type(ctype) not in self.content_types:
                raise ValidationError(
                    f"content type {ctype!r} is not supported by {self.name}; "
                    f"use one of {', '.join(self.content_types)}",
                    field=f"input_data_config.{name}.content_type",
                )
        for c in self.channels:
            if c.required and c.name not in channels:
                raise ValidationError(
                    f"{self.name} needs a {c.name!r} channel", field="input_data_config"
                )

    @abstractmethod
    def metric_definitions(self, hyperparameters: Mapping[str, Any]) -> list[MetricDefinition]:
        """The metrics a job with these (validated) hyperparameters will emit."""

    def all_metric_names(self) -> list[str]:
        """Every metric name this algorithm can emit, for validating objective metrics."""
        return [m.name for m in self.metric_definitions({})]

    @abstractmethod
    def train(self, env: TrainingEnvironment) -> None:
        """Fit on the channels and write the model into `env.model_dir`.

        Raise AlgorithmError with a user-facing message for bad data or settings.
        """

    @abstractmethod
    def load_model(self, model_dir: Path) -> Any:
        """Load what `train` wrote (the extracted contents of model.tar.gz)."""

    @abstractmethod
    def predict(self, model: Any, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        """Answer one inference request: (response body, response content type).

        Raise ValidationError for a payload that cannot be parsed, so the caller
        answers 4xx and keeps serving.
        """

    def predict_features(self, model: Any, X: Any) -> Any:
        """Scores for a feature matrix, as an array: what evaluation compares to the labels.

        The default goes through `predict` (CSV in, JSON out) and reads each record's
        `score` (or `predicted_label`); built-ins override it with a direct call.
        """
        import numpy as np

        rows = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)
        body = "\n".join(",".join(repr(float(v)) for v in row) for row in rows).encode()
        answer, _ = self.predict(model, body, "text/csv", "application/json")
        records = json.loads(answer)["predictions"]
        key = "score" if records and "score" in records[0] else "predicted_label"
        return np.asarray([r[key] for r in records], dtype=np.float64)


def _base_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


_REGISTRY: dict[str, type[Algorithm]] = {}


def register(cls: type[Algorithm]) -> type[Algorithm]:
    """Class decorator that makes a built-in selectable by its `name`."""
    _REGISTRY[cls.name] = cls
    return cls


def available_algorithms() -> list[str]:
    """Names of every registered built-in, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


_MODULES = {
    "xgboost": "xgboost_algorithm",
    "isolation-forest": "isolation_forest",
    "kmeans": "kmeans",
    "knn": "knn",
    "linear-learner": "linear_learner",
    "pca": "pca",
    "random-forest": "random_forest",
    "decision-tree": "random_forest",
}
"""The module of each built-in, so that one loads without the others (a name missing here
still works: then every built-in is loaded)."""


def get_algorithm(name: str) -> Algorithm:
    """The built-in called `name`, or a ValidationError listing the ones there are."""
    key = name.strip().lower()
    if key not in _REGISTRY and key in _MODULES:
        # Only this built-in: an endpoint worker or transform job serving XGBoost must
        # not import scikit-learn for the others (seconds of start-up).
        importlib.import_module(f"sageforge.train.algorithms.{_MODULES[key]}")
    if key not in _REGISTRY:
        _load_builtins()
    cls = _REGISTRY.get(key)
    if cls is None:
        raise ValidationError(
            f"no built-in algorithm named {name!r}; available: {', '.join(sorted(_REGISTRY))}",
            field="algorithm_specification.algorithm_name",
        )
    return cls()


def _load_builtins() -> None:
    # Imported lazily: each built-in pulls in heavy libraries (xgboost, sklearn)
    # that `import sageforge` must not pay for.
    from sageforge.train.algorithms import _builtins  # noqa: F401
