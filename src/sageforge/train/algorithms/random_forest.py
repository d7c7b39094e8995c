"""Random forest and decision tree: scikit-learn's trees as sageforge built-ins.

These are sageforge's own built-ins, not SageMaker algorithms (SageMaker has
no random forest; its Random Cut Forest is an anomaly detector, see
`isolation_forest`). They are scikit-learn's `RandomForestClassifier`/
`RandomForestRegressor` (`random-forest`) and `DecisionTreeClassifier`/
`DecisionTreeRegressor` (`decision-tree`) behind the same job contract as
every built-in, so a quick tabular baseline needs no script.

Labels come first in CSV as for every built-in; classes may be any numbers.
Metrics, for every channel given (`train`, `validation`, `test`):
classifier `accuracy`, `f1` and `auc` (binary: of the larger label; more
classes: macro-averaged, one-vs-rest AUC); regressor `rmse`, `mae` and `r2`.
Missing feature values are allowed (scikit-learn's trees route them), except
with criteria that do not support them (`absolute_error`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn import metrics as skm
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from sageforge.core.errors import ValidationError
from sageforge.train.algorithms._base import (
    Algorithm,
    AlgorithmError,
    Channel,
    MetricDefinition,
    TrainingEnvironment,
    register,
)
from sageforge.train.algorithms._data import Dataset
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
    number,
    read_channel,
    respond,
    save_model,
    seed_param,
    training_hyperparameters,
)

CRITERIA = {
    "classifier": ("gini", "entropy", "log_loss"),
    "regressor": ("squared_error", "absolute_error", "friedman_mse", "poisson"),
}
METRICS = {"classifier": ("accuracy", "f1", "auc"), "regressor": ("rmse", "mae", "r2")}
CHANNELS = ("train", "validation", "test")


def _tree_params() -> list[P]:
    """What a single tree and a forest share."""
    return [
        P("predictor_type", "categorical", required=True, choices=tuple(CRITERIA), tunable=False),
        feature_dim_param(),
        P("max_depth", "int", low=1, help="Deepest split; unset grows until leaves are pure."),
        P("min_samples_leaf", "int", default=1, low=1),
        P("min_samples_split", "int", default=2, low=2),
        WordOr(
            "max_features",
            "float",
            default="auto",
            low=0,
            high=1,
            low_open=True,
            words=("auto", "sqrt", "log2", "all"),
            help="Features tried per split: a word or a fraction; auto is scikit-learn's default.",
        ),
        P(
            "criterion",
            "categorical",
            default="auto",
            choices=("auto", *CRITERIA["classifier"], *CRITERIA["regressor"]),
        ),
        seed_param(),
    ]


class _Trees(Algorithm):
    """A scikit-learn tree model as a built-in; subclasses say which estimator."""

    channels = (Channel("train", required=True), Channel("validation"), Channel("test"))
    content_types = TRAINING_CONTENT_TYPES
    inference_content_types = INFERENCE_CONTENT_TYPES
    inference_accept_types = ("application/json", "application/jsonlines", "text/csv")
    estimators: ClassVar[dict[str, type]]

    def validate_hyperparameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Also: the criterion must suit the predictor type."""
        hp = super().validate_hyperparameters(raw)
        allowed = CRITERIA[hp["predictor_type"]]
        if hp["criterion"] != "auto" and hp["criterion"] not in allowed:
            raise ValidationError(
                f"{hp['criterion']!r} does not fit predictor_type {hp['predictor_type']!r}; "
                f"use 'auto' or one of {', '.join(allowed)}",
                field="hyper_parameters.criterion",
            )
        return hp

    def metric_definitions(self, hyperparameters: Mapping[str, Any]) -> list[MetricDefinition]:
        """Every channel's metrics for the predictor type."""
        kind = hyperparameters.get("predictor_type")
        names = METRICS[kind] if kind else (*METRICS["classifier"], *METRICS["regressor"])
        return metric_definitions(CHANNELS, names)

    def estimator_params(self, hp: dict[str, Any], env: TrainingEnvironment) -> dict[str, Any]:
        """scikit-learn keyword arguments from the validated hyperparameters."""
        params: dict[str, Any] = {
            "max_depth": hp.get("max_depth"),
            "min_samples_leaf": hp["min_samples_leaf"],
            "min_samples_split": hp["min_samples_split"],
            "random_state": hp["seed"],
        }
        if hp["criterion"] != "auto":
            params["criterion"] = hp["criterion"]
        features = hp["max_features"]
        if features != "auto":
            params["max_features"] = {"all": None}.get(features, features)
        return params

    def train(self, env: TrainingEnvironment) -> None:
        """Fit, report every channel's metrics, save the estimator and feature importances."""
        hp = training_hyperparameters(self, env)
        kind = hp["predictor_type"]
        data = {
            c: read_channel(env, c, labelled=True, required=c == "train", allow_missing=True)
            for c in CHANNELS
        }
        train = data["train"]
        assert train is not None and train.y is not None
        n_features = check_feature_dim(hp["feature_dim"], train)
        for channel in CHANNELS[1:]:
            check_same_features(data[channel], n_features, channel)
        if hp.get("criterion") == "poisson" and np.any(train.y < 0):
            raise AlgorithmError("criterion=poisson needs non-negative labels")
        estimator = self.estimators[kind](**self.estimator_params(hp, env))
        try:
            with logged_warnings():
                estimator.fit(train.X, train.y)
        except ValueError as exc:
            raise AlgorithmError(f"{self.name} could not fit the training data: {exc}") from exc
        for channel, channel_data in data.items():
            if channel_data is not None:
                emit_metrics(channel, _scores(estimator, channel_data, kind))
        _write_importances(env, estimator, train)
        classes = [number(c) for c in getattr(estimator, "classes_", [])]
        save_model(
            env.model_dir,
            self.name,
            estimator,
            feature_dim=n_features,
            predictor_type=kind,
            classes=classes,
        )

    def load_model(self, model_dir: Path) -> SavedModel:
        """The fitted scikit-learn estimator."""
        return load_saved_model(model_dir, self.name)

    def predict(
        self, model: SavedModel, body: bytes, content_type: str, accept: str
    ) -> tuple[bytes, str]:
        """As the linear learner answers: `score` and `predicted_label` for classifiers
        (binary: probability of the larger label; more classes: a probability per class
        in label order), `score` for regressors. CSV: `predicted_label,score…` or `score`."""
        X = decode_request(body, content_type, model.feature_dim, allow_missing=True)
        estimator = model.payload
        if model.meta["predictor_type"] == "regressor":
            return respond([{"score": float(v)} for v in estimator.predict(X)], accept)
        probs = estimator.predict_proba(X)
        classes = estimator.classes_
        labels = classes[probs.argmax(axis=1)]
        binary = len(classes) == 2
        records = [
            {
                "score": float(p[1]) if binary else [float(v) for v in p],
                "predicted_label": number(label),
            }
            for p, label in zip(probs, labels, strict=True)
        ]
        return respond(records, accept, csv_fields=("predicted_label", "score"))


def _scores(estimator: Any, data: Dataset, kind: str) -> dict[str, float]:
    """The channel's metrics; AUC is NaN (not reported) when a class is absent."""
    y = data.y
    assert y is not None
    if kind == "regressor":
        pred = estimator.predict(data.X)
        mse = skm.mean_squared_error(y, pred)
        return {
            "rmse": float(np.sqrt(mse)),
            "mae": skm.mean_absolute_error(y, pred),
            "r2": skm.r2_score(y, pred) if len(y) > 1 else float("nan"),
        }
    classes = estimator.classes_
    probs = estimator.predict_proba(data.X)
    pred = classes[probs.argmax(axis=1)]
    if len(classes) == 2:
        f1 = skm.f1_score(y, pred, pos_label=classes[1], zero_division=0)
        both = len(np.unique(y)) == 2 and set(np.unique(y)) <= set(classes)
        auc = skm.roc_auc_score(y == classes[1], probs[:, 1]) if both else float("nan")
    else:
        f1 = skm.f1_score(y, pred, labels=classes, average="macro", zero_division=0)
        all_present = set(np.unique(y)) == set(classes)
        auc = (
            skm.roc_auc_score(y, probs, multi_class="ovr", labels=classes)
            if all_present
            else float("nan")
        )
    return {"accuracy": skm.accuracy_score(y, pred), "f1": f1, "auc": auc}


def _write_importances(env: TrainingEnvironment, estimator: Any, train: Dataset) -> None:
    """Impurity-based feature importances into the job's output data, for reports."""
    names = train.feature_names or [f"f{i}" for i in range(train.X.shape[1])]
    ranked = sorted(
        zip(names, (float(v) for v in estimator.feature_importances_), strict=True),
        key=lambda p: -p[1],
    )
    env.output_data_dir.mkdir(parents=True, exist_ok=True)
    path = env.output_data_dir / "feature_importance.json"
    path.write_text(json.dumps(dict(ranked), indent=2), encoding="utf-8")
    log("top features: " + ", ".join(f"{n}={v:.3f}" for n, v in ranked[:5]))


@register
class RandomForest(_Trees):
    """sageforge's `random-forest`: scikit-learn's random forest (not a SageMaker algorithm)."""

    name = "random-forest"
    title = "Random Forest (scikit-learn)"
    hyperparameters = HyperparameterSpec(
        [
            P("num_trees", "int", default=100, low=1, high=10_000),
            P("bootstrap", "bool", default=True),
            *_tree_params(),
        ]
    )
    estimators: ClassVar[dict[str, type]] = {
        "classifier": RandomForestClassifier,
        "regressor": RandomForestRegressor,
    }

    def estimator_params(self, hp: dict[str, Any], env: TrainingEnvironment) -> dict[str, Any]:
        """The tree settings plus the forest's own, on every CPU the job has."""
        return {
            **super().estimator_params(hp, env),
            "n_estimators": hp["num_trees"],
            "bootstrap": hp["bootstrap"],
            "n_jobs": env.num_cpus,
        }


@register
class DecisionTree(_Trees):
    """sageforge's `decision-tree`: one scikit-learn decision tree (not a SageMaker algorithm)."""

    name = "decision-tree"
    title = "Decision Tree (scikit-learn)"
    hyperparameters = HyperparameterSpec(_tree_params())
    estimators: ClassVar[dict[str, type]] = {
        "classifier": DecisionTreeClassifier,
        "regressor": DecisionTreeRegressor,
    }
