"""Models over a sample: the quick model, anomalous rows, and correlations.

The quick model tells a user early whether the data can predict the target at
all, and which features carry it (often the leaking ones). It is XGBoost —
what the built-in trains — on the features as they are: numbers as numbers,
categories as codes of their 50 most frequent values, free text left out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from sageforge.data.insights._target import encode_target

TOP_CATEGORIES = 50


def feature_matrix(df: pl.DataFrame, columns: list[dict[str, Any]]) -> tuple[np.ndarray, list[str]]:
    """Float features (NaN for missing) from the profiled columns a model can use."""
    exprs, names = [], []
    for info in columns:
        col, kind = info["name"], info["kind"]
        if kind in ("numeric", "boolean"):
            expr = pl.col(col).cast(pl.Float64)
        elif kind == "datetime":
            expr = pl.col(col).cast(pl.Datetime("us")).dt.epoch("s").cast(pl.Float64)
        elif kind == "categorical":
            top = [t["value"] for t in info.get("top_values", [])][:TOP_CATEGORIES]
            expr = (
                pl.col(col)
                .cast(pl.String)
                .replace_strict(
                    top, list(range(len(top))), default=len(top), return_dtype=pl.Float64
                )
            )
            expr = pl.when(pl.col(col).is_null()).then(None).otherwise(expr)
        else:
            continue
        exprs.append(expr.alias(col))
        names.append(col)
    if not exprs:
        return np.empty((df.height, 0)), []
    x = df.select(exprs).to_numpy().astype(np.float64)
    return x, names


def quick_model(
    df: pl.DataFrame, target: str, kind: str, columns: list[dict[str, Any]], seed: int = 0
) -> dict[str, Any] | None:
    """Train XGBoost on 80% of the sample, score it on the other 20%."""
    import xgboost as xgb

    from sageforge.train.metrics import accuracy, f1, r2, roc_auc

    y, labels = encode_target(df[target], kind)
    features = [c for c in columns if c["name"] != target]
    x, names = feature_matrix(df, features)
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    if len(y) < 20 or not names or (kind != "regression" and len(np.unique(y)) < 2):
        return None
    order = np.random.default_rng(seed).permutation(len(y))
    cut = int(0.8 * len(y))
    tr, te = order[:cut], order[cut:]
    params: dict[str, Any] = {"max_depth": 6, "eta": 0.1, "nthread": 2, "tree_method": "hist"}
    if kind == "binary":
        params |= {"objective": "binary:logistic"}
    elif kind == "multiclass":
        params |= {"objective": "multi:softprob", "num_class": len(labels)}
    else:
        params |= {"objective": "reg:squarederror"}
    train = xgb.DMatrix(x[tr], label=y[tr], feature_names=_safe(names))
    booster = xgb.train(params, train, num_boost_round=60)
    pred = booster.predict(xgb.DMatrix(x[te], feature_names=_safe(names)))
    result: dict[str, Any] = {"model": "xgboost", "train_rows": len(tr), "test_rows": len(te)}
    if kind == "binary":
        hard = (pred >= 0.5).astype(float)
        result |= {
            "metric": "auc",
            "score": _safe_score(lambda t, p: roc_auc(t, p, pos_label=1.0), y[te], pred),
            "accuracy": float(accuracy(y[te], hard)),
            "f1": float(f1(y[te], hard, pos_label=1.0, zero_division=0)),
            "baseline_accuracy": float(max(y[te].mean(), 1 - y[te].mean())),
        }
    elif kind == "multiclass":
        hard = pred.argmax(axis=1).astype(float)
        majority = np.bincount(y[tr].astype(int)).argmax()
        result |= {
            "metric": "macro_f1",
            "score": _safe_score(
                lambda t, p: f1(t, p, average="macro", zero_division=0), y[te], hard
            ),
            "accuracy": float(accuracy(y[te], hard)),
            "baseline_accuracy": float((y[te] == majority).mean()),
        }
    else:
        result |= {
            "metric": "r2",
            "score": _safe_score(r2, y[te], pred),
            "rmse": float(np.sqrt(np.mean((y[te] - pred) ** 2))),
        }
    gains = {k: float(v) for k, v in booster.get_score(importance_type="total_gain").items()}  # type: ignore[arg-type]
    total = sum(gains.values()) or 1.0
    safe = dict(zip(_safe(names), names, strict=True))
    result["feature_importances"] = sorted(
        ({"feature": safe[k], "importance": v / total} for k, v in gains.items()),
        key=lambda r: r["importance"],
        reverse=True,
    )
    return result


def _safe(names: list[str]) -> list[str]:
    # XGBoost refuses feature names with [ ] < ; keep them unique and readable.
    return [
        f"f{i}_" + "".join(ch if ch not in "[]<" else "_" for ch in n) for i, n in enumerate(names)
    ]


def _safe_score(fn: Any, y: np.ndarray, p: np.ndarray) -> float | None:
    from sageforge.core.errors import ValidationError

    try:
        return float(fn(y, p))
    except (ValidationError, ValueError):  # a single class among the held-out rows
        return None


def anomalies(
    df: pl.DataFrame, columns: list[dict[str, Any]], top: int = 10, seed: int = 0
) -> dict[str, Any]:
    """The rows an Isolation Forest finds most unusual, with their scores."""
    from sklearn.ensemble import IsolationForest

    x, names = feature_matrix(df, columns)
    if len(x) < 20 or not names:
        return {"method": "isolation_forest", "count": 0, "rows": []}
    medians = np.nanmedian(np.where(np.isnan(x), np.nan, x), axis=0)
    x = np.where(np.isnan(x), np.nan_to_num(medians), x)
    forest = IsolationForest(n_estimators=100, max_samples=min(256, len(x)), random_state=seed)
    forest.fit(x)
    scores = -forest.score_samples(x)  # higher = more anomalous
    flagged = int((forest.predict(x) == -1).sum())
    worst = np.argsort(-scores)[:top]
    rows = df[worst.tolist()].to_dicts()
    return {
        "method": "isolation_forest",
        "features": names,
        "count": flagged,
        "fraction": flagged / len(x),
        "rows": [
            {
                "row": int(i),
                "score": float(scores[i]),
                "values": {k: _short(v) for k, v in r.items()},
            }
            for i, r in zip(worst.tolist(), rows, strict=True)
        ],
    }


def _short(v: Any) -> Any:
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, str) and len(v) > 60:
        return v[:57] + "…"
    return v if v is None or isinstance(v, bool | int | float | str) else str(v)


def correlations(
    df: pl.DataFrame, columns: list[dict[str, Any]], limit: int = 40
) -> dict[str, Any]:
    """Pearson and Spearman correlations between numeric columns (NaN-free pairs)."""
    numeric = [
        c["name"] for c in columns if c["kind"] in ("numeric", "boolean") and c["distinct"] > 1
    ]
    numeric = numeric[:limit]
    if len(numeric) < 2:
        return {"columns": numeric, "pearson": [], "spearman": [], "top_pairs": []}
    x = df.select(pl.col(numeric).cast(pl.Float64).fill_nan(None)).to_numpy()
    means = np.nanmean(x, axis=0)
    filled = np.where(np.isnan(x), means, x)
    pearson = np.corrcoef(filled, rowvar=False)
    ranks = np.argsort(np.argsort(filled, axis=0), axis=0).astype(float)
    spearman = np.corrcoef(ranks, rowvar=False)
    pairs = []
    for i in range(len(numeric)):
        for j in range(i + 1, len(numeric)):
            pairs.append(
                {"a": numeric[i], "b": numeric[j], "pearson": float(np.nan_to_num(pearson[i, j]))}
            )
    pairs.sort(key=lambda p: abs(p["pearson"]), reverse=True)
    return {
        "columns": numeric,
        "pearson": np.round(np.nan_to_num(pearson), 4).tolist(),
        "spearman": np.round(np.nan_to_num(spearman), 4).tolist(),
        "top_pairs": pairs[:10],
    }
