"""Per-table and per-column statistics: what each column holds and what is wrong with it.

Everything here is one or two Polars queries over all rows (a million rows take
well under a second on two cores), so the summary numbers are exact, not
sampled. Histograms use 30 equal-width bins for numbers and the 20 most
frequent values for categories.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from sageforge.data.flow._base import dtype_name, is_string, is_temporal

HIST_BINS = 30
TOP_VALUES = 20
CATEGORICAL_MAX_DISTINCT = 100
"""A text column with at most this many distinct values (or under 5% of rows) is categorical."""


def column_kind(dtype: pl.DataType, distinct: int, rows: int) -> str:
    """numeric, boolean, datetime, categorical or text."""
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_numeric():
        return "numeric"
    if is_temporal(dtype):
        return "datetime"
    if is_string(dtype) and (distinct <= CATEGORICAL_MAX_DISTINCT or distinct < 0.05 * rows):
        return "categorical"
    return "text"


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) or math.isinf(f) else f


def summary(df: pl.DataFrame, kinds: dict[str, str], duplicate_rows: int) -> dict[str, Any]:
    """Rows, columns, types, missing cells, duplicate rows, memory."""
    rows, cols = df.height, df.width
    missing = int(sum(df.null_count().row(0))) if cols else 0
    counts: dict[str, int] = {}
    for kind in kinds.values():
        counts[kind] = counts.get(kind, 0) + 1
    return {
        "rows": rows,
        "columns": cols,
        "column_kinds": counts,
        "missing_cells": missing,
        "missing_fraction": missing / (rows * cols) if rows and cols else 0.0,
        "duplicate_rows": duplicate_rows,
        "duplicate_fraction": duplicate_rows / rows if rows else 0.0,
        "memory_bytes": int(df.estimated_size()),
    }


def _numeric_exprs(col: str, dtype: pl.DataType) -> list[pl.Expr]:
    """The streaming statistics of a numeric column, for one query over all columns
    (quantiles come from NumPy, which finds them all in one partition)."""
    x = pl.col(col).cast(pl.Float64)
    if dtype.is_float():
        x = x.fill_nan(None)
    outside = (x - x.mean()).abs() > 3 * x.std()
    return [
        x.min().alias(f"{col}|min"),
        x.max().alias(f"{col}|max"),
        x.mean().alias(f"{col}|mean"),
        x.std().alias(f"{col}|std"),
        x.skew().alias(f"{col}|skew"),
        x.kurtosis().alias(f"{col}|kurtosis"),
        (x == 0).sum().alias(f"{col}|zeros"),
        (x < 0).sum().alias(f"{col}|negatives"),
        outside.sum().alias(f"{col}|outliers"),
    ]


_STATS = ("min", "max", "mean", "std", "skew", "kurtosis")
_QUANTILES = {
    "q01": 0.01,
    "q05": 0.05,
    "q25": 0.25,
    "median": 0.5,
    "q75": 0.75,
    "q95": 0.95,
    "q99": 0.99,
}


def _numeric_stats(row: dict[str, Any], col: str, values: np.ndarray) -> dict[str, Any]:
    stats: dict[str, Any] = {k: _num(row[f"{col}|{k}"]) for k in _STATS}
    if len(values):
        found = np.quantile(values, list(_QUANTILES.values()))
        stats |= {k: float(v) for k, v in zip(_QUANTILES, found, strict=True)}
    else:
        stats |= dict.fromkeys(_QUANTILES)
    for k in ("zeros", "negatives", "outliers"):
        stats[k] = int(row[f"{col}|{k}"] or 0)
    mean, std = stats["mean"], stats["std"]
    stats["outlier_bounds"] = [mean - 3 * std, mean + 3 * std] if mean is not None and std else None
    return stats


def _numeric_histogram(values: np.ndarray, lo: float | None, hi: float | None) -> dict[str, Any]:
    if lo is None or hi is None or not len(values):
        return {"kind": "numeric", "edges": [], "counts": []}
    if hi == lo:
        return {"kind": "numeric", "edges": [lo, hi], "counts": [len(values)]}
    counts, edges = np.histogram(values, bins=HIST_BINS, range=(lo, hi))
    return {"kind": "numeric", "edges": edges.tolist(), "counts": counts.tolist()}


TEXT_SAMPLE = 100_000
"""Above this many distinct values (identifiers, free text), text statistics come from a
seeded sample of them, scaled up: a padded id is as visible in 100,000 ids as in 10 million."""


def _text_stats(counts: pl.DataFrame) -> dict[str, Any]:
    """Text statistics computed on the distinct values (weighted by their counts), which is
    far cheaper than on every row when values repeat."""
    scale = 1.0
    if counts.height > TEXT_SAMPLE:
        scale = float(counts["n"].sum()) / float(counts.sample(TEXT_SAMPLE, seed=0)["n"].sum())
        counts = counts.sample(TEXT_SAMPLE, seed=0)
    v, n = pl.col("v"), pl.col("n")
    stripped = v.str.strip_chars()
    row = counts.select(
        (n * (stripped == "")).sum().alias("empty"),
        (n * ((v != stripped) & (stripped != ""))).sum().alias("padded"),
        v.filter((v != stripped) & (stripped != "")).first().alias("example"),
        v.str.len_chars().min().alias("min_length"),
        v.str.len_chars().max().alias("max_length"),
        ((v.str.len_chars() * n).sum() / n.sum()).alias("mean_length"),
        (n * stripped.cast(pl.Float64, strict=False).is_not_null()).sum().alias("numeric_like"),
        n.sum().alias("present"),
        stripped.n_unique().alias("distinct_stripped"),
        stripped.str.to_lowercase().n_unique().alias("distinct_folded"),
    ).row(0, named=True)
    present = int(row["present"] or 0)
    return {
        "empty": round((row["empty"] or 0) * scale),
        "whitespace_padded": round((row["padded"] or 0) * scale),
        "whitespace_example": row["example"],
        "min_length": row["min_length"],
        "max_length": row["max_length"],
        "mean_length": _num(row["mean_length"]),
        "numeric_like_fraction": (row["numeric_like"] or 0) / present if present else 0.0,
        "case_variants": int(row["distinct_stripped"] or 0) - int(row["distinct_folded"] or 0),
    }


def profile_columns(df: pl.DataFrame) -> list[dict[str, Any]]:
    """Statistics of every column, with histograms, in a handful of queries."""
    rows = df.height
    textual = {c for c, t in df.schema.items() if is_string(t)}
    basics = (
        df.select(
            *[pl.col(c).null_count().alias(f"{c}|null") for c in df.columns],
            *[
                pl.col(c).is_nan().sum().alias(f"{c}|nan")
                for c, t in df.schema.items()
                if t.is_float()
            ],
            *[
                pl.col(c).drop_nulls().n_unique().alias(f"{c}|distinct")
                for c in df.columns
                if c not in textual
            ],
        ).row(0, named=True)
        if df.width
        else {}
    )
    value_counts = {
        c: df.select(pl.col(c).cast(pl.String).alias("v"))
        .drop_nulls()
        .group_by("v")
        .agg(pl.len().alias("n"))
        for c in textual
    }
    numeric = [c for c, t in df.schema.items() if t.is_numeric()]
    stats_row = (
        df.select([e for c in numeric for e in _numeric_exprs(c, df.schema[c])]).row(0, named=True)
        if numeric
        else {}
    )
    out = []
    for col, dtype in df.schema.items():
        missing = int(basics.get(f"{col}|null", 0)) + int(basics.get(f"{col}|nan", 0) or 0)
        distinct = (
            value_counts[col].height if col in textual else int(basics.get(f"{col}|distinct", 0))
        )
        kind = column_kind(dtype, distinct, rows)
        info: dict[str, Any] = {
            "name": col,
            "dtype": dtype_name(dtype),
            "kind": kind,
            "missing": missing,
            "missing_fraction": missing / rows if rows else 0.0,
            "distinct": distinct,
            "distinct_fraction": distinct / max(1, rows - missing),
        }
        if kind == "numeric":
            values = df[col].cast(pl.Float64).to_numpy()
            values = values[~np.isnan(values)]
            info["numeric"] = _numeric_stats(stats_row, col, values)
            info["histogram"] = _numeric_histogram(
                values, info["numeric"]["min"], info["numeric"]["max"]
            )
        elif kind == "datetime":
            series = df[col]
            info["datetime"] = {"min": str(series.min()), "max": str(series.max())}
            if dtype != pl.Time:
                epoch = series.cast(pl.Datetime("us")).dt.epoch("s").cast(pl.Float64).to_numpy()
                epoch = epoch[~np.isnan(epoch)]
                lo, hi = (
                    _num(np.nanmin(epoch)) if len(epoch) else None,
                    _num(np.nanmax(epoch)) if len(epoch) else None,
                )
                info["histogram"] = _numeric_histogram(epoch, lo, hi)
        else:
            counts = value_counts.get(col)
            if counts is None:
                counts = (
                    df.select(pl.col(col).cast(pl.String).alias("v"))
                    .drop_nulls()
                    .group_by("v")
                    .agg(pl.len().alias("n"))
                )
            top = counts.sort(["n", "v"], descending=[True, False]).head(TOP_VALUES)
            info["top_values"] = [{"value": v, "count": int(n)} for v, n in top.iter_rows()]
            info["histogram"] = {
                "kind": "categorical",
                "values": top["v"].to_list(),
                "counts": top["n"].to_list(),
            }
            if col in textual:
                info["text"] = _text_stats(counts)
        out.append(info)
    return out


def profile_column(df: pl.DataFrame, col: str) -> dict[str, Any]:
    """Statistics of one column (see `profile_columns`)."""
    return profile_columns(df.select(col))[0]


def duplicate_rows(df: pl.DataFrame, examples: int = 5) -> dict[str, Any]:
    """How many rows repeat an earlier row, and the most repeated ones."""
    if df.height == 0 or df.width == 0:
        return {"count": 0, "fraction": 0.0, "examples": []}
    repeated = df.filter(df.is_duplicated())
    count = repeated.height - repeated.n_unique() if repeated.height else 0
    top = (
        repeated.group_by(df.columns)
        .len(name="__copies")
        .sort("__copies", descending=True)
        .head(examples)
        if repeated.height
        else repeated
    )
    return {
        "count": count,
        "fraction": count / df.height,
        "examples": [
            {"copies": int(r.pop("__copies")), "row": {k: _jsonable(v) for k, v in r.items()}}
            for r in top.iter_rows(named=True)
        ],
    }


def _jsonable(v: Any) -> Any:
    if isinstance(v, float):
        return _num(v)
    if v is None or isinstance(v, bool | int | str):
        return v
    return str(v)
