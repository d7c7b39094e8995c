"""The insights report: statistics, leakage, the quick model, warnings, the HTML page."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from sageforge.core.errors import ValidationError
from sageforge.data.insights import build_report, problem_type, render_html


def untidy(n: int = 2000, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = (x + rng.normal(0, 1, n) > 0).astype(int)
    income = rng.lognormal(10, 0.5, n)
    income[:10] = 1e9  # data-entry outliers
    df = pl.DataFrame(
        {
            "id": [f"U{i:05d}" for i in range(n)],
            "x": x,
            "income": income,
            "plan": rng.choice([" gold", "silver", "Silver", "bronze"], n).tolist(),
            "amount_text": [str(round(v, 2)) for v in rng.normal(50, 5, n)],
            "leak": y * 10.0 + rng.normal(0, 0.1, n),
            "age": [None if i % 10 == 0 else int(v) for i, v in enumerate(rng.integers(18, 80, n))],
            "target": np.where(y == 1, "yes", "no").tolist(),
        }
    )
    return pl.concat([df, df.head(30)])  # 30 duplicate rows


@pytest.fixture(scope="module")
def report() -> dict:
    return build_report(untidy(), target="target", title="untidy")


def test_summary_and_columns(report: dict) -> None:
    s = report["summary"]
    assert s["rows"] == 2030 and s["columns"] == 8 and s["duplicate_rows"] == 30
    cols = {c["name"]: c for c in report["columns"]}
    assert cols["age"]["missing"] == 203 and cols["age"]["kind"] == "numeric"
    assert cols["income"]["numeric"]["outliers"] >= 10 and cols["income"]["numeric"]["max"] == 1e9
    assert cols["plan"]["kind"] == "categorical" and cols["plan"]["text"]["whitespace_padded"] > 0
    assert cols["plan"]["text"]["case_variants"] == 1
    assert (
        len(cols["x"]["histogram"]["counts"]) == 30
        and sum(cols["x"]["histogram"]["counts"]) == 2030
    )
    assert report["target"]["problem_type"] == "binary"
    assert json.dumps(report)  # JSON-able


def test_leakage_quick_model_and_warnings(report: dict) -> None:
    leak = report["leakage"][0]
    assert leak["column"] == "leak" and leak["verdict"] == "leak" and leak["score"] > 0.99
    scores = {r["column"]: r["score"] for r in report["leakage"]}
    assert scores["id"] < 0.6  # an identifier is unseen out of fold: no better than chance
    assert 0.6 < scores["x"] < 0.9
    model = report["quick_model"]
    assert model["metric"] == "auc" and model["score"] > 0.95
    assert model["feature_importances"][0]["feature"] == "leak"
    messages = [w["message"] for w in report["warnings"]]
    assert report["warnings"][0]["kind"] == "leakage"
    assert messages[0].startswith("column leak is 100% predictive of the target on its own")
    assert "likely target leakage" in messages[0]
    kinds = {w["kind"] for w in report["warnings"]}
    assert {
        "duplicates",
        "identifier",
        "whitespace",
        "case",
        "outliers",
        "missing",
        "numbers_as_text",
    } <= kinds
    assert report["anomalies"]["rows"] and report["anomalies"]["count"] > 0


def test_html_page(report: dict) -> None:
    html = render_html(report)
    assert html.startswith("<!DOCTYPE html>") and html.count("Plotly.Plots.resize") == 1
    for chart in (
        "target-chart",
        "leakage-chart",
        "importance-chart",
        "correlation-chart",
        "hist-0",
    ):
        assert f'id="{chart}"' in html
    assert (
        "likely target leakage" in html and ".plotly-graph-div { width:100% !important; }" in html
    )


def test_other_targets_and_edge_cases() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=500)
    reg = pl.DataFrame(
        {"x": x, "noise": rng.normal(size=500), "y": 3 * x + rng.normal(0, 0.1, 500)}
    )
    r = build_report(reg, target="y")
    assert r["target"]["problem_type"] == "regression"
    assert r["leakage"][0]["column"] == "x" and r["leakage"][0]["metric"] == "r2"
    assert r["quick_model"]["metric"] == "r2" and r["quick_model"]["score"] > 0.9
    multi = reg.with_columns(y=(pl.col("x") * 2).round(0).clip(-2, 2).cast(pl.Int64))
    r = build_report(multi, target="y")
    assert r["target"]["problem_type"] == "multiclass" and r["leakage"][0]["column"] == "x"
    assert problem_type(pl.Series([" Yes", "no"])) == "binary"
    labels = build_report(
        pl.DataFrame({"t": ["yes", " Yes", "no", "No"] * 10, "v": list(range(40))}), target="t"
    )
    assert labels["target"]["problem_type"] == "binary" and labels["target"]["label_variants"] == [
        " Yes",
        "No",
    ]
    empty = build_report(pl.DataFrame(schema={"a": pl.Int64, "b": pl.String}))
    assert empty["summary"]["rows"] == 0 and render_html(empty)
    with pytest.raises(ValidationError, match="no column 'nope'"):
        build_report(reg, target="nope")
