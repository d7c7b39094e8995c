"""Ranking metrics: ROC AUC and average precision, binary and one-vs-rest, and their curves.

The binary work is `SortedScores`; this module validates the call, picks
binary or multiclass from the shape of the scores, and averages per-class
results the way scikit-learn's `roc_auc_score(multi_class="ovr")` and
`average_precision_score` do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from sageforge.core.errors import ValidationError
from sageforge.train.metrics._confusion import class_codes, unique_labels
from sageforge.train.metrics._sorted_scores import SortedScores
from sageforge.train.metrics._validation import (
    ArrayLike,
    as_labels,
    as_scores,
    check_compatible_labels,
    check_same_length,
)

RankAverage = Literal["macro", "weighted", "micro"] | None
"""How one-vs-rest scores of a multiclass problem become one number."""


def roc_auc(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    average: RankAverage = "macro",
    labels: ArrayLike | None = None,
    pos_label: object = None,
) -> float | np.ndarray:
    """Area under the ROC curve, exact, ties counting one half (scikit-learn's `roc_auc_score`).

    1-D `y_score` is the score of the positive class (`pos_label`, default the
    greater of the two classes). 2-D `y_score` (n_rows, n_classes) is
    multiclass, scored one-vs-rest per column (`labels` names the columns,
    default the sorted classes of `y_true`) and averaged by `average`;
    `None` returns one AUC per class.
    """
    scores = np.asarray(y_score)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return _one_vs_rest(y_true, scores, labels, average, SortedScores.roc_auc)
    return SortedScores.from_labels(y_true, scores, pos_label=pos_label).roc_auc()


def pr_auc(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    average: RankAverage = "macro",
    labels: ArrayLike | None = None,
    pos_label: object = None,
) -> float | np.ndarray:
    """Average precision, the area under the precision-recall curve without interpolation.

    Equal to scikit-learn's `average_precision_score`; unlike ROC AUC it
    reflects how rare the positive class is, which is what matters when
    positives are scarce. Binary and multiclass inputs as for `roc_auc`.
    """
    scores = np.asarray(y_score)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return _one_vs_rest(y_true, scores, labels, average, SortedScores.average_precision)
    return SortedScores.from_labels(y_true, scores, pos_label=pos_label).average_precision()


def roc_curve(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    pos_label: object = None,
    drop_intermediate: bool = True,
    max_points: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False positive rates, true positive rates and the thresholds (descending) giving them.

    As `sklearn.metrics.roc_curve`; the first threshold is `inf` (nothing
    called positive). `max_points` thins the curve for plotting.
    """
    ranked = SortedScores.from_labels(y_true, y_score, pos_label=pos_label)
    return ranked.roc_curve(drop_intermediate=drop_intermediate, max_points=max_points)


def precision_recall_curve(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    pos_label: object = None,
    drop_intermediate: bool = False,
    max_points: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall at each distinct score, thresholds ascending.

    As `sklearn.metrics.precision_recall_curve`: precision and recall end with
    the point (1, 0) that has no threshold. `max_points` thins the curve.
    """
    ranked = SortedScores.from_labels(y_true, y_score, pos_label=pos_label)
    return ranked.precision_recall_curve(drop_intermediate=drop_intermediate, max_points=max_points)


def _one_vs_rest(
    y_true: ArrayLike,
    y_score: np.ndarray,
    labels: ArrayLike | None,
    average: RankAverage,
    metric: Callable[[SortedScores], float],
) -> float | np.ndarray:
    """Score each column against the rest and average, as scikit-learn's one-vs-rest."""
    t = as_labels(y_true, "y_true")
    s = as_scores(y_score, "y_score", ndim=2)
    check_same_length(t, s, "y_score")
    if average not in ("macro", "weighted", "micro", None):
        raise ValidationError(
            f"must be 'macro', 'weighted', 'micro' or None, not {average!r}", field="average"
        )
    classes = unique_labels(t) if labels is None else as_labels(labels, "labels")
    k = s.shape[1]
    if len(classes) != k:
        raise ValidationError(
            f"y_true holds {len(classes)} classes ({classes.tolist()[:10]}) but y_score has "
            f"{k} columns; pass labels=[...] naming the columns in order",
            field="labels",
        )
    check_compatible_labels(t, classes, "labels")
    codes = class_codes(t, classes)
    if (codes < 0).any():
        raise ValidationError(
            f"y_true holds {t[codes < 0][0]!r}, which is not a listed class", field="labels"
        )
    if k == 2:
        # Two columns are a binary problem: the second column scores the second class.
        return metric(SortedScores.from_mask(codes == 1, s[:, 1]))
    support = np.bincount(codes, minlength=k)
    absent = np.flatnonzero(support == 0)
    if len(absent):
        raise ValidationError(
            f"class {classes[absent[0]]!r} never occurs in y_true, so its one-vs-rest score is "
            "undefined; drop its column or evaluate on data that holds it",
            field="y_true",
        )
    if average == "micro":
        onehot = (codes[:, None] == np.arange(k)).ravel()
        return metric(SortedScores.from_mask(onehot, s.ravel()))
    per_class = np.array([metric(SortedScores.from_mask(codes == j, s[:, j])) for j in range(k)])
    if average is None:
        return per_class
    if average == "weighted":
        return float(np.average(per_class, weights=support))
    return float(per_class.mean())
