"""SageMaker's Linear Learner: linear models for binary, multi-class and regression problems.

Same hyperparameters, metric names and inference responses as SageMaker's
`linear-learner`; the fitting is mini-batch gradient descent in NumPy
(`_linear_sgd`). Where sageforge differs, it says so rather than pretend:

- `num_models` is accepted but one model is trained (SageMaker trains several
  in parallel and keeps the best); `l1`, `wd`, `learning_rate` and `momentum`
  set to `auto` therefore take one default each instead of a search (see
  `_linear_sgd.config_from_hyperparameters`), and `optimizer=auto` is Adam.
- `positive_example_weight_mult=auto` means `balanced` (negatives / positives).
- Early stopping watches the validation loss (the training loss without a
  validation channel) and the model kept is the best epoch's.
- A binary classifier's decision threshold is chosen as SageMaker chooses it,
  by `binary_classifier_model_selection_criteria` on the validation channel
  (the training channel when there is none).
- `objective_loss` is the mean per-example loss of the model on that channel,
  in the original label scale and without the regularization terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit, softmax
from sklearn import metrics as skm

from sageforge.core.errors import ValidationError
from sageforge.train.algorithms import _linear_sgd as sgd
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
    emit_metric,
    emit_metrics,
    feature_dim_param,
    load_saved_model,
    log,
    logged_warnings,
    metric_definition,
    read_channel,
    respond,
    save_model,
    seed_param,
    training_hyperparameters,
)
from sageforge.train.algorithms._sklearn_common import metric_definitions as defs_for

BINARY, MULTICLASS, REGRESSOR = "binary_classifier", "multiclass_classifier", "regressor"
LOSSES = {
    BINARY: ("logistic", "hinge_loss"),
    MULTICLASS: ("softmax_loss",),
    REGRESSOR: sgd.REGRESSION_LOSSES,
}
DEFAULT_LOSS = {BINARY: "logistic", MULTICLASS: "softmax_loss", REGRESSOR: "squared_loss"}
METRICS = {
    BINARY: (
        "objective_loss",
        "binary_classification_accuracy",
        "binary_f_beta",
        "precision",
        "recall",
        "roc_auc_score",
    ),
    MULTICLASS: (
        "objective_loss",
        "multiclass_accuracy",
        "multiclass_top_k_accuracy",
        "macro_f_beta",
        "macro_precision",
        "macro_recall",
    ),
    REGRESSOR: ("objective_loss", "mse", "rmse", "absolute_loss"),
}

SPEC = HyperparameterSpec(
    [
        P("predictor_type", "categorical", required=True, choices=tuple(LOSSES), tunable=False),
        P("num_classes", "int", low=3, high=1_000_000, tunable=False),
        P("accuracy_top_k", "int", default=3, low=1),
        P("balance_multiclass_weights", "bool", default=False),
        P("beta_1", "float", default=0.9, low=0, high=1, high_open=True),
        P("beta_2", "float", default=0.999, low=0, high=1, high_open=True),
        WordOr("bias_lr_mult", "float", default="auto", low=0, low_open=True),
        WordOr("bias_wd_mult", "float", default="auto", low=0),
        P(
            "binary_classifier_model_selection_criteria",
            "categorical",
            default="accuracy",
            choices=(
                "accuracy",
                "f_beta",
                "precision_at_target_recall",
                "recall_at_target_precision",
                "loss_function",
            ),
        ),
        P("early_stopping_patience", "int", default=3, low=1),
        P("early_stopping_tolerance", "float", default=0.001, low=0, low_open=True),
        P("epochs", "int", default=15, low=1),
        P("f_beta", "float", default=1.0, low=0, low_open=True),
        feature_dim_param(),
        P("huber_delta", "float", default=1.0, low=0, low_open=True),
        P("init_bias", "float", default=0.0),
        P("init_method", "categorical", default="uniform", choices=("uniform", "normal")),
        P("init_scale", "float", default=0.07, low=0, low_open=True),
        P("init_sigma", "float", default=0.01, low=0, low_open=True),
        WordOr("l1", "float", default="auto", low=0),
        WordOr("learning_rate", "float", default="auto", low=0, low_open=True),
        P(
            "loss",
            "categorical",
            default="auto",
            choices=("auto", *sgd.CLASSIFICATION_LOSSES, *sgd.REGRESSION_LOSSES),
        ),
        P("loss_insensitivity", "float", default=0.01, low=0, low_open=True),
        P("lr_scheduler_factor", "float", default=0.99, low=0, high=1, low_open=True),
        P("lr_scheduler_minimum_lr", "float", default=1e-5, low=0, low_open=True),
        P("lr_scheduler_step", "int", default=100, low=1),
        P("margin", "float", default=1.0, low=0),
        P("mini_batch_size", "int", default=1000, low=1),
        WordOr("momentum", "float", default="auto", low=0, high=1, high_open=True),
        P("normalize_data", "bool", default=True),
        WordOr("normalize_label", "bool", default="auto"),
        P("num_calibration_samples", "int", default=10_000_000, low=1),
        WordOr("num_models", "int", default="auto", low=1),
        P("num_point_for_scaler", "int", default=10_000, low=1),
        P("optimizer", "categorical", default="auto", choices=("auto", "sgd", "adam", "rmsprop")),
        WordOr(
            "positive_example_weight_mult",
            "float",
            default=1.0,
            low=0,
            low_open=True,
            words=("auto", "balanced"),
        ),
        P("quantile", "float", default=0.5, low=0, high=1, low_open=True, high_open=True),
        P("target_precision", "float", default=0.8, low=0, high=1, low_open=True),
        P("target_recall", "float", default=0.8, low=0, high=1, low_open=True),
        WordOr("unbias_data", "bool", default="auto"),
        WordOr("unbias_label", "bool", default="auto"),
        P("use_bias", "bool", default=True),
        P("use_lr_scheduler", "bool", default=True),
        WordOr("wd", "float", default="auto", low=0),
        seed_param(),
    ]
)


@register
class LinearLearner(Algorithm):
    """SageMaker's `linear-learner`: logistic/hinge, softmax or regression losses by mini-batch SGD."""

    name = "linear-learner"
    title = "Linear Learner"
    hyperparameters = SPEC
    channels = (Channel("train", required=True), Channel("validation"), Channel("test"))
    content_types = TRAINING_CONTENT_TYPES
    inference_content_types = INFERENCE_CONTENT_TYPES
    inference_accept_types = ("application/json", "application/jsonlines", "text/csv")

    def validate_hyperparameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Also: `num_classes` for multi-class, a loss that fits the predictor type."""
        hp = super().validate_hyperparameters(raw)
        kind = hp["predictor_type"]
        if kind == MULTICLASS and "num_classes" not in hp:
            raise ValidationError(
                "is required when predictor_type is multiclass_classifier",
                field="hyper_parameters.num_classes",
            )
        if hp["loss"] != "auto" and hp["loss"] not in LOSSES[kind]:
            raise ValidationError(
                f"{hp['loss']!r} does not fit predictor_type {kind!r}; use 'auto' or one of "
                + ", ".join(LOSSES[kind]),
                field="hyper_parameters.loss",
            )
        if kind != REGRESSOR and hp["normalize_label"] is True:
            raise ValidationError(
                "applies to regressors only; leave it 'auto' for classifiers",
                field="hyper_parameters.normalize_label",
            )
        return hp

    def metric_definitions(self, hyperparameters: Mapping[str, Any]) -> list[MetricDefinition]:
        """`train:objective_loss`, then validation and test metrics for the predictor type."""
        kind = hyperparameters.get("predictor_type")
        kinds = [kind] if kind else list(METRICS)
        names = list(dict.fromkeys(m for k in kinds for m in METRICS[k]))
        return [
            metric_definition("train", "objective_loss"),
            *defs_for(("validation", "test"), names),
        ]

    def train(self, env: TrainingEnvironment) -> None:
        """Fit, keep the best epoch, choose the threshold (binary), report, and save."""
        hp = training_hyperparameters(self, env)
        kind = hp["predictor_type"]
        train, extra, n_features = _read_channels(env, hp)
        if hp["num_models"] not in ("auto", 1):
            log("num_models: sageforge trains one model; the setting is noted and not used")
        loss = DEFAULT_LOSS[kind] if hp["loss"] == "auto" else hp["loss"]
        n_outputs = int(hp["num_classes"]) if kind == MULTICLASS else 1
        cfg = sgd.config_from_hyperparameters(hp, loss=loss, n_outputs=n_outputs)
        model = _fit(train, extra["validation"], hp, cfg)
        threshold = 0.5 if loss == "logistic" else 0.0
        if kind == BINARY:
            chosen = extra["validation"] or train
            assert chosen.y is not None
            threshold = sgd.best_threshold(
                _binary_scores(model, chosen.X, loss),
                chosen.y,
                hp[_CRITERIA],
                default=threshold,
                beta=hp["f_beta"],
                target_recall=hp["target_recall"],
                target_precision=hp["target_precision"],
                max_rows=hp["num_calibration_samples"],
                seed=hp["seed"],
            )
            log(f"decision threshold {threshold:.6g} by {hp[_CRITERIA]}")
        payload = {"kind": kind, "loss": loss, "threshold": threshold, "model": model}
        emit_metric("train", "objective_loss", _objective(model, train, cfg))
        for channel, data in extra.items():
            if data is not None:
                emit_metrics(channel, _evaluate(payload, data, hp, cfg.loss_params))
        save_model(
            env.model_dir,
            self.name,
            payload,
            feature_dim=n_features,
            predictor_type=kind,
            loss=loss,
            threshold=float(threshold),
        )

    def load_model(self, model_dir: Path) -> SavedModel:
        """The saved weights, bias, loss and threshold."""
        return load_saved_model(model_dir, self.name)

    def predict(
        self, model: SavedModel, body: bytes, content_type: str, accept: str
    ) -> tuple[bytes, str]:
        """SageMaker's shapes: `{"score", "predicted_label"}` per row (just `score` for regressors).

        CSV lines carry `predicted_label,score` for binary, `predicted_label,p0,p1,…`
        for multi-class, and the score for regressors.
        """
        X = decode_request(body, content_type, model.feature_dim)
        p = model.payload
        kind = p["kind"]
        if kind == BINARY:
            score = _binary_scores(p["model"], X, p["loss"])
            label = (score >= p["threshold"]).astype(int)
            records: list[dict[str, Any]] = [
                {"score": float(s), "predicted_label": int(c)}
                for s, c in zip(score, label, strict=True)
            ]
            return respond(records, accept, csv_fields=("predicted_label", "score"))
        if kind == MULTICLASS:
            probs = softmax(p["model"].margins(X), axis=1)
            label = probs.argmax(axis=1)
            records = [
                {"score": [float(v) for v in row], "predicted_label": int(c)}
                for row, c in zip(probs, label, strict=True)
            ]
            return respond(records, accept, csv_fields=("predicted_label", "score"))
        score = p["model"].margins(X)[:, 0]
        return respond([{"score": float(s)} for s in score], accept)


_CRITERIA = "binary_classifier_model_selection_criteria"


def _read_channels(
    env: TrainingEnvironment, hp: dict[str, Any]
) -> tuple[Dataset, dict[str, Dataset | None], int]:
    """The train channel, the optional validation and test ones, and the feature count."""
    train = read_channel(env, "train", labelled=True, required=True)
    assert train is not None
    n_features = check_feature_dim(hp["feature_dim"], train)
    extra = {c: read_channel(env, c, labelled=True) for c in ("validation", "test")}
    for channel, data in {"train": train, **extra}.items():
        if data is not None:
            check_same_features(data, n_features, channel)
            _check_labels(data, hp["predictor_type"], hp.get("num_classes"), channel)
    return train, extra, n_features


def _fit(
    train: Dataset, validation: Dataset | None, hp: dict[str, Any], cfg: sgd.SGDConfig
) -> sgd.LinearModel:
    """Normalize as asked, descend, report the loss per epoch, return the best epoch's model."""
    assert train.y is not None
    center, scale = None, None
    if hp["normalize_data"]:
        center, scale = sgd.feature_scaler(
            train.X, max_rows=hp["num_point_for_scaler"], seed=hp["seed"]
        )
        center = None if hp["unbias_data"] is False else center
    shift, spread = 0.0, 1.0
    if hp["predictor_type"] == REGRESSOR and hp["normalize_label"] is not False:
        shift, spread = sgd.label_scaler(train.y, center=hp["unbias_label"] is not False)

    def evaluate(epoch: int, model: sgd.LinearModel) -> float:
        watched = _objective(model, train, cfg)
        emit_metric("train", "objective_loss", watched, epoch=epoch)
        if validation is not None:
            watched = _objective(model, validation, cfg)
            emit_metric("validation", "objective_loss", watched, epoch=epoch)
        if not np.isfinite(watched):
            raise AlgorithmError(
                f"training diverged at epoch {epoch} (loss {watched}); "
                "lower learning_rate or keep normalize_data=true"
            )
        return watched

    with logged_warnings():
        model, best_epoch = sgd.fit(
            train.X,
            train.y,
            cfg,
            sample_weight=_sample_weights(train.y, hp, hp["predictor_type"]),
            center=center,
            scale=scale,
            label_shift=shift,
            label_scale=spread,
            evaluate=evaluate,
        )
    log(f"kept the model of epoch {best_epoch}")
    return model


def _check_labels(data: Dataset, kind: str, num_classes: int | None, channel: str) -> None:
    y = data.y
    assert y is not None
    if not np.all(np.isfinite(y)):
        raise AlgorithmError(f"the {channel!r} channel has missing or infinite labels")
    if kind == BINARY and not np.all((y == 0) | (y == 1)):
        bad = sorted({float(v) for v in y[(y != 0) & (y != 1)]})[:5]
        raise AlgorithmError(
            f"binary_classifier needs labels 0 and 1; the {channel!r} channel has {bad}"
        )
    if kind == MULTICLASS:
        assert num_classes is not None
        ok = (y == np.round(y)) & (y >= 0) & (y < num_classes)
        if not np.all(ok):
            bad = sorted({float(v) for v in y[~ok]})[:5]
            raise AlgorithmError(
                f"multiclass_classifier with num_classes={num_classes} needs labels 0 to "
                f"{num_classes - 1}; the {channel!r} channel has {bad}"
            )


def _sample_weights(y: np.ndarray, hp: dict[str, Any], kind: str) -> np.ndarray | None:
    """Positive-class weight (binary) or balanced class weights (multi-class)."""
    if kind == BINARY:
        mult = hp["positive_example_weight_mult"]
        if mult in ("auto", "balanced"):
            pos = float(np.sum(y == 1))
            mult = (len(y) - pos) / pos if pos else 1.0
        return np.where(y == 1, float(mult), 1.0) if mult != 1.0 else None
    if kind == MULTICLASS and hp["balance_multiclass_weights"]:
        labels = y.astype(np.int64)
        counts = np.bincount(labels, minlength=int(hp["num_classes"])).astype(np.float64)
        present = counts > 0
        weights = np.zeros_like(counts)
        weights[present] = len(y) / (present.sum() * counts[present])
        return weights[labels]
    return None


def _objective(model: sgd.LinearModel, data: Dataset, cfg: sgd.SGDConfig) -> float:
    assert data.y is not None
    values, _ = sgd.loss_and_gradient(
        cfg.loss, model.margins(data.X), np.asarray(data.y, np.float64), cfg.loss_params
    )
    return float(values.mean())


def _binary_scores(model: sgd.LinearModel, X: Any, loss: str) -> np.ndarray:
    """Probability of the positive class for logistic loss; the raw margin for hinge."""
    z = model.margins(X)[:, 0]
    return expit(z) if loss == "logistic" else z


def _evaluate(
    payload: dict[str, Any], data: Dataset, hp: dict[str, Any], params: sgd.LossParams
) -> dict[str, float]:
    """SageMaker's metrics for the predictor type on one labelled channel."""
    assert data.y is not None
    model: sgd.LinearModel = payload["model"]
    kind, loss, y = payload["kind"], payload["loss"], np.asarray(data.y, np.float64)
    z = model.margins(data.X)
    objective = float(sgd.loss_and_gradient(loss, z, y, params)[0].mean())
    if kind == BINARY:
        score = _binary_scores(model, data.X, loss)
        pred = (score >= payload["threshold"]).astype(np.float64)
        both = len(np.unique(y)) == 2
        return {
            "objective_loss": objective,
            "binary_classification_accuracy": skm.accuracy_score(y, pred),
            "binary_f_beta": skm.fbeta_score(y, pred, beta=hp["f_beta"], zero_division=0),
            "precision": skm.precision_score(y, pred, zero_division=0),
            "recall": skm.recall_score(y, pred, zero_division=0),
            "roc_auc_score": skm.roc_auc_score(y, score) if both else float("nan"),
        }
    if kind == MULTICLASS:
        probs = softmax(z, axis=1)
        pred = probs.argmax(axis=1).astype(np.float64)
        labels = list(range(probs.shape[1]))
        top = np.argsort(-probs, axis=1, kind="stable")[:, : hp["accuracy_top_k"]]
        averaged = {"labels": labels, "average": "macro", "zero_division": 0}
        return {
            "objective_loss": objective,
            "multiclass_accuracy": skm.accuracy_score(y, pred),
            "multiclass_top_k_accuracy": float(np.mean(np.any(top == y[:, None], axis=1))),
            "macro_f_beta": skm.fbeta_score(y, pred, beta=hp["f_beta"], **averaged),
            "macro_precision": skm.precision_score(y, pred, **averaged),
            "macro_recall": skm.recall_score(y, pred, **averaged),
        }
    pred = z[:, 0]
    mse = skm.mean_squared_error(y, pred)
    return {
        "objective_loss": objective,
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "absolute_loss": skm.mean_absolute_error(y, pred),
    }
