"""Helpers for flow tests: run one step, and compare the record path with the batch path."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest

from sageforge.data.flow import (
    HIDDEN_COLUMNS,
    FlowDocument,
    RecordPipeline,
    run_flow,
    transform,
)


def one_step(type_: str, **params: Any) -> FlowDocument:
    return FlowDocument.from_dict({"steps": [{"type": type_, "params": params}]})


def run_step(df: pl.DataFrame, type_: str, **params: Any) -> tuple[FlowDocument, pl.DataFrame]:
    """Fit a one-step flow on `df`; return it and the transformed rows."""
    return run_flow(one_step(type_, **params), df)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-12)
    return bool(a == b)


def assert_records_match_batch(fitted: FlowDocument, df: pl.DataFrame) -> None:
    """Every raw row through `apply_record` gives its row of the batch output."""
    rows = transform(fitted, df).collect()
    rows = rows.drop([c for c in rows.columns if c in HIDDEN_COLUMNS])
    pipeline = RecordPipeline(fitted)
    assert rows.height == df.height, "record check needs a flow that keeps every row"
    for raw, expected in zip(df.iter_rows(named=True), rows.iter_rows(named=True), strict=True):
        got = pipeline(raw)
        assert got is not None
        assert list(got) == list(expected)
        for key in expected:
            assert same(got[key], expected[key]), (key, got[key], expected[key], raw)
