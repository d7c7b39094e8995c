"""One call from (truth, predictions) to the evaluation a training job writes as evaluation.json.

The dict follows SageMaker Model Monitor's model-quality statistics: a
`binary_classification_metrics`, `multiclass_classification_metrics` or
`regression_metrics` section where each metric is `{"value": x,
"standard_deviation": None}`, so tools that read SageMaker's files read ours.
Beside it sit what a person needs to judge a model and what the report plots:
the confusion matrix with its labels, per-class scores, a threshold table,
downsampled curves, residuals. Everything is plain JSON (no NumPy scalars, no
NaN or infinity: undefined values are `None` and `notes` says why).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from sageforge.core.errors import ValidationError
from sageforge.train import metrics as m

ProblemType = Literal["binary", "multiclass", "regression"]
"""The three problem types SageMaker's model-quality monitor knows."""

_PROBLEM_TYPES: dict[str, ProblemType] = {
    "binary": "binary",
    "binaryclassification": "binary",
    "multiclass": "multiclass",
    "multiclassclassification": "multiclass",
    "regression": "regression",
}

THRESHOLDS: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20))
"""Thresholds of the binary threshold table: 0.05 to 0.95 by 0.05."""

CURVE_POINTS = 200
"""Most points kept per curve: enough to draw it, small enough for JSON and a browser."""

SAMPLE_POINTS = 2000
"""Most (actual, predicted) pairs kept for the regression scatter plots."""

_BETAS = (("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0))


def _num(x: Any) -> float | None:
    """A JSON-safe float: NaN and infinity become None."""
    if x is None:
        return None
    value = float(x)
    return value if math.isfinite(value) else None


def _metric(x: Any) -> dict[str, float | None]:
    return {"value": _num(x), "standard_deviation": None}


def _is_numeric(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "biuf"


def _rows(values: Any, field: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim not in (1, 2) or len(arr) == 0:
        raise ValidationError(f"needs a non-empty 1-D or 2-D array, got {arr.shape}", field=field)
    return arr


def _check_rows(y_true: np.ndarray, other: np.ndarray, field: str) -> None:
    if len(other) != len(y_true):
        raise ValidationError(
            f"has {len(other)} rows but y_true has {len(y_true)}; both must describe the same rows",
            field=field,
        )


def _integer_like(arr: np.ndarray) -> bool:
    if arr.dtype.kind in "biu":
        return True
    return (
        arr.dtype.kind == "f"
        and bool(np.all(np.isfinite(arr)))
        and bool(np.array_equal(arr, np.round(arr)))
    )


def infer_problem_type(y_true: Any, predictions: Any) -> ProblemType:
    """Guess the problem type from the data, as the evaluation of a training job must.

    2-D predictions are class probabilities (two columns: binary). Integer or
    string labels with two classes and 1-D predictions in [0, 1] are binary.
    Non-numeric labels are classification. Everything else is regression:
    pass `problem_type` to evaluate hard multiclass labels held as numbers.
    """
    t = _rows(y_true, "y_true")
    p = _rows(predictions, "predictions")
    if p.ndim == 2:
        return "binary" if p.shape[1] == 2 else "multiclass"
    if not _is_numeric(t):
        n_classes = len(m.unique_labels(t) if _is_numeric(p) else m.unique_labels(t, p))
        return "binary" if n_classes <= 2 else "multiclass"
    in_unit = _is_numeric(p) and len(p) > 0 and 0.0 <= float(p.min()) <= float(p.max()) <= 1.0
    if t.dtype.kind == "b" or (_integer_like(t) and len(m.unique_labels(t)) == 2 and in_unit):
        return "binary"
    return "regression"


def evaluate(
    y_true: Any,
    predictions: Any,
    problem_type: str | None = None,
    *,
    threshold: float = 0.5,
    labels: Any = None,
) -> dict[str, Any]:
    """Evaluate predictions against the truth; the problem type is inferred when None.

    `problem_type` is "binary", "multiclass" or "regression" (SageMaker's
    "BinaryClassification", "MulticlassClassification" and "Regression" work
    too). `threshold` and `labels` apply to classification.
    """
    if problem_type is None:
        kind = infer_problem_type(y_true, predictions)
    else:
        key = str(problem_type).replace("_", "").replace(" ", "").lower()
        if key not in _PROBLEM_TYPES:
            raise ValidationError(
                f"must be 'binary', 'multiclass', 'regression' or None, not {problem_type!r}",
                field="problem_type",
            )
        kind = _PROBLEM_TYPES[key]
    if kind == "regression":
        return evaluate_regression(y_true, predictions)
    return evaluate_classification(
        y_true, predictions, threshold=threshold, labels=labels, problem_type=kind
    )


def _base(kind: ProblemType, n: int) -> dict[str, Any]:
    return {"version": 0.0, "problem_type": kind, "n_rows": n, "dataset": {"item_count": n}}


def _sagemaker_confusion(matrix: np.ndarray, labels: list[Any]) -> dict[str, dict[str, int]]:
    """SageMaker's nesting: actual label -> predicted label -> count, keys as strings."""
    names = [str(x) for x in labels]
    return {a: {p: int(matrix[i, j]) for j, p in enumerate(names)} for i, a in enumerate(names)}


def _confusion_section(matrix: np.ndarray, labels: list[Any]) -> dict[str, Any]:
    return {"labels": labels, "matrix": matrix.astype(int).tolist()}


def _best_constant(
    matrix: np.ndarray, average: m.Average, positive: int | None
) -> dict[str, float]:
    """The best score any always-the-same-class classifier reaches, per metric.

    SageMaker reports these beside each metric: a model is only useful if it
    beats them.
    """
    support = matrix.sum(axis=1)
    best: dict[str, float] = {}
    for c in range(len(support)):
        const = np.zeros_like(matrix)
        const[:, c] = support
        scores = {"accuracy": float(const[c, c] / support.sum())}
        for name, beta in _BETAS:
            p, r, f = m.scores_from_confusion(
                const,
                beta=beta,
                average=average,
                positive=positive,
            )
            scores.update({"precision": float(p), "recall": float(r), name: float(f)})
        for key, value in scores.items():
            best[key] = max(best.get(key, 0.0), value)
    return best


def evaluate_classification(
    y_true: Any,
    y_score_or_proba: Any,
    *,
    threshold: float = 0.5,
    labels: Any = None,
    problem_type: str | None = None,
    max_curve_points: int = CURVE_POINTS,
) -> dict[str, Any]:
    """Evaluate a classifier from its scores, probabilities or predicted labels.

    - 1-D numbers with two classes: the positive-class score; rows scoring
      `>= threshold` are predicted positive.
    - 2-D (n_rows, n_classes): probabilities, columns in the order of
      `labels` (default: the sorted classes); the arg-max is the prediction.
    - 1-D class labels (strings, or numbers that are all known classes other
      than 0/1): hard predictions; ranking metrics and curves are left out.

    For binary problems `labels=[negative, positive]`; by default the
    positive class is the greater one, as in scikit-learn.
    """
    t = _rows(y_true, "y_true")
    if t.ndim != 1:
        raise ValidationError(f"must be 1-D class labels, got shape {t.shape}", field="y_true")
    pred = _rows(y_score_or_proba, "y_score_or_proba")
    _check_rows(t, pred, "y_score_or_proba")
    if not math.isfinite(threshold):
        raise ValidationError(f"must be a finite number, got {threshold!r}", field="threshold")
    if problem_type is None:
        problem_type = infer_problem_type(t, pred)
        if problem_type == "regression":
            problem_type = "binary"
    classes = _classes(t, pred, labels)
    multiclass = len(classes) > 2 or (pred.ndim == 2 and pred.shape[1] > 2)
    if problem_type == "binary" and multiclass:
        raise ValidationError(
            f"is 'binary' but the data holds {max(len(classes), pred.shape[-1])} classes; "
            "pass problem_type='multiclass'",
            field="problem_type",
        )
    if problem_type == "multiclass" or multiclass:
        return _multiclass(t, pred, classes, max_curve_points)
    if len(classes) == 1:
        if t.dtype.kind == "b" or set(classes.tolist()) <= {0, 1}:
            classes = np.array([False, True]) if t.dtype.kind == "b" else np.array([0, 1])
        else:
            raise ValidationError(
                f"y_true holds a single class {classes.tolist()}; pass labels=[negative, "
                "positive] to say which class is positive",
                field="labels",
            )
    return _binary(t, pred, classes, threshold, max_curve_points)


def _classes(t: np.ndarray, pred: np.ndarray, labels: Any) -> np.ndarray:
    """The class list: given, or the sorted classes of y_true (and of predicted labels)."""
    if labels is not None:
        classes = np.asarray(labels)
        if classes.ndim != 1 or len(classes) == 0:
            raise ValidationError("must be a non-empty list of class labels", field="labels")
        return classes
    hard = pred.ndim == 1 and not _is_numeric(pred)
    classes = m.unique_labels(t, pred) if hard else m.unique_labels(t)
    if pred.ndim == 2 and len(classes) != pred.shape[1]:
        k = pred.shape[1]
        if _integer_like(t) and classes.min() >= 0 and classes.max() < k:
            return np.arange(k).astype(t.dtype)
        raise ValidationError(
            f"y_true holds {len(classes)} classes but the probabilities have {k} columns; "
            "pass labels=[...] naming the columns in order",
            field="labels",
        )
    return classes


def _is_hard(pred: np.ndarray, classes: np.ndarray) -> bool:
    """1-D predictions are labels, not scores, when they are not numbers, or are all
    classes other than 0/1 (with 0/1, scores and labels give the same predictions)."""
    if pred.ndim != 1:
        return False
    if not _is_numeric(pred):
        return True
    if not _is_numeric(classes) or set(classes.tolist()) <= {0, 1}:
        return False
    return bool(np.isin(pred, classes).all())


def _binary(
    t: np.ndarray, pred: np.ndarray, classes: np.ndarray, threshold: float, max_points: int
) -> dict[str, Any]:
    neg_label, pos_label = classes.tolist()
    unknown = set(m.unique_labels(t).tolist()) - set(classes.tolist())
    if unknown:
        raise ValidationError(
            f"y_true holds {sorted(unknown, key=str)[:5]}, not among the classes "
            f"{classes.tolist()}",
            field="labels",
        )
    notes: list[str] = []
    ranked: m.SortedScores | None = None
    if _is_hard(pred, classes):
        matrix = m.confusion_matrix(t, pred, labels=classes)
        if matrix.sum() != len(t):
            raise ValidationError(
                f"the predictions hold labels other than {classes.tolist()}", field="labels"
            )
        notes.append("predictions are labels: ranking metrics and curves need scores")
    else:
        score = pred[:, 1] if pred.ndim == 2 else pred
        ranked = m.SortedScores.from_labels(t, score, pos_label=pos_label)
        tp_at, fp_at = ranked.counts_at([threshold])
        tp, fp = int(tp_at[0]), int(fp_at[0])
        matrix = np.array([[ranked.n_negative - fp, fp], [ranked.n_positive - tp, tp]])
    (tn, fp), (fn, tp) = matrix.tolist()
    tpr = tp / (tp + fn) if tp + fn else None
    tnr = tn / (tn + fp) if tn + fp else None
    values: dict[str, Any] = {"accuracy": (tp + tn) / len(t)}
    for name, beta in _BETAS:
        p, r, f = m.scores_from_confusion(matrix, beta=beta, average="binary", positive=1)
        values.update({"precision": p, "recall": r, name: f})
    values.update(
        {
            "true_positive_rate": tpr,
            "true_negative_rate": tnr,
            "false_positive_rate": None if tnr is None else 1 - tnr,
            "false_negative_rate": None if tpr is None else 1 - tpr,
            "balanced_accuracy": np.mean([x for x in (tpr, tnr) if x is not None]),
        }
    )
    for key, value in _best_constant(matrix, "binary", 1).items():
        values[f"{key}_best_constant_classifier"] = value
    section: dict[str, Any] = {
        "confusion_matrix": _sagemaker_confusion(matrix, [neg_label, pos_label])
    }
    curves: dict[str, Any] = {}
    if ranked is not None:
        curves = _ranking(section, values, ranked, t, pred, classes, max_points, notes)
    section.update({k: _metric(v) for k, v in values.items()})
    out = _base("binary", len(t))
    out["binary_classification_metrics"] = section
    out.update(
        {
            "labels": classes.tolist(),
            "positive_label": pos_label,
            "threshold": float(threshold),
            "confusion_matrix": _confusion_section(matrix, classes.tolist()),
        }
    )
    if ranked is not None:
        out["threshold_table"] = _threshold_table(ranked)
        out["curves"] = curves
    out["notes"] = notes
    return out


def _ranking(
    section: dict[str, Any],
    values: dict[str, Any],
    ranked: m.SortedScores,
    t: np.ndarray,
    pred: np.ndarray,
    classes: np.ndarray,
    max_points: int,
    notes: list[str],
) -> dict[str, Any]:
    """AUC, average precision, log loss and the two curves of a scored binary problem."""
    curves: dict[str, Any] = {}
    if ranked.n_positive and ranked.n_negative:
        values["auc"] = ranked.roc_auc()
        fpr, tpr, thr = ranked.roc_curve(max_points=max_points)
        roc = {"false_positive_rates": _list(fpr), "true_positive_rates": _list(tpr)}
        section["receiver_operating_characteristic_curve"] = roc
        curves["roc"] = {**roc, "thresholds": _list(thr)}
    else:
        notes.append("auc: y_true holds one class only; ROC AUC needs both")
    if ranked.n_positive:
        values["pr_auc"] = ranked.average_precision()
        prec, rec, thr = ranked.precision_recall_curve(
            drop_intermediate=True, max_points=max_points
        )
        pr = {"precisions": _list(prec), "recalls": _list(rec)}
        section["precision_recall_curve"] = pr
        curves["precision_recall"] = {**pr, "thresholds": _list(thr)}
    else:
        notes.append("pr_auc: y_true holds no positive rows")
    lo, hi = float(pred.min()), float(pred.max())
    if lo >= 0.0 and hi <= 1.0:
        values["log_loss"] = m.log_loss(t, pred, labels=classes)
    else:
        notes.append(f"log_loss: scores span [{lo:g}, {hi:g}], not probabilities")
    return curves


def _list(arr: np.ndarray) -> list[float | None]:
    return [_num(x) for x in arr.tolist()]


def _threshold_table(ranked: m.SortedScores) -> list[dict[str, Any]]:
    """Counts and scores at each threshold of `THRESHOLDS`, to pick an operating point."""
    tps, fps = ranked.counts_at(THRESHOLDS)
    rows = []
    for thr, tp, fp in zip(THRESHOLDS, tps.tolist(), fps.tolist(), strict=True):
        fn, tn = ranked.n_positive - tp, ranked.n_negative - fp
        p, r, f = m.scores_from_confusion(
            np.array([[tn, fp], [fn, tp]]), average="binary", positive=1
        )
        rows.append(
            {
                "threshold": thr,
                "precision": float(p),
                "recall": float(r),
                "f1": float(f),
                "accuracy": (tp + tn) / (tp + fp + tn + fn),
                "tp": tp,
                "fp": fp,
                "tn": tn,
                "fn": fn,
            }
        )
    return rows


def _multiclass(
    t: np.ndarray, pred: np.ndarray, classes: np.ndarray, max_points: int
) -> dict[str, Any]:
    notes: list[str] = []
    proba: np.ndarray | None = None
    if pred.ndim == 2:
        if pred.shape[1] != len(classes):
            raise ValidationError(
                f"{len(classes)} labels but the probabilities have {pred.shape[1]} columns",
                field="labels",
            )
        if not _is_numeric(pred) or not np.isfinite(pred).all():
            raise ValidationError("probabilities must be finite numbers", field="y_score_or_proba")
        proba = pred
        predicted = classes[np.argmax(proba, axis=1)]
    else:
        predicted = pred
        notes.append("predictions are labels: ranking metrics and curves need probabilities")
    matrix = m.confusion_matrix(t, predicted, labels=classes)
    if matrix.sum() != len(t):
        raise ValidationError(
            f"y_true or the predictions hold labels other than {classes.tolist()[:20]}",
            field="labels",
        )
    support = matrix.sum(axis=1)
    present = support > 0
    values: dict[str, Any] = {
        "accuracy": np.trace(matrix) / len(t),
        "balanced_accuracy": np.mean(np.diag(matrix)[present] / support[present]),
    }
    for name, beta in _BETAS:
        p, r, f = m.scores_from_confusion(matrix, beta=beta, average="weighted")
        values.update({"weighted_precision": p, "weighted_recall": r, f"weighted_{name}": f})
    for key, value in _best_constant(matrix, "weighted", None).items():
        prefix = "" if key == "accuracy" else "weighted_"
        values[f"{prefix}{key}_best_constant_classifier"] = value
    p, r, f = m.scores_from_confusion(matrix, average="macro")
    values.update({"macro_precision": p, "macro_recall": r, "macro_f1": f})
    pc_p, pc_r, pc_f = m.scores_from_confusion(matrix, average=None)
    per_class: list[dict[str, Any]] = [
        {
            "label": label,
            "precision": float(pc_p[j]),  # type: ignore[index]
            "recall": float(pc_r[j]),  # type: ignore[index]
            "f1": float(pc_f[j]),  # type: ignore[index]
            "support": int(support[j]),
        }
        for j, label in enumerate(classes.tolist())
    ]
    curves: dict[str, Any] = {}
    if proba is not None:
        curves = _one_vs_rest(t, proba, classes, support, per_class, values, max_points, notes)
    section: dict[str, Any] = {"confusion_matrix": _sagemaker_confusion(matrix, classes.tolist())}
    section.update({k: _metric(v) for k, v in values.items()})
    out = _base("multiclass", len(t))
    out["multiclass_classification_metrics"] = section
    out.update(
        {
            "labels": classes.tolist(),
            "confusion_matrix": _confusion_section(matrix, classes.tolist()),
            "per_class": per_class,
        }
    )
    if curves:
        out["curves"] = curves
    out["notes"] = notes
    return out


def _one_vs_rest(
    t: np.ndarray,
    proba: np.ndarray,
    classes: np.ndarray,
    support: np.ndarray,
    per_class: list[dict[str, Any]],
    values: dict[str, Any],
    max_points: int,
    notes: list[str],
) -> dict[str, Any]:
    """Per-class AUC and average precision, their averages, ROC curves and log loss.

    Classes absent from y_true have no one-vs-rest AUC; they are skipped (and
    noted) rather than failing the whole evaluation.
    """
    n = len(t)
    aucs, aps, weights, roc = [], [], [], []
    per_point = max(2, max_points // 2)
    for j, label in enumerate(classes.tolist()):
        if not 0 < support[j] < n:
            notes.append(f"auc: class {label!r} is absent from y_true (or is all of it); skipped")
            continue
        ranked = m.SortedScores.from_mask(t == label, proba[:, j])
        auc, ap = ranked.roc_auc(), ranked.average_precision()
        per_class[j].update({"auc": auc, "pr_auc": ap})
        aucs.append(auc)
        aps.append(ap)
        weights.append(int(support[j]))
        fpr, tpr, _ = ranked.roc_curve(max_points=per_point)
        roc.append(
            {
                "label": label,
                "auc": auc,
                "false_positive_rates": _list(fpr),
                "true_positive_rates": _list(tpr),
            }
        )
    if aucs:
        values["auc"] = np.mean(aucs)
        values["weighted_auc"] = np.average(aucs, weights=weights)
        values["pr_auc"] = np.mean(aps)
    lo, hi = float(proba.min()), float(proba.max())
    if lo >= 0.0 and hi <= 1.0:
        values["log_loss"] = m.log_loss(t, proba, labels=classes)
    else:
        notes.append(f"log_loss: scores span [{lo:g}, {hi:g}], not probabilities")
    return {"roc_one_vs_rest": roc} if roc else {}


def evaluate_regression(
    y_true: Any, y_pred: Any, *, sample_points: int = SAMPLE_POINTS
) -> dict[str, Any]:
    """Evaluate a regressor: MAE, MSE, RMSE, R², MAPE and a picture of the residuals.

    Residuals are `actual - predicted`. Their summary and histogram use every
    row; the scatter plots get a seeded random sample of `sample_points` rows.
    """
    values: dict[str, Any] = {"mae": m.mae(y_true, y_pred)}  # validates both arrays
    t = np.asarray(y_true, dtype=np.float64).reshape(-1)
    p = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    notes: list[str] = []
    values.update({"mse": m.mse(t, p), "rmse": m.rmse(t, p)})
    if len(t) >= 2:
        values["r2"] = m.r2(t, p)
    else:
        notes.append("r2: needs at least two rows")
    values["mape"] = m.mape(t, p)
    if (t == 0).any():
        notes.append("mape: y_true holds zeros, whose terms dominate MAPE")
    residual = t - p
    q = np.percentile(residual, [5, 25, 50, 75, 95])
    counts, edges = np.histogram(residual, bins=40)
    idx = np.arange(len(t))
    if len(t) > sample_points:
        idx = np.sort(np.random.default_rng(0).choice(len(t), sample_points, replace=False))
    out = _base("regression", len(t))
    out["regression_metrics"] = {k: _metric(v) for k, v in values.items()}
    out["residuals"] = {
        "definition": "actual - predicted",
        "summary": {
            "mean": _num(residual.mean()),
            "std": _num(residual.std()),
            "min": _num(residual.min()),
            "p05": _num(q[0]),
            "p25": _num(q[1]),
            "median": _num(q[2]),
            "p75": _num(q[3]),
            "p95": _num(q[4]),
            "max": _num(residual.max()),
        },
        "histogram": {"bin_edges": _list(edges), "counts": counts.tolist()},
    }
    out["sample"] = {"actual": _list(t[idx]), "predicted": _list(p[idx]), "rows": len(idx)}
    out["notes"] = notes
    return out
