"""Flow documents: save-time validation naming the step, fit on training rows only,
JSON round trips, the record path matching the batch path, export layouts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from sageforge.core.errors import ValidationError
from sageforge.data.flow import (
    SPLIT_COLUMN,
    FlowDocument,
    RecordPipeline,
    apply_flow,
    check_flow,
    preview,
    run_flow,
    split_frames,
    write_splits,
)

from .conftest import assert_records_match_batch


def raw_table(n: int = 400, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "tenure": [None if rng.random() < 0.1 else int(x) for x in rng.integers(1, 72, n)],
            "charges": rng.normal(60, 15, n).round(2).tolist(),
            "contract": rng.choice(["  monthly", "yearly ", "two-year"], n).tolist(),
            "internet": rng.choice(["fiber", "dsl", None], n).tolist(),
            "churn": rng.choice(["yes", "no"], n).tolist(),
        }
    )


TYPICAL = {
    "target": "churn",
    "steps": [
        {"type": "drop_columns", "params": {"columns": ["customer_id"]}},
        {"type": "format_string", "params": {"columns": ["contract"], "operation": "strip"}},
        {"type": "map_values", "params": {"column": "churn", "mapping": {"yes": 1, "no": 0}}},
        {"type": "impute", "params": {"columns": ["tenure"], "strategy": "median"}},
        {"type": "handle_outliers", "params": {"columns": ["charges"], "n_std": 2}},
        {"type": "ordinal_encode", "params": {"columns": ["contract"]}},
        {"type": "one_hot_encode", "params": {"columns": ["internet"]}},
        {"type": "scale", "params": {"columns": ["charges"]}},
        {"type": "move_column", "params": {"column": "churn"}},
        {"type": "split", "params": {"fractions": [0.7, 0.2, 0.1], "seed": 7}},
    ],
    "destinations": [{"url": "store://out", "format": "xgboost"}],
}


def test_a_typical_flow_runs_and_splits() -> None:
    df = raw_table()
    fitted, rows = run_flow(FlowDocument.from_dict(TYPICAL), df)
    parts = split_frames(fitted, rows)
    assert {k: v.height for k, v in parts.items()} == {"train": 280, "validation": 80, "test": 40}
    assert parts["train"].columns[0] == "churn"
    assert fitted.is_fitted and fitted.fitted is not None
    assert fitted.fitted["split_assigned_at"] == 0  # no row-changing step: assigned up front


def test_statistics_come_from_training_rows_only() -> None:
    df = pl.DataFrame({"x": [float(i) for i in range(100)]})
    doc = FlowDocument.from_dict(
        {
            "steps": [
                {"type": "impute", "params": {"columns": ["x"], "strategy": "mean"}},
                {"type": "split", "params": {"method": "ordered", "fractions": [0.5, 0.5]}},
            ]
        }
    )
    fitted, _ = run_flow(doc, df)
    assert fitted.steps[0].state == {"values": {"x": 24.5}}  # the mean of rows 0..49, not 49.5


def test_split_waits_for_row_changing_steps() -> None:
    df = pl.DataFrame({"x": [1.0, 1.0, 2.0, 3.0, None, 100.0] * 10, "k": list(range(60))})
    doc = FlowDocument.from_dict(
        {
            "steps": [
                {"type": "drop_duplicates", "params": {"columns": ["x"]}},
                {"type": "impute", "params": {"columns": ["x"]}},
                {"type": "split", "params": {"method": "ordered", "fractions": [0.6, 0.4]}},
            ]
        }
    )
    fitted, rows = run_flow(doc, df)
    assert fitted.fitted and fitted.fitted["split_assigned_at"] == 1  # after the duplicates went
    assert rows.height == 5 and rows[SPLIT_COLUMN].to_list() == ["train"] * 3 + ["test"] * 2
    assert fitted.steps[1].state == {
        "values": {"x": 2.0}
    }  # median of the 3 training rows (1, 2, 3)


def test_stateful_step_before_a_row_change_is_warned_about() -> None:
    df = raw_table()
    doc = FlowDocument.from_dict(
        {
            "steps": [
                {"type": "impute", "params": {"columns": ["tenure"]}},
                {"type": "drop_duplicates"},
                {"type": "split"},
            ]
        }
    )
    found = check_flow(doc, df.schema, df.head(50))
    assert any("step 0 (impute) learns from all rows" in w for w in found.warnings)


def test_bad_steps_are_refused_naming_the_step() -> None:
    df = raw_table()
    cases = [
        (
            {"type": "impute", "params": {"columns": ["tenur"]}},
            "steps[1].params.columns",
            "no column 'tenur'",
        ),
        (
            {"type": "impute", "params": {"columns": ["contract"]}},
            "steps[1].params.columns",
            "not numeric",
        ),
        (
            {"type": "impute", "params": {"columns": ["tenure"], "strategy": "avg"}},
            "steps[1].params.strategy",
            "step 1 (impute)",
        ),
        (
            {"type": "impute", "params": {"colums": ["tenure"]}},
            "steps[1].params.colums",
            "not a known parameter",
        ),
        ({"type": "imputer", "params": {}}, "steps[1].type", "unknown step type 'imputer'"),
        ({"type": "split", "params": {"fractions": [0.7, 0.2]}}, "steps[1].params", "add up to 1"),
        (
            {"type": "filter", "params": {"expression": "nope > 3"}},
            "steps[1].params.expression",
            "no column 'nope'",
        ),
    ]
    for step, field, words in cases:
        doc = {"steps": [{"type": "drop_columns", "params": {"columns": ["customer_id"]}}, step]}
        with pytest.raises(ValidationError) as err:
            check_flow(FlowDocument.from_dict(doc), df.schema, df.head(100))
        assert err.value.field == field, (step, err.value)
        assert words in err.value.message, (step, err.value.message)
    # A column dropped by an earlier step is missing for the later one.
    doc = {
        "steps": [
            {"type": "drop_columns", "params": {"columns": ["tenure"]}},
            {"type": "impute", "params": {"columns": ["tenure"]}},
        ]
    }
    with pytest.raises(ValidationError, match="step 1 \\(impute\\): no column 'tenure'"):
        check_flow(FlowDocument.from_dict(doc), df.schema, df.head(10))
    with pytest.raises(ValidationError, match="at most one split"):
        FlowDocument.from_dict({"steps": [{"type": "split"}, {"type": "split"}]})
    with pytest.raises(ValidationError, match="target first"):
        FlowDocument.from_dict(
            {"steps": [], "destinations": [{"url": "store://x", "format": "xgboost"}]}
        )


def test_check_without_data_and_without_running_code() -> None:
    df = raw_table()
    doc = FlowDocument.from_dict(
        {
            "steps": [
                {"type": "one_hot_encode", "params": {"columns": ["internet"]}},
                {"type": "drop_columns", "params": {"columns": ["internet_fiber"]}},
                {
                    "type": "custom_python",
                    "params": {"expression": "pl.col('charges') * 2", "output_column": "c2"},
                },
                {"type": "drop_columns", "params": {"columns": ["c2"]}},
            ]
        }
    )
    found = check_flow(doc, df.schema)  # no rows: one-hot columns unknown, so only a warning
    assert any("could not be checked without data" in w for w in found.warnings)
    found = check_flow(doc, df.schema, df.head(50), allow_code=False)
    assert any("custom Python" in w for w in found.warnings)
    assert "c2" not in check_flow(doc, df.schema, df.head(50)).output_schema


def test_json_round_trip_and_refit() -> None:
    df = raw_table()
    fitted, rows = run_flow(FlowDocument.from_dict(TYPICAL), df)
    again = FlowDocument.from_json(fitted.to_json())
    assert again.to_dict() == fitted.to_dict()
    assert again.is_fitted
    assert apply_flow(again, df).equals(rows)
    assert not again.unfitted().is_fitted
    with pytest.raises(ValidationError, match="line 1, column"):
        FlowDocument.from_json('{"steps": [}')
    with pytest.raises(ValidationError) as err:
        FlowDocument.from_dict({"stepz": []})
    assert err.value.field == "stepz"


def test_fitted_flow_applied_to_one_raw_record_matches_the_batch() -> None:
    df = raw_table()
    fitted, _ = run_flow(FlowDocument.from_dict(TYPICAL), df)
    assert_records_match_batch(fitted, df)
    pipeline = RecordPipeline(fitted)
    record = df.row(3, named=True)
    record.pop("churn")  # an endpoint's request has no label
    out = pipeline(record)
    assert out is not None and "churn" not in out
    unseen = pipeline({"tenure": None, "charges": 1e6, "contract": "weekly", "internet": "cable"})
    assert unseen is not None
    assert unseen["contract"] is None and unseen["internet_fiber"] == 0
    assert unseen["tenure"] == fitted.steps[3].state["values"]["tenure"]  # imputed, not null
    with pytest.raises(ValidationError, match="unknown field"):
        pipeline({"tenur": 3})


def test_record_path_skips_row_steps_and_is_cheap() -> None:
    import time

    df = raw_table()
    doc = dict(
        TYPICAL,
        steps=[
            {"type": "drop_duplicates"},
            {"type": "filter", "params": {"expression": "charges > 0"}},
            *TYPICAL["steps"],
        ],
    )
    fitted, _ = run_flow(FlowDocument.from_dict(doc), df)
    pipeline = RecordPipeline(fitted)
    record = df.row(0, named=True)
    pipeline(record)
    started = time.perf_counter()
    for _ in range(50):
        pipeline(record)
    assert (time.perf_counter() - started) / 50 < 0.02  # well under 20 ms per record


def test_preview_after_a_step() -> None:
    df = raw_table()
    doc = FlowDocument.from_dict(TYPICAL)
    after_strip = preview(doc, df, step=1, n=5)
    assert after_strip.height == 5 and "customer_id" not in after_strip.columns
    assert after_strip["contract"].str.starts_with(" ").sum() == 0
    assert preview(doc, df, step=-1, n=3).columns == df.columns
    with pytest.raises(ValidationError, match="0 to 9"):
        preview(doc, df, step=10)


def test_write_splits_in_each_format(tmp_path: Path) -> None:
    df = raw_table()
    fitted, rows = run_flow(FlowDocument.from_dict(TYPICAL), df)
    parts = split_frames(fitted, rows)
    written = write_splits(fitted, parts, tmp_path / "xgb", "xgboost")
    assert written["train"] == {"rows": 280, "file": "train/part-00000.csv"}
    first = (tmp_path / "xgb/train/part-00000.csv").read_text().splitlines()[0]
    assert first.split(",")[0] in ("0", "1") and "churn" not in first  # label first, no header
    assert json.loads((tmp_path / "xgb/flow.json").read_text())["fitted"]["input_schema"]
    write_splits(fitted, parts, tmp_path / "pq", "parquet", splits=["train"])
    assert pl.read_parquet(tmp_path / "pq/train/part-00000.parquet").shape == parts["train"].shape
    assert not (tmp_path / "pq/test").exists()
    write_splits(fitted, parts, tmp_path / "csv", "csv")
    assert pl.read_csv(tmp_path / "csv/test/part-00000.csv").columns == parts["test"].columns
    raw = {"all": df}
    with pytest.raises(ValidationError, match="numbers only"):
        write_splits(FlowDocument(target="churn"), raw, tmp_path / "bad", "xgboost")
