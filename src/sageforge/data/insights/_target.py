"""The target: its problem type, its distribution, and each feature's power on its own.

Target leakage is measured the way a skeptic would: for each feature alone, a
one-feature model is cross-validated (3 folds) and scored out of fold — ROC AUC
for classification (macro one-vs-rest for several classes), R² for regression.
The one-feature model predicts the target's mean (or class frequencies) in the
feature's bin: its value for categories, one of 20 quantile bins for numbers,
missing values in a bin of their own. Out-of-fold scoring is what keeps an
identifier honest: every id is unseen in the held-out fold, so it scores like
chance, while a column copied from the target scores near 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from sageforge.data.flow._base import is_string, is_temporal

LEAK_SCORE = 0.95
"""A single feature this predictive (AUC, or R²) is most likely derived from the target."""
STRONG_SCORE = 0.85
FOLDS = 3
BINS = 20
SMOOTHING = 1.0


def problem_type(series: pl.Series) -> str:
    """binary, multiclass or regression, from the target's values."""
    values = series.drop_nulls()
    if values.dtype.is_float():
        values = values.filter(~values.is_nan())
    distinct = values.n_unique()
    if distinct <= 2:
        return "binary"
    if not values.dtype.is_numeric() or (values.dtype.is_integer() and distinct <= 20):
        return "multiclass"
    if values.dtype.is_float() and distinct <= 20 and bool((values == values.round(0)).all()):
        return "multiclass"
    return "regression"


def encode_target(series: pl.Series, kind: str) -> tuple[np.ndarray, list[str]]:
    """Numeric target values: class codes (sorted labels) or the values themselves."""
    if kind == "regression":
        return series.cast(pl.Float64).to_numpy(), []
    labels = sorted(series.drop_nulls().cast(pl.String).unique().to_list(), key=_label_key)
    codes = series.cast(pl.String).replace_strict(labels, list(range(len(labels))), default=None)
    return codes.cast(pl.Float64).to_numpy(), labels


def _label_key(v: str) -> tuple[int, float | str]:
    try:
        return (0, float(v))
    except ValueError:
        return (1, v)


def target_analysis(series: pl.Series, kind: str) -> dict[str, Any]:
    """Class balance (classification) or the distribution (regression)."""
    out: dict[str, Any] = {
        "column": series.name,
        "problem_type": kind,
        "missing": int(series.null_count()),
    }
    if kind == "regression":
        x = series.cast(pl.Float64).drop_nulls()
        out["stats"] = {
            "mean": x.mean(),
            "std": x.std(),
            "min": x.min(),
            "median": x.median(),
            "max": x.max(),
            "skew": x.skew() if x.len() > 2 else None,
        }
        return out
    counts = series.drop_nulls().cast(pl.String).value_counts(sort=True, name="count").rows()
    total = sum(n for _, n in counts) or 1
    out["classes"] = [{"value": v, "count": int(n), "fraction": n / total} for v, n in counts]
    if counts:
        out["minority_fraction"] = min(n for _, n in counts) / total
    return out


def _bin_codes(series: pl.Series) -> np.ndarray:
    """Integer bin of each value: the category, or one of BINS quantile bins; nulls get 0."""
    s = series
    if is_temporal(s.dtype):
        s = s.cast(pl.Datetime("us")).dt.epoch("s") if s.dtype != pl.Time else s.cast(pl.Int64)
    if s.dtype.is_numeric() and s.n_unique() > BINS:
        x = s.cast(pl.Float64).fill_nan(None)
        present = x.drop_nulls().to_numpy()
        inner = np.linspace(0, 1, BINS + 1)[1:-1]
        qs = np.unique(np.quantile(present, inner)) if len(present) else np.array([])
        values = x.to_numpy()
        codes = np.searchsorted(qs, values, side="right") + 1
        codes[np.isnan(values)] = 0
        return codes.astype(np.int64)
    key = s.cast(pl.String) if not is_string(s.dtype) else s
    return key.rank("dense").fill_null(0).cast(pl.Int64).to_numpy()


def _oof_predictions(codes: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Out-of-fold smoothed bin means of `y` (n × k for k target columns)."""
    m = int(codes.max()) + 1
    k = y.shape[1]
    prior = y.mean(axis=0)
    total_n = np.bincount(codes, minlength=m).astype(float)
    total_s = np.stack([np.bincount(codes, weights=y[:, j], minlength=m) for j in range(k)], axis=1)
    pred = np.empty_like(y)
    for f in range(FOLDS):
        held = folds == f
        n = total_n - np.bincount(codes[held], minlength=m)
        s = total_s - np.stack(
            [np.bincount(codes[held], weights=y[held, j], minlength=m) for j in range(k)], axis=1
        )
        means = (s + SMOOTHING * prior) / (n[:, None] + SMOOTHING)
        pred[held] = means[codes[held]]
    return pred


def leakage(
    df: pl.DataFrame, target: str, kind: str, features: list[str], seed: int = 0
) -> list[dict[str, Any]]:
    """Each feature's cross-validated power on its own, most predictive first."""
    from sageforge.core.errors import ValidationError
    from sageforge.train.metrics import r2, roc_auc

    y_raw, labels = encode_target(df[target], kind)
    keep = ~np.isnan(y_raw)
    y_raw = y_raw[keep]
    if len(y_raw) < 2 * FOLDS or (kind != "regression" and len(np.unique(y_raw)) < 2):
        return []
    folds = np.random.default_rng(seed).integers(0, FOLDS, len(y_raw))
    # One target column per class (their bin means are class frequencies), or the value.
    y = y_raw[:, None] if kind == "regression" else np.eye(len(labels))[y_raw.astype(int)]
    out = []
    for col in features:
        codes = _bin_codes(df[col].filter(pl.Series(keep)))
        pred = _oof_predictions(codes, y, folds)
        try:
            if kind == "binary":
                score, metric = float(roc_auc(y_raw, pred[:, 1], pos_label=1.0)), "auc"
            elif kind == "multiclass":
                present = np.flatnonzero(y.sum(axis=0) > 0)
                probs = pred[:, present] / pred[:, present].sum(axis=1, keepdims=True)
                score = float(roc_auc(y_raw, probs, labels=present.astype(float)))
                metric = "auc"
            else:
                score, metric = float(r2(y_raw, pred[:, 0])), "r2"
        except (ValidationError, ValueError, ZeroDivisionError):  # one class, constant target …
            continue
        verdict = "leak" if score >= LEAK_SCORE else "strong" if score >= STRONG_SCORE else "ok"
        out.append({"column": col, "metric": metric, "score": score, "verdict": verdict})
    return sorted(out, key=lambda r: r["score"], reverse=True)
