"""Regression metrics: MAE, MSE, RMSE, R² and MAPE, as scikit-learn defines them.

Each is one pass over the residuals in float64. The edge cases follow
scikit-learn's defaults so numbers agree with what users already know:
R² of a constant target is 1.0 for a perfect fit and 0.0 otherwise, and MAPE
divides by `max(|y_true|, eps)`, so zeros in `y_true` give huge but finite
values rather than infinity.
"""

from __future__ import annotations

import numpy as np

from sageforge.core.errors import ValidationError
from sageforge.train.metrics._validation import ArrayLike, as_values, check_same_length


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    t = as_values(y_true, "y_true")
    p = as_values(y_pred, "y_pred")
    check_same_length(t, p, "y_pred")
    return t, p


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error, in the target's own unit."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def mse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean squared error: large errors weigh more than in MAE."""
    t, p = _pair(y_true, y_pred)
    err = t - p
    return float(np.dot(err, err) / len(err))


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error: MSE back in the target's unit."""
    return float(np.sqrt(mse(y_true, y_pred)))


def r2(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Coefficient of determination: 1 - SSE / total sum of squares around the mean.

    1.0 is a perfect fit, 0.0 is no better than predicting the mean, and it is
    negative for worse. Needs two rows: with one, the spread is undefined.
    """
    t, p = _pair(y_true, y_pred)
    if len(t) < 2:
        raise ValidationError("R² needs at least two rows", field="y_true")
    err = t - p
    centred = t - t.mean()
    sse = float(np.dot(err, err))
    sst = float(np.dot(centred, centred))
    if sst == 0.0:
        return 1.0 if sse == 0.0 else 0.0
    return 1.0 - sse / sst


def mape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute percentage error as a fraction (0.1 is 10 %), as scikit-learn's.

    The denominator is `max(|y_true|, machine epsilon)`, so a zero target
    yields a huge term instead of a division by zero.
    """
    t, p = _pair(y_true, y_pred)
    eps = np.finfo(np.float64).eps
    return float(np.mean(np.abs(t - p) / np.maximum(np.abs(t), eps)))
