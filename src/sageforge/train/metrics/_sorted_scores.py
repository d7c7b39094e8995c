"""A binary problem's scores, split by class and sorted once: every ranking metric reads it.

ROC AUC is the Mann-Whitney statistic: the share of (positive, negative)
pairs the score orders correctly, ties counting one half. With both classes'
scores sorted, the number of negatives below each positive is one
`np.searchsorted` (keys in order, so it walks the array), and ties are
counted only where a positive's score also occurs among the negatives. Two
`np.sort` calls (SIMD quicksort) cost a fraction of the one stable `argsort`
scikit-learn does, and the counts are integers, so the AUC is the exactly
rounded ratio of two integers. Average precision, the threshold counts and
both curves come from the same two sorted arrays.
"""

from __future__ import annotations

from typing import NoReturn

import numpy as np

from sageforge.core.errors import ValidationError
from sageforge.train.metrics._curves import downsample_curve
from sageforge.train.metrics._validation import (
    ArrayLike,
    as_labels,
    as_scores,
    check_same_length,
)


def positive_mask(y_true: np.ndarray, pos_label: object = None) -> np.ndarray:
    """Which rows are positive; `pos_label=None` means the greater of the two classes.

    Two-class checks use min/max/count rather than `np.unique`, which would
    sort the labels: on ten million rows that is most of the AUC's time.
    """
    t = y_true
    if t.dtype.kind in "biuf":
        lo, hi = t.min(), t.max()
        if lo == hi:
            classes = [lo.item()]
        else:
            n_hi = int(np.count_nonzero(t == hi))
            if n_hi + int(np.count_nonzero(t == lo)) != len(t):
                _more_than_two()
            classes = [lo.item(), hi.item()]
    else:
        uniq = np.unique(t)
        if len(uniq) > 2:
            _more_than_two()
        classes = uniq.tolist()
    if pos_label is None and len(classes) == 2:
        pos_label = classes[1]
    elif pos_label is None:
        # One class only: by the 0/1 and -1/1 conventions 1 (or True) is positive.
        pos_label = classes[0] if classes[0] == 1 else None
    elif pos_label not in classes and len(classes) == 2:
        raise ValidationError(
            f"{pos_label!r} is not one of the classes {classes}", field="pos_label"
        )
    if pos_label is None or pos_label not in classes:
        return np.zeros(len(t), dtype=bool)
    return t == pos_label


def _more_than_two() -> NoReturn:
    raise ValidationError(
        "holds more than two classes; for a multiclass problem pass the scores as "
        "(n_rows, n_classes) probabilities",
        field="y_true",
    )


class SortedScores:
    """Scores of the positive and of the negative rows, each sorted ascending.

    Build it once with `from_labels` or `from_mask` and read several metrics
    from it (an evaluation reads five) without sorting again. A row is
    predicted positive at threshold `t` when its score is `>= t`.
    """

    __slots__ = ("_counts", "negative", "positive")

    def __init__(self, positive: np.ndarray, negative: np.ndarray) -> None:
        self.positive = np.sort(np.asarray(positive))
        self.negative = np.sort(np.asarray(negative))
        self._counts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @classmethod
    def _from_sorted(cls, positive: np.ndarray, negative: np.ndarray) -> SortedScores:
        obj = cls.__new__(cls)
        obj.positive, obj.negative, obj._counts = positive, negative, None
        return obj

    @classmethod
    def from_mask(cls, is_positive: np.ndarray, scores: np.ndarray) -> SortedScores:
        """Split finite `scores` by a mask of positive rows (anything truthy is positive)."""
        mask = np.asarray(is_positive, dtype=bool)
        values = np.asarray(scores)
        positive = values[mask]
        negative = values[~mask]
        positive.sort()
        negative.sort()
        return cls._from_sorted(positive, negative)

    @classmethod
    def from_labels(
        cls, y_true: ArrayLike, y_score: ArrayLike, *, pos_label: object = None
    ) -> SortedScores:
        """Validate binary labels and scores, then split and sort them."""
        t = as_labels(y_true, "y_true")
        s = as_scores(y_score, "y_score")
        check_same_length(t, s, "y_score")
        return cls.from_mask(positive_mask(t, pos_label), s)

    @property
    def n_positive(self) -> int:
        """Rows of the positive class."""
        return len(self.positive)

    @property
    def n_negative(self) -> int:
        """Rows of the negative class."""
        return len(self.negative)

    def _need(self, positives: bool, negatives: bool, what: str) -> None:
        if positives and not self.n_positive:
            raise ValidationError(
                f"has no positive rows, so {what} is undefined; it needs both classes",
                field="y_true",
            )
        if negatives and not self.n_negative:
            raise ValidationError(
                f"has no negative rows, so {what} is undefined; it needs both classes",
                field="y_true",
            )

    def roc_auc(self) -> float:
        """Area under the ROC curve: P(score of a positive > score of a negative), ties half."""
        self._need(True, True, "ROC AUC")
        below, tied = _pairs_below_and_tied(self.negative, self.positive)
        return (2 * below + tied) / (2 * self.n_positive * self.n_negative)

    def average_precision(self) -> float:
        """Precision averaged over the recall gained at each distinct positive score.

        Equal to scikit-learn's `average_precision_score`: the step integral of
        the precision-recall curve, with no interpolation.
        """
        self._need(True, False, "average precision")
        pos, n_pos = self.positive, self.n_positive
        starts = np.flatnonzero(np.concatenate([[True], pos[1:] != pos[:-1]]))
        counts = np.diff(np.append(starts, n_pos))
        tps = n_pos - starts
        fps = self.n_negative - np.searchsorted(self.negative, pos[starts], side="left")
        return float(np.sum(counts * (tps / (tps + fps))) / n_pos)

    def counts_at(self, thresholds: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """True and false positives when rows scoring `>= t` are called positive, per `t`."""
        thr = np.asarray(thresholds)
        if thr.dtype.kind != "f":
            thr = thr.astype(np.float64)
        tp = self.n_positive - np.searchsorted(self.positive, thr, side="left")
        fp = self.n_negative - np.searchsorted(self.negative, thr, side="left")
        return tp, fp

    def threshold_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every distinct score, descending, with the true and false positives at it.

        Computed once and kept: the ROC and precision-recall curves both read it.
        """
        if self._counts is None:
            merged = np.concatenate([self.positive, self.negative])
            merged.sort(kind="stable")  # two sorted runs: one linear merge
            distinct = merged[np.concatenate([[True], merged[1:] != merged[:-1]])]
            # Rows per distinct score, by class; sorted keys make each search a forward walk.
            n = len(distinct)
            pos = np.bincount(np.searchsorted(distinct, self.positive), minlength=n)
            neg = np.bincount(np.searchsorted(distinct, self.negative), minlength=n)
            self._counts = (
                distinct[::-1].astype(np.float64),
                np.cumsum(pos[::-1]),
                np.cumsum(neg[::-1]),
            )
        return self._counts

    def roc_curve(
        self, *, drop_intermediate: bool = True, max_points: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """False and true positive rates and their thresholds, as `sklearn.metrics.roc_curve`."""
        self._need(True, True, "the ROC curve")
        thr, tps, fps = self.threshold_counts()
        if drop_intermediate and len(fps) > 2:
            corner = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
            keep = np.flatnonzero(np.concatenate([[True], corner, [True]]))
            thr, tps, fps = thr[keep], tps[keep], fps[keep]
        fpr = np.concatenate([[0.0], fps / self.n_negative])
        tpr = np.concatenate([[0.0], tps / self.n_positive])
        thr = np.concatenate([[np.inf], thr])
        idx = downsample_curve(fpr, tpr, max_points)
        return fpr[idx], tpr[idx], thr[idx]

    def precision_recall_curve(
        self, *, drop_intermediate: bool = False, max_points: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Precision, recall and thresholds, as `sklearn.metrics.precision_recall_curve`.

        Thresholds ascend; precision and recall carry one more point, (1, 0),
        which no threshold reaches.
        """
        self._need(True, False, "the precision-recall curve")
        thr, tps, fps = self.threshold_counts()
        if drop_intermediate and len(fps) > 2:
            step = np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:]))
            keep = np.flatnonzero(np.concatenate([[True], step, [True]]))
            thr, tps, fps = thr[keep], tps[keep], fps[keep]
        prec = np.concatenate([(tps / (tps + fps))[::-1], [1.0]])
        rec = np.concatenate([(tps / self.n_positive)[::-1], [0.0]])
        thr = thr[::-1]
        idx = downsample_curve(rec, prec, max_points)
        # The last point is always kept and is the only one without a threshold.
        return prec[idx], rec[idx], thr[idx[:-1]]


def _pairs_below_and_tied(neg: np.ndarray, pos: np.ndarray) -> tuple[int, int]:
    """Count (negative, positive) pairs with negative < positive, and with them equal.

    The shorter array is searched in the longer one: the cost is
    `len(shorter) * log(len(longer))`, with keys in order.
    """
    n_pos, n_neg = len(pos), len(neg)
    if n_pos <= n_neg:
        left = np.searchsorted(neg, pos, side="left")
        below = int(left.sum(dtype=np.int64))
        tie = neg[np.minimum(left, n_neg - 1)] == pos
        if not tie.any():
            return below, 0
        right = np.searchsorted(neg, pos[tie], side="right")
        return below, int((right - left[tie]).sum(dtype=np.int64))
    right = np.searchsorted(pos, neg, side="right")
    below = n_pos * n_neg - int(right.sum(dtype=np.int64))
    tie = (right > 0) & (pos[np.maximum(right - 1, 0)] == neg)
    if not tie.any():
        return below, 0
    left = np.searchsorted(pos, neg[tie], side="left")
    return below, int((right[tie] - left).sum(dtype=np.int64))
