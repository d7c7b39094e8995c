"""The Data Quality and Insights report as a dict (the JSON half of the report).

Exact statistics over every row (summary, columns, duplicates); models over a
seeded sample, since a model's verdict settles long before a million rows:
leakage and correlations on up to 100,000 rows, the quick model and the
anomaly detector on up to 50,000. The report says which numbers are sampled.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import polars as pl

import sageforge
from sageforge.core.errors import ValidationError
from sageforge.data.insights._model import anomalies, correlations, quick_model
from sageforge.data.insights._profile import duplicate_rows, profile_columns, summary
from sageforge.data.insights._target import leakage, problem_type, target_analysis
from sageforge.data.insights._warnings import report_warnings

LEAKAGE_ROWS = 100_000
MODEL_ROWS = 50_000
ANOMALY_ROWS = 20_000


def _sample(df: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    return df if df.height <= n else df.sample(n, seed=seed)


def _import_models() -> None:
    with contextlib.suppress(ImportError):
        import sklearn.ensemble  # noqa: F401
        import xgboost  # noqa: F401


def _normalised_target(series: pl.Series) -> tuple[pl.Series, list[str]]:
    """Text labels trimmed and lower-cased, and the raw spellings that merged (if any)."""
    if series.dtype != pl.String:
        return series, []
    folded = series.str.strip_chars().str.to_lowercase()
    if folded.drop_nulls().n_unique() == series.drop_nulls().n_unique():
        return series, []
    raw = series.drop_nulls().unique().sort().to_list()
    variants = [v for v in raw if v != v.strip().lower()]
    return folded, variants[:10]


def build_report(
    df: pl.DataFrame,
    *,
    target: str | None = None,
    problem: str | None = None,
    title: str | None = None,
    source: str | None = None,
    rows_total: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Everything the report shows, JSON-able; see the module docstring."""
    if target is not None and target not in df.columns:
        raise ValidationError(
            f"no column {target!r}; columns are {', '.join(df.columns[:30])}", field="target"
        )
    if problem is not None and problem not in ("binary", "multiclass", "regression"):
        raise ValidationError("must be binary, multiclass or regression", field="problem_type")
    started = time.perf_counter()
    timings: dict[str, float] = {}
    # XGBoost and scikit-learn take seconds to import: do it while Polars profiles.
    warm = threading.Thread(target=_import_models, daemon=True)
    warm.start()

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - t0, 3)
        return now

    t = time.perf_counter()
    columns = profile_columns(df)
    t = lap("columns", t)
    dups = duplicate_rows(df)
    t = lap("duplicates", t)
    kinds = {c["name"]: c["kind"] for c in columns}
    report: dict[str, Any] = {
        "title": title or "Data Quality and Insights",
        "source": source,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sageforge_version": sageforge.__version__,
        "rows_total": rows_total if rows_total is not None else df.height,
        "summary": summary(df, kinds, dups["count"]),
        "columns": columns,
        "duplicates": dups,
        "target": None,
        "leakage": [],
        "quick_model": None,
    }
    features = [c for c in columns if c["name"] != target]
    sample = _sample(df, LEAKAGE_ROWS, seed)
    report["correlations"] = correlations(sample, features)
    t = lap("correlations", t)
    if target is not None:
        labels, variants = _normalised_target(df[target])
        if variants:  # ' Yes' and 'yes' are one class to anyone reading the report
            df = df.with_columns(labels)
            sample = _sample(df, LEAKAGE_ROWS, seed)  # the same seeded rows, labels merged
        kind = problem or problem_type(df[target])
        report["target"] = target_analysis(df[target], kind) | {"label_variants": variants}
        report["leakage"] = leakage(sample, target, kind, [c["name"] for c in features], seed)
        t = lap("leakage", t)
        report["quick_model"] = quick_model(
            _sample(df, MODEL_ROWS, seed), target, kind, columns, seed
        )
        t = lap("quick_model", t)
    anomaly_rows = _sample(df, ANOMALY_ROWS, seed)
    report["anomalies"] = anomalies(anomaly_rows, features, seed=seed)
    lap("anomalies", t)
    report["sampling"] = {
        "leakage_and_correlations_rows": sample.height,
        "quick_model_rows": min(df.height, MODEL_ROWS),
        "anomaly_rows": anomaly_rows.height,
    }
    report["warnings"] = report_warnings(report)
    report["timings_s"] = timings | {"total": round(time.perf_counter() - started, 3)}
    return report
