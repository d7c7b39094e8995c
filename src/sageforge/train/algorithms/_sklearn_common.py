"""What the NumPy/scikit-learn built-ins share: log lines, channels, artifacts, responses.

Every built-in other than XGBoost follows one shape: validate the
hyperparameters, read the channels through `_data.load_channel`, fit, print its
metrics in the log format their regexes scrape, save the model with a note of
what made it, and answer inference requests in SageMaker's response shapes.
Keeping those pieces here means each algorithm's module only says what is
particular to it.

The log format is modelled on what SageMaker's own built-ins print, e.g.
`#quality_metric: host=algo-1, validation binary_classification_accuracy <score>=0.93`
(and `host=algo-1, epoch=3, train objective_loss <loss>=0.41` for per-epoch
progress); `metric_definition` builds the matching regex.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import joblib
import numpy as np
import scipy.sparse
import sklearn

from sageforge.core.errors import ValidationError
from sageforge.train.algorithms._base import (
    FLOAT_RE,
    Algorithm,
    AlgorithmError,
    MetricDefinition,
    TrainingEnvironment,
)
from sageforge.train.algorithms._codecs import (
    CSV,
    JSON,
    JSONLINES,
    REQUEST_TYPES,
    choose_accept,
    decode_features,
)
from sageforge.train.algorithms._data import CONTENT_TYPES, Dataset, load_channel
from sageforge.train.algorithms._hyperparameters import Hyperparameter

HOST = "algo-1"
"""The host name in log lines: a sageforge job is one host, named as SageMaker names the first."""

MODEL_FILE = "model.joblib"
META_FILE = "model-meta.json"
FORMAT_VERSION = 1

TRAINING_CONTENT_TYPES = CONTENT_TYPES
INFERENCE_CONTENT_TYPES = REQUEST_TYPES

Features: TypeAlias = np.ndarray | scipy.sparse.csr_matrix


# --------------------------------------------------------------------------- hyperparameters


@dataclass(frozen=True)
class WordOr(Hyperparameter):
    """A number or a boolean that may also be one of a few words, such as SageMaker's `auto`.

    SageMaker declares many parameters as "auto or a positive float"; the
    parsed value is the lower-cased word or the typed value, so algorithm code
    tests `value == "auto"` and otherwise has a number (or bool).
    """

    words: tuple[str, ...] = ("auto",)

    def allowed(self) -> str:
        """The words, then the typed form's range."""
        return " or ".join(repr(w) for w in self.words) + " or " + super().allowed()

    def parse(self, raw: Any) -> Any:
        """The word (lower-cased) or the typed value, or a ValidationError naming both forms."""
        text = str(raw).strip()
        if text.lower() in self.words:
            return text.lower()
        try:
            return super().parse(text)
        except ValidationError:
            raise ValidationError(
                f"{text!r} is not allowed; use {self.allowed()}",
                field=f"hyper_parameters.{self.name}",
            ) from None


def feature_dim_param() -> WordOr:
    """SageMaker's `feature_dim`, optional here: `auto` takes it from the data."""
    return WordOr(
        "feature_dim",
        "int",
        default="auto",
        low=1,
        tunable=False,
        help="Number of features; `auto` reads it from the training data.",
    )


def seed_param() -> Hyperparameter:
    """sageforge's own `seed`, so that a rerun of a job reproduces its model."""
    return Hyperparameter(
        "seed", "int", default=0, low=0, tunable=False, help="Random seed (sageforge's own)."
    )


def parse_name_list(text: str, allowed: Sequence[str], name: str) -> list[str]:
    """A list parameter such as `eval_metrics='["msd","ssd"]'`, leniently parsed.

    SageMaker's SDK sends JSON lists, people type `msd,ssd` or `['msd']`; all mean the same.
    """
    items = [s.strip().strip("'\"").strip() for s in text.strip().strip("[]").split(",")]
    items = [s for s in items if s]
    if not items:
        raise ValidationError(
            f"give at least one of {', '.join(allowed)}", field=f"hyper_parameters.{name}"
        )
    for item in items:
        if item not in allowed:
            raise ValidationError(
                f"{item!r} is not allowed; use a list of {', '.join(repr(a) for a in allowed)}",
                field=f"hyper_parameters.{name}",
            )
    return list(dict.fromkeys(items))


def training_hyperparameters(algorithm: Algorithm, env: TrainingEnvironment) -> dict[str, Any]:
    """Validated hyperparameters inside a job, where a bad one must end it with a reason."""
    try:
        return algorithm.validate_hyperparameters(env.hyperparameters)
    except ValidationError as exc:
        raise AlgorithmError(str(exc)) from exc


# --------------------------------------------------------------------------- metrics and log


def metric_definition(channel: str, metric: str) -> MetricDefinition:
    """`channel:metric` and the regex that finds its lines (per-epoch ones included)."""
    regex = (
        rf"#quality_metric: host=\S+, (?:epoch=\d+, )?"
        rf"{re.escape(channel)} {re.escape(metric)} <\w+>={FLOAT_RE}"
    )
    return MetricDefinition(f"{channel}:{metric}", regex)


def metric_definitions(channels: Iterable[str], metrics: Iterable[str]) -> list[MetricDefinition]:
    """Every `channel:metric` pair, channel-major."""
    metrics = list(metrics)
    return [metric_definition(c, m) for c in channels for m in metrics]


_LOSS_METRICS = frozenset({"mse", "rmse", "mae", "msd", "ssd"})


def emit_metric(
    channel: str,
    metric: str,
    value: float,
    *,
    kind: str | None = None,
    epoch: int | None = None,
) -> None:
    """Print one metric line for the log scraper; a value that is not finite is noted instead.

    `kind` is the tag SageMaker prints (`<loss>` for losses, `<score>` otherwise);
    the regexes accept either, it only helps a human reading the log.
    """
    value = float(value)
    if not math.isfinite(value):
        log(f"{channel} {metric} is not defined on this data ({value}); not reported")
        return
    if kind is None:
        kind = "loss" if metric in _LOSS_METRICS or metric.endswith("loss") else "score"
    where = f"host={HOST}, " + (f"epoch={epoch}, " if epoch is not None else "")
    print(f"#quality_metric: {where}{channel} {metric} <{kind}>={value:.10g}", flush=True)


def emit_metrics(channel: str, values: Mapping[str, float]) -> None:
    """Print a line per metric, in the mapping's order."""
    for metric, value in values.items():
        emit_metric(channel, metric, value)


def log(message: str) -> None:
    """A plain progress line in the job's log."""
    print(f"[sageforge] {message}", flush=True)


@contextmanager
def logged_warnings() -> Iterator[None]:
    """Turn library warnings raised while fitting into log lines.

    A convergence warning is news for the user reading the job's log, not a
    reason to fail the job (and not something to print on stderr only).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for w in caught:
                log(f"warning: {w.category.__name__}: {w.message}")


# --------------------------------------------------------------------------- channels


def read_channel(
    env: TrainingEnvironment,
    channel: str,
    *,
    labelled: bool,
    required: bool = False,
    allow_missing: bool = False,
) -> Dataset | None:
    """The channel's data, None when the job did not give it (unless `required`).

    Missing feature values end the job with a reason unless the algorithm
    handles them (`allow_missing`): silently imputing would hide a data problem.
    """
    path = env.channels.get(channel)
    if path is None:
        if required:
            raise AlgorithmError(f"the {channel!r} channel is required and was not given")
        return None
    content_type = env.content_type(channel, "text/csv")
    data = load_channel(path, content_type, labelled=labelled, channel=channel)
    if labelled and data.y is None:
        raise AlgorithmError(
            f"the {channel!r} channel has no labels; put the label in the first column"
        )
    if data.X.shape[0] == 0:
        raise AlgorithmError(f"the {channel!r} channel holds no rows")
    values = data.X.data if scipy.sparse.issparse(data.X) else data.X
    if not allow_missing and not np.all(np.isfinite(values)):
        raise AlgorithmError(
            f"the {channel!r} channel has missing or infinite feature values (row "
            f"{_first_bad_row(data.X)}); impute or drop them before training"
        )
    log(f"read {data.X.shape[0]} rows x {data.X.shape[1]} features from {channel!r}")
    return data


def check_feature_dim(declared: Any, data: Dataset, channel: str = "train") -> int:
    """The feature count, checking a declared `feature_dim` (when not `auto`) against the data.

    Sparse data narrower than `feature_dim` is widened: its last columns are empty.
    """
    sparse = scipy.sparse.issparse(data.X)
    if declared not in (None, "auto") and sparse and data.X.shape[1] < int(declared):
        data.X = _widened(data.X, int(declared))
    n = int(data.X.shape[1])
    if declared not in (None, "auto") and int(declared) != n:
        raise AlgorithmError(
            f"feature_dim is {declared} but the {channel!r} channel has {n} features; "
            "fix feature_dim or leave it 'auto'"
        )
    return n


def check_same_features(data: Dataset | None, n_features: int, channel: str) -> None:
    """A secondary channel must have the training channel's feature count.

    Sparse (LIBSVM) data is widened: a file whose highest feature index is
    lower than the training data's simply has no values in the last columns.
    """
    if data is None:
        return
    if scipy.sparse.issparse(data.X) and data.X.shape[1] < n_features:
        data.X = _widened(data.X, n_features)
    if data.X.shape[1] != n_features:
        raise AlgorithmError(
            f"the {channel!r} channel has {data.X.shape[1]} features but 'train' has "
            f"{n_features}; every channel needs the same columns"
        )


def _widened(X: scipy.sparse.csr_matrix, width: int) -> scipy.sparse.csr_matrix:
    wide = X.copy()
    wide.resize((X.shape[0], width))
    return wide


def dense(X: Features) -> np.ndarray:
    """A dense array, for estimators that do not take sparse input."""
    return X if isinstance(X, np.ndarray) else X.toarray()


# --------------------------------------------------------------------------- artifacts


@dataclass(frozen=True)
class SavedModel:
    """What `train` left in the model folder: the learned state and its note."""

    payload: Any
    meta: dict[str, Any]

    @property
    def feature_dim(self) -> int:
        """How many features a request row must have."""
        return int(self.meta["feature_dim"])


def save_model(
    model_dir: Path, algorithm: str, payload: Any, *, feature_dim: int, **extra: Any
) -> None:
    """Write the learned state (joblib) and `model-meta.json`, each atomically.

    The note records the algorithm and the library versions that made the
    pickle, so a mismatch is visible before anything is unpickled.
    """
    model_dir.mkdir(parents=True, exist_ok=True)
    meta = {
        "algorithm": algorithm,
        "format": "joblib",
        "format_version": FORMAT_VERSION,
        "model_file": MODEL_FILE,
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "feature_dim": int(feature_dim),
        **extra,
    }
    _atomic_write(model_dir / MODEL_FILE, lambda f: joblib.dump(payload, f))
    text = json.dumps(meta, indent=2, sort_keys=True).encode("utf-8")
    _atomic_write(model_dir / META_FILE, lambda f: f.write(text))
    log(f"saved the {algorithm} model to {model_dir}")


def _atomic_write(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_saved_model(model_dir: Path, algorithm: str) -> SavedModel:
    """Read what `save_model` wrote, refusing another algorithm's or a newer format's artifact."""
    meta_path = Path(model_dir) / META_FILE
    if not meta_path.exists():
        raise ValidationError(
            f"{model_dir} holds no {META_FILE}; it was not written by sageforge's {algorithm}",
            field="model_data_url",
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("algorithm") != algorithm:
        raise ValidationError(
            f"the model in {model_dir} was trained by {meta.get('algorithm')!r}, not {algorithm!r}",
            field="model_data_url",
        )
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise ValidationError(
            f"the model in {model_dir} has format {meta.get('format_version')}, newer than this "
            f"sageforge reads ({FORMAT_VERSION}); upgrade sageforge",
            field="model_data_url",
        )
    payload = joblib.load(Path(model_dir) / str(meta.get("model_file", MODEL_FILE)))
    return SavedModel(payload, meta)


# --------------------------------------------------------------------------- inference


def decode_request(
    body: bytes, content_type: str, feature_dim: int, *, allow_missing: bool = False
) -> Features:
    """Request rows as features, checked against the model's feature count.

    Models other than trees cannot use a missing value, so a request with one is
    a 4xx naming the row rather than a NaN answer or a 500.
    """
    X = decode_features(body, content_type)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValidationError("the request holds no rows", field="body")
    if scipy.sparse.issparse(X) and X.shape[1] < feature_dim:
        X = _widened(X, feature_dim)
    if X.shape[1] != feature_dim:
        raise ValidationError(
            f"the model expects {feature_dim} features per row; the request has {X.shape[1]}",
            field="body",
        )
    if not allow_missing:
        values = X.data if scipy.sparse.issparse(X) else X
        if not np.all(np.isfinite(values)):
            row = _first_bad_row(X)
            raise ValidationError(
                f"row {row} has a missing or infinite value; this model needs every feature",
                field="body",
            )
    return X


def _first_bad_row(X: Features) -> int:
    """The 1-based row number of the first row with a NaN or infinite value."""
    if isinstance(X, np.ndarray):
        return int(np.flatnonzero(~np.all(np.isfinite(X), axis=1))[0]) + 1
    position = int(np.flatnonzero(~np.isfinite(X.data))[0])
    return int(np.searchsorted(X.indptr, position, side="right"))


def respond(
    records: list[dict[str, Any]],
    accept: str,
    *,
    key: str = "predictions",
    csv_fields: Sequence[str] | None = None,
) -> tuple[bytes, str]:
    """Records as SageMaker answers them: `{key: [...]}` JSON, JSON Lines, or CSV rows.

    A CSV line holds the record's `csv_fields` (all of them by default) in
    order, list values spread into columns; the accept type is chosen as for
    every built-in (`_codecs.choose_accept`).
    """
    kind = choose_accept(accept)
    if kind == JSON:
        return json.dumps({key: records}).encode("utf-8"), JSON
    if kind == JSONLINES:
        return "\n".join(json.dumps(r) for r in records).encode("utf-8"), JSONLINES
    lines = []
    for record in records:
        cells: list[str] = []
        for name in csv_fields or list(record):
            value = record[name]
            cells.extend(map(_cell, value) if isinstance(value, list) else [_cell(value)])
        lines.append(",".join(cells))
    return "\n".join(lines).encode("utf-8"), CSV


def _cell(value: Any) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))


def number(value: Any) -> float | int:
    """A JSON-friendly number: an int when the value is integral, else a float."""
    v = float(value)
    return int(v) if v.is_integer() else v
