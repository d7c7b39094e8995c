"""Class labels and the confusion matrix: the counts every threshold metric is made of.

The matrix is one `np.bincount` over `true_code * k + pred_code`, a single
linear pass, where scikit-learn builds a SciPy sparse matrix after sorting the
labels. When labels are small integers (the usual 0/1 or 0..k-1, booleans, or
floats holding whole numbers) they are their own codes and nothing is sorted;
other labels (strings, large or sparse integers) are encoded once with
`np.unique`/`np.searchsorted`.
"""

from __future__ import annotations

import numpy as np

from sageforge.core.errors import ValidationError
from sageforge.train.metrics._validation import (
    ArrayLike,
    as_labels,
    check_compatible_labels,
    check_same_length,
)

_DENSE_RANGE = 1024
"""Integer labels spanning at most this many values are counted in place, unsorted."""

_LOOKUP_RANGE = 1 << 20
"""Integer labels spanning at most this many values are mapped to codes with a lookup table."""

MAX_CLASSES = 4096
"""A k x k matrix beyond this is a regression target passed as labels, not a classifier."""


def _as_int(arr: np.ndarray) -> np.ndarray | None:
    """The labels as integers when they are integers in disguise, else None."""
    kind = arr.dtype.kind
    if kind == "b":
        return arr.view(np.uint8)
    if kind == "u" and arr.dtype.itemsize == 8:
        return arr if int(arr.max()) < 2**62 else None
    if kind in "iu":
        return arr
    if kind == "f":
        if float(np.abs(arr).max()) >= 2.0**53:
            return None
        ints = arr.astype(np.int64)
        return ints if np.array_equal(ints, arr) else None
    return None


def _restore(ints: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Integer codes back in the caller's label dtype (bool stays bool, 1.0 stays 1.0)."""
    if like.dtype.kind == "b":
        return ints.astype(bool)
    return ints.astype(like.dtype)


def _sorted_unique(arrays: list[np.ndarray], field: str) -> np.ndarray:
    try:
        return np.unique(np.concatenate(arrays))
    except TypeError as exc:
        raise ValidationError(
            f"labels cannot be ordered ({exc}); use labels of one type", field=field
        ) from exc


def unique_labels(*ys: ArrayLike) -> np.ndarray:
    """The sorted union of the class labels found in the given label arrays.

    This is the default class order of every metric here, as in scikit-learn:
    row/column order of the confusion matrix and column order of probabilities.
    """
    if not ys:
        raise ValidationError("needs at least one label array", field="y_true")
    arrays = [as_labels(y, "y_true" if i == 0 else "y_pred") for i, y in enumerate(ys)]
    for arr in arrays[1:]:
        check_compatible_labels(arrays[0], arr, "y_pred")
    ints = [_as_int(a) for a in arrays]
    if all(i is not None for i in ints):
        int_arrays = [i for i in ints if i is not None]
        lo = min(int(i.min()) for i in int_arrays)
        hi = max(int(i.max()) for i in int_arrays)
        if hi - lo < _LOOKUP_RANGE:
            present = np.zeros(hi - lo + 1, dtype=bool)
            for i in int_arrays:
                present |= np.bincount(_shift(i, lo), minlength=hi - lo + 1) > 0
            like = np.result_type(*arrays) if len(arrays) > 1 else arrays[0].dtype
            return _restore(np.flatnonzero(present) + lo, np.empty(0, dtype=like))
    return _sorted_unique(arrays, "y_true")


def _shift(ints: np.ndarray, lo: int) -> np.ndarray:
    """`ints - lo` as non-negative platform integers, ready for `bincount` and indexing."""
    out = ints.astype(np.intp)
    if lo:
        out -= lo
    return out


def class_codes(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Each row's index in `classes`, or -1 where its label is not one of them."""
    y_int, c_int = _as_int(y), _as_int(classes)
    if y_int is not None and c_int is not None:
        lo, hi = int(y_int.min()), int(y_int.max())
        if hi - lo < _LOOKUP_RANGE:
            lut = np.full(hi - lo + 1, -1, dtype=np.intp)
            inside = (c_int >= lo) & (c_int <= hi)
            lut[_shift(c_int[inside], lo)] = np.flatnonzero(inside)
            return lut[_shift(y_int, lo)]
    try:
        order = np.argsort(classes, kind="stable")
        ordered = classes[order]
        pos = np.minimum(np.searchsorted(ordered, y), len(classes) - 1)
        found = ordered[pos] == y
    except TypeError as exc:
        raise ValidationError(
            f"labels cannot be compared with the data ({exc})", field="labels"
        ) from exc
    return np.where(found, order[pos], -1)


def _check_class_list(labels: ArrayLike) -> np.ndarray:
    classes = as_labels(labels, "labels")
    if len(_sorted_unique([classes], "labels")) != len(classes):
        raise ValidationError("lists a class more than once", field="labels")
    if len(classes) > MAX_CLASSES:
        raise ValidationError(
            f"has {len(classes)} classes; at most {MAX_CLASSES} fit a confusion matrix",
            field="labels",
        )
    return classes


def confusion_with_labels(
    y_true: ArrayLike, y_pred: ArrayLike, labels: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The confusion matrix and the class labels its rows and columns stand for.

    Without `labels` the classes are every label seen in either array, sorted.
    With `labels`, rows and columns follow that order and rows whose true or
    predicted label is not listed are left out, as scikit-learn does.
    """
    t = as_labels(y_true, "y_true")
    p = as_labels(y_pred, "y_pred")
    check_same_length(t, p, "y_pred")
    check_compatible_labels(t, p, "y_pred")
    if labels is None:
        fast = _dense_confusion(t, p)
        if fast is not None:
            return fast
        classes = _sorted_unique([t, p], "y_true")
        _check_size(len(classes))
        k = len(classes)
        codes_t = np.searchsorted(classes, t)
        codes_p = np.searchsorted(classes, p)
        return _count(codes_t, codes_p, k), classes
    classes = _check_class_list(labels)
    check_compatible_labels(t, classes, "labels")
    codes_t = class_codes(t, classes)
    codes_p = class_codes(p, classes)
    known_t = codes_t >= 0
    if not known_t.any():
        raise ValidationError("none of the given labels occurs in y_true", field="labels")
    keep = known_t & (codes_p >= 0)
    if not keep.all():
        codes_t, codes_p = codes_t[keep], codes_p[keep]
    return _count(codes_t, codes_p, len(classes)), classes


def _check_size(k: int) -> None:
    if k > MAX_CLASSES:
        raise ValidationError(
            f"holds {k} distinct labels; a confusion matrix takes at most {MAX_CLASSES}. "
            "Is this a regression target?",
            field="y_true",
        )


def _count(codes_t: np.ndarray, codes_p: np.ndarray, k: int) -> np.ndarray:
    """Count (true, predicted) code pairs in one pass."""
    idx = codes_t.astype(np.intp)
    idx *= k
    idx += codes_p
    return np.bincount(idx, minlength=k * k).reshape(k, k)


def _dense_confusion(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Small integer labels are their own codes: count, then keep the classes that occur."""
    t_int, p_int = _as_int(t), _as_int(p)
    if t_int is None or p_int is None:
        return None
    lo = min(int(t_int.min()), int(p_int.min()))
    hi = max(int(t_int.max()), int(p_int.max()))
    span = hi - lo + 1
    if span > _DENSE_RANGE:
        return None
    idx = _shift(t_int, lo)
    idx *= span
    idx += p_int
    if lo:
        idx -= lo
    full = np.bincount(idx, minlength=span * span).reshape(span, span)
    present = np.flatnonzero((full.sum(axis=0) + full.sum(axis=1)) > 0)
    matrix = full if len(present) == span else full[np.ix_(present, present)]
    like = np.empty(0, dtype=np.result_type(t, p))
    return matrix, _restore(present + lo, like)


def confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, *, labels: ArrayLike | None = None
) -> np.ndarray:
    """Counts of (true class, predicted class) pairs: `C[i, j]` rows true `i`, predicted `j`.

    Matches `sklearn.metrics.confusion_matrix`: classes in sorted order, or in
    the order of `labels` when given (rows with a label outside it are ignored).
    """
    matrix, _ = confusion_with_labels(y_true, y_pred, labels)
    return matrix
