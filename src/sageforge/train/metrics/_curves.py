"""Thinning a curve for plotting without changing its shape.

A ROC or precision-recall curve over millions of rows has up to one point per
distinct score; a browser plotting millions of points stalls and a JSON report
balloons. Points are picked evenly along the curve's length in the unit square
(not evenly by index), so steep corners keep their points and long straight
runs lose theirs; the first and last points are always kept.
"""

from __future__ import annotations

import numpy as np

from sageforge.core.errors import ValidationError


def downsample_curve(x: np.ndarray, y: np.ndarray, max_points: int | None) -> np.ndarray:
    """Indices of at most `max_points` points of the curve (x, y), in order."""
    n = len(x)
    if max_points is None or n <= max_points:
        return np.arange(n)
    if max_points < 2:
        raise ValidationError(
            f"must be at least 2 (the curve's two ends), got {max_points}", field="max_points"
        )
    length = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    if length[-1] > 0:
        idx = np.searchsorted(length, np.linspace(0.0, length[-1], max_points))
    else:
        idx = np.linspace(0, n - 1, max_points).round().astype(np.intp)
    idx = np.minimum(idx, n - 1)
    idx[0], idx[-1] = 0, n - 1
    return np.unique(idx)
