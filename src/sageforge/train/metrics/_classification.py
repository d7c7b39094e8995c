"""Threshold metrics of a classifier: accuracy, precision, recall, F-scores, log loss.

Everything but log loss is read off one confusion matrix, so each formula
lives once (`scores_from_confusion`) and agrees with scikit-learn's
`precision_recall_fscore_support` by construction: undefined ratios (no
predicted or no true rows of a class) take the `zero_division` value, and
F-scores are computed from counts, not from the rounded precision and recall.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from sageforge.core.errors import ValidationError
from sageforge.train.metrics._confusion import (
    class_codes,
    confusion_with_labels,
    unique_labels,
)
from sageforge.train.metrics._validation import (
    ArrayLike,
    as_labels,
    as_scores,
    check_compatible_labels,
    check_same_length,
)

Average = Literal["binary", "macro", "weighted", "micro"] | None
"""How per-class scores become one number, as scikit-learn's `average` argument."""

_AVERAGES = ("binary", "macro", "weighted", "micro", None)


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """The share of rows whose predicted label equals the true one."""
    t = as_labels(y_true, "y_true")
    p = as_labels(y_pred, "y_pred")
    check_same_length(t, p, "y_pred")
    check_compatible_labels(t, p, "y_pred")
    return float(np.count_nonzero(t == p) / len(t))


def balanced_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """The mean recall over the classes present in `y_true`.

    Unlike accuracy it is not inflated by a majority class: always predicting
    the majority of a 99:1 split scores 0.5, not 0.99.
    """
    matrix, _ = confusion_with_labels(y_true, y_pred)
    support = matrix.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(matrix)[present] / support[present]))


def _ratio(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    out = np.full(num.shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


def scores_from_confusion(
    matrix: ArrayLike,
    *,
    beta: float = 1.0,
    average: Average = "macro",
    positive: int | None = None,
    zero_division: float = 0.0,
) -> tuple[float | np.ndarray, float | np.ndarray, float | np.ndarray]:
    """Precision, recall and F-beta from a confusion matrix (rows true, columns predicted).

    `average="binary"` scores the class at index `positive`; `None` returns
    one value per class; "macro", "weighted" (by true support) and "micro"
    average as scikit-learn does. Reading a matrix lets a caller that already
    has one (an evaluation, a monitor) get every F-score without re-counting.
    """
    cm = np.asarray(matrix)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValidationError(f"must be a square matrix, got shape {cm.shape}", field="matrix")
    if average not in _AVERAGES:
        raise ValidationError(
            f"must be one of 'binary', 'macro', 'weighted', 'micro' or None, not {average!r}",
            field="average",
        )
    if beta < 0:
        raise ValidationError(f"must be non-negative, got {beta}", field="beta")
    tp = np.diag(cm).astype(np.float64)
    pred = cm.sum(axis=0).astype(np.float64)
    true = cm.sum(axis=1).astype(np.float64)
    if average == "binary":
        if positive is None:
            raise ValidationError(
                "average='binary' needs the positive class index", field="positive"
            )
        sel = slice(positive, positive + 1)
        tp, pred, true = tp[sel], pred[sel], true[sel]
    return _scores_from_totals(tp, pred, true, beta, average, zero_division)


def _scores_from_totals(
    tp: np.ndarray,
    pred: np.ndarray,
    true: np.ndarray,
    beta: float,
    average: Average,
    zero_division: float,
) -> tuple[float | np.ndarray, float | np.ndarray, float | np.ndarray]:
    """Per-class true positives, predicted and true counts -> averaged scores."""
    if average == "micro":
        tp, pred, true = (np.array([x.sum()]) for x in (tp, pred, true))
    b2 = beta * beta
    prec = _ratio(tp, pred, zero_division)
    rec = _ratio(tp, true, zero_division)
    fscore = _ratio((1 + b2) * tp, (1 + b2) * tp + b2 * (true - tp) + (pred - tp), zero_division)
    if average is None:
        return prec, rec, fscore
    if average == "weighted":
        if true.sum() == 0:
            return float(zero_division), float(zero_division), float(zero_division)
        p_w, r_w, f_w = (float(np.average(x, weights=true)) for x in (prec, rec, fscore))
        return p_w, r_w, f_w
    return float(prec.mean()), float(rec.mean()), float(fscore.mean())


def precision_recall_fscore(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    beta: float = 1.0,
    average: Average = "binary",
    pos_label: object = 1,
    labels: ArrayLike | None = None,
    zero_division: float = 0.0,
) -> tuple[float | np.ndarray, float | np.ndarray, float | np.ndarray]:
    """Precision, recall and F-beta of predicted labels, as scikit-learn defines them.

    With `average="binary"` (the default) the scores are those of `pos_label`
    and the data may hold at most two classes. Otherwise per-class scores are
    averaged over `labels` (default: every class seen, sorted); classes left
    out of `labels` still count as wrong predictions of the listed ones.
    """
    t = as_labels(y_true, "y_true")
    p = as_labels(y_pred, "y_pred")
    check_same_length(t, p, "y_pred")
    if average not in _AVERAGES:
        raise ValidationError(
            f"must be one of 'binary', 'macro', 'weighted', 'micro' or None, not {average!r}",
            field="average",
        )
    present = unique_labels(t, p)
    if average == "binary":
        return _binary_scores(t, p, present, beta, pos_label, zero_division)
    if labels is None:
        matrix, _ = confusion_with_labels(t, p, present)
        return scores_from_confusion(
            matrix, beta=beta, average=average, zero_division=zero_division
        )
    chosen = as_labels(labels, "labels")
    check_compatible_labels(present, chosen, "labels")
    extra = present[class_codes(present, chosen) < 0]
    full = np.concatenate([chosen, extra]) if len(extra) else chosen
    matrix, _ = confusion_with_labels(t, p, full)
    # Classes outside `labels` stay in the matrix so their rows and columns
    # still count as misses and false alarms of the listed classes.
    k = len(chosen)
    tp = np.diag(matrix)[:k].astype(np.float64)
    pred = matrix.sum(axis=0)[:k].astype(np.float64)
    true = matrix.sum(axis=1)[:k].astype(np.float64)
    return _scores_from_totals(tp, pred, true, beta, average, zero_division)


def _binary_scores(
    t: np.ndarray,
    p: np.ndarray,
    present: np.ndarray,
    beta: float,
    pos_label: object,
    zero_division: float,
) -> tuple[float, float, float]:
    found = [i for i, c in enumerate(present.tolist()) if c == pos_label]
    if len(present) > 2:
        raise ValidationError(
            f"y_true and y_pred hold {len(present)} classes; average='binary' needs at most "
            "two. Pass average='macro', 'weighted' or 'micro' for multiclass data",
            field="average",
        )
    if not found:
        if len(present) == 2:
            raise ValidationError(
                f"{pos_label!r} is not one of the classes {present.tolist()}",
                field="pos_label",
            )
        # The positive class never occurs: every count is zero.
        return (float(zero_division),) * 3  # type: ignore[return-value]
    matrix, _ = confusion_with_labels(t, p, present)
    out = scores_from_confusion(
        matrix, beta=beta, average="binary", positive=found[0], zero_division=zero_division
    )
    return out  # type: ignore[return-value]


def precision(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: Average = "binary",
    pos_label: object = 1,
    labels: ArrayLike | None = None,
    zero_division: float = 0.0,
) -> float | np.ndarray:
    """Of the rows predicted as a class, the share that truly are (scikit-learn's precision)."""
    return precision_recall_fscore(
        y_true,
        y_pred,
        average=average,
        pos_label=pos_label,
        labels=labels,
        zero_division=zero_division,
    )[0]


def recall(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: Average = "binary",
    pos_label: object = 1,
    labels: ArrayLike | None = None,
    zero_division: float = 0.0,
) -> float | np.ndarray:
    """Of the rows truly of a class, the share predicted as it (scikit-learn's recall)."""
    return precision_recall_fscore(
        y_true,
        y_pred,
        average=average,
        pos_label=pos_label,
        labels=labels,
        zero_division=zero_division,
    )[1]


def fbeta(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    beta: float,
    average: Average = "binary",
    pos_label: object = 1,
    labels: ArrayLike | None = None,
    zero_division: float = 0.0,
) -> float | np.ndarray:
    """The F-beta score: recall counts `beta` times as much as precision."""
    return precision_recall_fscore(
        y_true,
        y_pred,
        beta=beta,
        average=average,
        pos_label=pos_label,
        labels=labels,
        zero_division=zero_division,
    )[2]


def f1(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: Average = "binary",
    pos_label: object = 1,
    labels: ArrayLike | None = None,
    zero_division: float = 0.0,
) -> float | np.ndarray:
    """The harmonic mean of precision and recall (scikit-learn's `f1_score`)."""
    return fbeta(
        y_true,
        y_pred,
        beta=1.0,
        average=average,
        pos_label=pos_label,
        labels=labels,
        zero_division=zero_division,
    )


def log_loss(y_true: ArrayLike, y_proba: ArrayLike, *, labels: ArrayLike | None = None) -> float:
    """Mean negative log-likelihood of the true class (cross-entropy), natural log.

    `y_proba` is either 1-D, the probability of the greater of two classes,
    or (n_rows, n_classes) with columns in the order of `labels` (default: the
    sorted classes of `y_true`). Probabilities are clipped to [eps, 1 - eps]
    of their dtype, as scikit-learn does, so a confident mistake costs about
    36 nats instead of infinity.
    """
    t = as_labels(y_true, "y_true")
    proba = np.asarray(y_proba)
    proba = as_scores(proba, "y_proba", ndim=2 if proba.ndim == 2 and proba.shape[1] > 1 else 1)
    check_same_length(t, proba, "y_proba")
    lo, hi = float(proba.min()), float(proba.max())
    if lo < 0 or hi > 1:
        raise ValidationError(
            f"probabilities must lie in [0, 1]; found values in [{lo:g}, {hi:g}]",
            field="y_proba",
        )
    classes = unique_labels(t) if labels is None else as_labels(labels, "labels")
    n_cols = 2 if proba.ndim == 1 else proba.shape[1]
    if len(classes) != n_cols:
        if labels is None and len(classes) < 2:
            raise ValidationError(
                f"y_true holds a single class {classes.tolist()}; pass labels=[...] to say "
                "which classes the probabilities are for",
                field="labels",
            )
        raise ValidationError(
            f"{len(classes)} classes ({classes.tolist()[:10]}) but y_proba has {n_cols} "
            "columns; pass labels in the column order",
            field="labels",
        )
    check_compatible_labels(t, classes, "labels")
    codes = class_codes(t, classes)
    if (codes < 0).any():
        missing = t[codes < 0][0]
        raise ValidationError(
            f"y_true holds {missing!r}, which is not a listed class", field="labels"
        )
    eps = np.finfo(proba.dtype).eps
    if proba.ndim == 1:
        p_true = np.where(codes == 1, proba, 1 - proba)
    else:
        p_true = proba[np.arange(len(codes)), codes]
    p_true = np.clip(p_true, eps, 1 - eps).astype(np.float64)
    return float(-np.mean(np.log(p_true)))
