"""Isolation Forest: sageforge's unsupervised anomaly detector, in the role of SageMaker's RCF.

SageMaker's anomaly detector is Random Cut Forest (`randomcutforest`). This is
not RCF: it is scikit-learn's `IsolationForest` (Liu, Ting and Zhou, 2008),
which fills the same role — train on unlabelled rows, score new rows, higher
means more anomalous — with RCF-like hyperparameter names where they mean the
same thing (`num_trees`, `num_samples_per_tree`, `feature_dim`,
`eval_metrics`). Its scores are on a different scale: the isolation-forest
anomaly score in (0, 1], around 0.5 or below for ordinary rows and near 1 for
anomalies, where RCF's are unbounded and compared with the mean score plus
three standard deviations. Code that thresholds RCF scores must be adapted.

A row is labelled anomalous when its score exceeds the threshold set by
`contamination` (the expected share of anomalies; `auto` is the original
paper's offset, a score above 0.5). The threshold is recorded in
`model-meta.json`. An optional labelled `test` channel (label 1 = anomaly,
0 = normal, first column, as RCF's `label_size=1`) is scored with
`eval_metrics`: `accuracy`, and `precision_recall_fscore` which reports
`test:precision`, `test:recall` and `test:f1`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from sklearn import metrics as skm
from sklearn.ensemble import IsolationForest as _IsolationForest

from sageforge.train.algorithms._base import (
    Algorithm,
    AlgorithmError,
    Channel,
    MetricDefinition,
    TrainingEnvironment,
    register,
)
from sageforge.train.algorithms._hyperparameters import Hyperparameter as P
from sageforge.train.algorithms._hyperparameters import HyperparameterSpec
from sageforge.train.algorithms._sklearn_common import (
    INFERENCE_CONTENT_TYPES,
    TRAINING_CONTENT_TYPES,
    SavedModel,
    WordOr,
    check_feature_dim,
    check_same_features,
    decode_request,
    emit_metrics,
    feature_dim_param,
    load_saved_model,
    log,
    logged_warnings,
    metric_definitions,
    parse_name_list,
    read_channel,
    respond,
    save_model,
    seed_param,
    training_hyperparameters,
)

EVAL_METRICS = ("accuracy", "precision_recall_fscore")
_REPORTED = {"accuracy": ("accuracy",), "precision_recall_fscore": ("precision", "recall", "f1")}

SPEC = HyperparameterSpec(
    [
        P("num_trees", "int", default=100, low=1, high=10_000, help="Trees in the forest."),
        P("num_samples_per_tree", "int", default=256, low=1, help="Rows each tree is built on."),
        feature_dim_param(),
        P(
            "eval_metrics",
            "str",
            default='["accuracy", "precision_recall_fscore"]',
            tunable=False,
            help="Metrics on a labelled test channel.",
        ),
        WordOr(
            "contamination",
            "float",
            default="auto",
            low=0,
            high=0.5,
            low_open=True,
            help="Expected share of anomalies; sets the labelling threshold.",
        ),
        seed_param(),
    ]
)


@register
class IsolationForest(Algorithm):
    """sageforge's `isolation-forest`: anomaly scores in RCF's role (not RCF's algorithm)."""

    name = "isolation-forest"
    title = "Isolation Forest (anomaly detection)"
    hyperparameters = SPEC
    channels = (Channel("train", required=True), Channel("test"))
    content_types = TRAINING_CONTENT_TYPES
    inference_content_types = INFERENCE_CONTENT_TYPES
    inference_accept_types = ("application/json", "application/jsonlines", "text/csv")

    def validate_hyperparameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Also parses `eval_metrics` into a list."""
        hp = super().validate_hyperparameters(raw)
        hp["eval_metrics"] = parse_name_list(hp["eval_metrics"], EVAL_METRICS, "eval_metrics")
        return hp

    def metric_definitions(self, hyperparameters: Mapping[str, Any]) -> list[MetricDefinition]:
        """`test:accuracy`, `test:precision`, `test:recall`, `test:f1` as `eval_metrics` selects."""
        chosen = hyperparameters.get("eval_metrics", EVAL_METRICS)
        return metric_definitions(("test",), [m for e in chosen for m in _REPORTED[e]])

    def train(self, env: TrainingEnvironment) -> None:
        """Grow the forest on unlabelled rows; score a labelled test channel if given."""
        hp = training_hyperparameters(self, env)
        train = read_channel(env, "train", labelled=False, required=True)
        assert train is not None
        n_features = check_feature_dim(hp["feature_dim"], train)
        test = read_channel(env, "test", labelled=True)
        check_same_features(test, n_features, "test")
        n = train.X.shape[0]
        samples = min(hp["num_samples_per_tree"], n)
        if samples < hp["num_samples_per_tree"]:
            log(f"num_samples_per_tree exceeds the {n} training rows; each tree uses all of them")
        forest = _IsolationForest(
            n_estimators=hp["num_trees"],
            max_samples=samples,
            contamination=hp["contamination"],
            random_state=hp["seed"],
            n_jobs=env.num_cpus,
        )
        with logged_warnings():
            forest.fit(train.X)
        threshold = float(-forest.offset_)
        scores = anomaly_scores(forest, train.X)
        log(
            f"train scores: mean {scores.mean():.4f}, std {scores.std():.4f}; threshold "
            f"{threshold:.4f} flags {np.mean(scores > threshold):.2%} of the training rows"
        )
        if test is not None:
            emit_metrics("test", _test_metrics(forest, test.X, test.y, hp["eval_metrics"]))
        save_model(env.model_dir, self.name, forest, feature_dim=n_features, threshold=threshold)

    def load_model(self, model_dir: Path) -> SavedModel:
        """The fitted forest."""
        return load_saved_model(model_dir, self.name)

    def predict(
        self, model: SavedModel, body: bytes, content_type: str, accept: str
    ) -> tuple[bytes, str]:
        """RCF's shape, `{"scores": [{"score": s}]}`; higher is more anomalous."""
        X = decode_request(body, content_type, model.feature_dim)
        scores = anomaly_scores(model.payload, X)
        return respond([{"score": float(s)} for s in scores], accept, key="scores")


def anomaly_scores(forest: _IsolationForest, X: Any) -> np.ndarray:
    """The paper's anomaly score s(x) in (0, 1]: scikit-learn's `score_samples`, negated."""
    return -forest.score_samples(X)


def _test_metrics(
    forest: _IsolationForest, X: Any, y: np.ndarray | None, chosen: list[str]
) -> dict[str, float]:
    assert y is not None
    if not np.all((y == 0) | (y == 1)):
        raise AlgorithmError("the test channel's labels must be 1 (anomaly) or 0 (normal)")
    flagged = (forest.predict(X) == -1).astype(np.float64)
    values: dict[str, float] = {}
    if "accuracy" in chosen:
        values["accuracy"] = skm.accuracy_score(y, flagged)
    if "precision_recall_fscore" in chosen:
        precision, recall, f1, _ = skm.precision_recall_fscore_support(
            y, flagged, average="binary", pos_label=1, zero_division=0
        )
        values.update(precision=float(precision), recall=float(recall), f1=float(f1))
    return values
