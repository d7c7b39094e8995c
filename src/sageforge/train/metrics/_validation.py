"""Input checks shared by every metric: convert once, fail with a sentence.

Metrics are called with whatever a user has at hand (lists, pandas or Polars
series, NumPy arrays). Each check converts to NumPy once and names the argument
at fault, so a bad call reads ``y_score: 3 values are NaN or infinite (first at
row 17)`` instead of a NumPy traceback from deep inside a sort.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sageforge.core.errors import ValidationError

ArrayLike = Any
"""Anything `numpy.asarray` understands: a list, a NumPy array, a pandas or Polars series."""

_NUMERIC_KINDS = "biuf"
_STRING_KINDS = "USO"


def as_1d(values: ArrayLike, field: str) -> np.ndarray:
    """A non-empty 1-D array; an (n, 1) column is flattened as scikit-learn does."""
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValidationError(
            f"expected a 1-D array of length n_rows, got shape {arr.shape}", field=field
        )
    if arr.size == 0:
        raise ValidationError("is empty; a metric needs at least one row", field=field)
    return arr


def as_labels(values: ArrayLike, field: str) -> np.ndarray:
    """Class labels: numbers, booleans or strings, 1-D, non-empty, no NaN."""
    arr = as_1d(values, field)
    if arr.dtype.kind not in _NUMERIC_KINDS + _STRING_KINDS:
        raise ValidationError(
            f"class labels must be numbers, booleans or strings, not {arr.dtype}", field=field
        )
    if arr.dtype.kind == "f":
        check_finite(arr, field)
    return arr


def as_scores(values: ArrayLike, field: str, *, ndim: int = 1) -> np.ndarray:
    """Finite floating-point scores; float32 stays float32 because it sorts twice as fast."""
    arr = np.asarray(values)
    if ndim == 1:
        arr = as_1d(arr, field)
    elif arr.ndim != 2 or arr.size == 0:
        raise ValidationError(
            f"expected a non-empty 2-D array (n_rows, n_classes), got shape {arr.shape}",
            field=field,
        )
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise ValidationError(f"must be numeric, got dtype {arr.dtype}", field=field)
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    check_finite(arr, field)
    return arr


def as_values(values: ArrayLike, field: str) -> np.ndarray:
    """Finite float64 values for regression metrics."""
    arr = as_1d(values, field)
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise ValidationError(f"must be numeric, got dtype {arr.dtype}", field=field)
    arr = arr.astype(np.float64, copy=False)
    check_finite(arr, field)
    return arr


def check_finite(arr: np.ndarray, field: str) -> None:
    """Reject NaN and infinity, saying how many and where the first one is."""
    if arr.dtype.kind != "f":
        return
    finite = np.isfinite(arr)
    if finite.all():
        return
    bad = np.flatnonzero(~finite.reshape(len(arr), -1).all(axis=1))
    raise ValidationError(
        f"{bad.size} row(s) hold NaN or infinite values (first at row {int(bad[0])}); "
        "drop or impute them before computing metrics",
        field=field,
    )


def check_same_length(a: np.ndarray, b: np.ndarray, field: str) -> None:
    """Both arrays describe the same rows; `field` names the second one."""
    if len(a) != len(b):
        raise ValidationError(
            f"has {len(b)} rows but y_true has {len(a)}; both must describe the same rows",
            field=field,
        )


def check_compatible_labels(a: np.ndarray, b: np.ndarray, field: str) -> None:
    """Refuse to compare numbers with strings, which would silently never match."""
    a_num, b_num = a.dtype.kind in _NUMERIC_KINDS, b.dtype.kind in _NUMERIC_KINDS
    a_str, b_str = a.dtype.kind in "US", b.dtype.kind in "US"
    if (a_num and b_str) or (a_str and b_num):
        raise ValidationError(
            f"mixes string and numeric labels ({a.dtype} against {b.dtype}); "
            "convert both to the same type",
            field=field,
        )
