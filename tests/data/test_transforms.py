"""Every transform: fit/apply on small tables, with nulls, on empty tables, with unseen
categories, and one raw record through the fitted step gives the batch's values."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from sageforge.core.errors import ValidationError
from sageforge.data.flow import SPLIT_COLUMN, TRANSFORMS, apply_flow

from .conftest import assert_records_match_batch, one_step, run_step


@pytest.fixture
def df() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "age": [20, None, 40, 30, 1000, 35],
            "score": [0.5, 1.5, None, 2.5, float("nan"), 3.0],
            "city": [" Paris", "lyon ", None, "Paris", "nice", "lyon"],
            "plan": ["gold", "silver", "gold", None, "bronze", "gold"],
            "target": ["yes", "no", "yes", "no", "no", "yes"],
            "when": ["2024-01-06", "2024-02-29", None, "2023-12-31", "2024-07-14", "bad"],
        }
    )


# (type, params, expected output check) — one case per transform; the record test reuses them.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("drop_columns", {"columns": ["id", "when"]}),
    ("rename_columns", {"mapping": {"age": "years"}}),
    ("duplicate_column", {"column": "age", "new_column": "age_raw"}),
    ("cast", {"columns": {"age": "float", "id": "string"}}),
    ("move_column", {"column": "target", "position": "start"}),
    ("fill_missing", {"columns": ["age", "score"], "value": 0}),
    ("impute", {"columns": ["age", "score"], "strategy": "median"}),
    ("impute", {"columns": ["plan"], "strategy": "mode"}),
    ("missing_indicator", {"columns": ["age", "score"]}),
    ("format_string", {"columns": ["city"], "operation": "strip"}),
    ("format_string", {"columns": ["city"], "operation": "upper"}),
    ("format_string", {"columns": ["plan"], "operation": "pad_left", "width": 8, "fill_char": "*"}),
    ("format_string", {"columns": ["plan"], "operation": "prefix", "text": "p-"}),
    ("format_string", {"columns": ["city"], "operation": "remove_symbols"}),
    ("find_replace", {"columns": ["plan"], "find": "old", "replace": "OLD"}),
    ("find_replace", {"columns": ["city"], "find": r"^\s+|\s+$", "replace": "", "regex": True}),
    ("extract", {"column": "when", "pattern": r"^(\d{4})"}),
    ("map_values", {"column": "target", "mapping": {"yes": 1, "no": 0}}),
    ("handle_outliers", {"columns": ["age"], "method": "iqr", "action": "clip"}),
    ("handle_outliers", {"columns": ["score"], "method": "std", "n_std": 1.0}),
    ("handle_outliers", {"columns": ["age"], "method": "quantile", "upper_quantile": 0.8}),
    ("handle_outliers", {"columns": ["age"], "method": "minmax", "lower": 0, "upper": 100}),
    ("ordinal_encode", {"columns": ["plan", "city"]}),
    ("one_hot_encode", {"columns": ["plan"]}),
    ("target_encode", {"columns": ["plan"], "target": "id"}),
    ("scale", {"columns": ["age", "score"], "method": "standard"}),
    ("scale", {"columns": ["age"], "method": "robust"}),
    ("scale", {"columns": ["age"], "method": "minmax"}),
    ("scale", {"columns": ["score"], "method": "maxabs"}),
    ("log", {"columns": ["age"], "base": "10", "offset": 1}),
    ("bin", {"columns": ["age"], "method": "quantile", "n_bins": 3}),
    (
        "bin",
        {
            "columns": ["score"],
            "method": "equal_width",
            "n_bins": 2,
            "labels": "range",
            "suffix": "_bin",
        },
    ),
    ("bin", {"columns": ["age"], "method": "edges", "edges": [25, 35]}),
    (
        "featurize_datetime",
        {"column": "when", "features": ["year", "month", "weekday", "is_weekend"]},
    ),
    ("featurize_text", {"column": "city", "features": ["length", "word_count", "upper_count"]}),
    ("custom_sql", {"sql": "SELECT *, age * 2 AS age2 FROM df"}),
    ("custom_python", {"expression": "pl.col('age') + pl.col('id')", "output_column": "sum"}),
]


def test_every_transform_has_a_case() -> None:
    row_level = {"drop_duplicates", "sort", "shuffle", "filter", "drop_missing", "balance", "split"}
    covered = {t for t, _ in CASES} | row_level
    assert covered == set(TRANSFORMS), set(TRANSFORMS) - covered


@pytest.mark.parametrize(
    ("type_", "params"), CASES, ids=[f"{t}-{i}" for i, (t, _) in enumerate(CASES)]
)
def test_one_record_gives_the_batch_values(
    df: pl.DataFrame, type_: str, params: dict[str, Any]
) -> None:
    fitted, _ = run_step(df, type_, **params)
    assert_records_match_batch(fitted, df)


@pytest.mark.parametrize(
    ("type_", "params"), CASES, ids=[f"{t}-{i}" for i, (t, _) in enumerate(CASES)]
)
def test_empty_table(df: pl.DataFrame, type_: str, params: dict[str, Any]) -> None:
    fitted, out = run_step(df.clear(), type_, **params)
    assert out.height == 0
    # A step fitted on no rows still applies to new rows without failing.
    assert apply_flow(fitted, df).height == df.height


def test_columns_rows_basics(df: pl.DataFrame) -> None:
    assert run_step(df, "drop_columns", columns=["id"])[1].columns[0] == "age"
    assert "years" in run_step(df, "rename_columns", mapping={"age": "years"})[1].columns
    moved = run_step(df, "move_column", column="target", position="after", other="id")[1]
    assert moved.columns[:2] == ["id", "target"]
    moved = run_step(df, "move_column", column="id", position="index", index=2)[1]
    assert moved.columns.index("id") == 2
    cast = run_step(df, "cast", columns={"when": "date"})[1]
    assert cast["when"].dtype == pl.Date and cast["when"].null_count() == 2  # None and "bad"
    with pytest.raises(ValidationError, match="step 0 \\(cast\\)"):
        run_step(df, "cast", columns={"when": "date"}, on_error="fail")
    boolean = run_step(df, "cast", columns={"target": "bool"})[1]
    assert boolean["target"].to_list() == [True, False, True, False, False, True]


def test_row_steps(df: pl.DataFrame) -> None:
    doubled = pl.concat([df, df.head(2)])
    assert run_step(doubled, "drop_duplicates")[1].height == 6
    assert run_step(doubled, "drop_duplicates", columns=["plan"], keep="first")[1].height == 4
    assert run_step(df, "sort", columns=["age"])[1]["age"].to_list()[:2] == [20, 30]
    shuffled = run_step(df, "shuffle", seed=1)[1]
    assert sorted(shuffled["id"].to_list()) == [1, 2, 3, 4, 5, 6]
    assert shuffled["id"].to_list() == run_step(df, "shuffle", seed=1)[1]["id"].to_list()
    kept = run_step(df, "filter", expression="age >= 30 AND plan = 'gold'")[1]
    assert kept["id"].to_list() == [3, 6]
    assert run_step(df, "drop_missing")[1]["id"].to_list() == [1, 6]  # NaN counts as missing
    assert run_step(df, "drop_missing", columns=["score"])[1]["id"].to_list() == [1, 2, 4, 6]


def test_missing_values(df: pl.DataFrame) -> None:
    fitted, out = run_step(df, "impute", columns=["age", "score"], strategy="median")
    assert fitted.steps[0].state == {"values": {"age": 35.0, "score": 2.0}}
    assert out["age"].to_list() == [20, 35, 40, 30, 1000, 35]  # integral median keeps ints
    assert out["score"].null_count() == 0 and not out["score"].is_nan().any()
    mean = run_step(df, "impute", columns=["age"], strategy="mean")[1]
    assert mean["age"][1] == pytest.approx(225.0)
    mode = run_step(df, "impute", columns=["plan"], strategy="mode")[1]
    assert mode["plan"][3] == "gold"
    ind = run_step(df, "missing_indicator", columns=["score"])[1]
    assert ind["score_missing"].to_list() == [0, 0, 1, 0, 1, 0]
    filled = run_step(df, "fill_missing", columns=["plan"], value="none")[1]
    assert filled["plan"][3] == "none"
    with pytest.raises(ValidationError, match="not numeric"):
        run_step(df, "impute", columns=["plan"], strategy="median")
    with pytest.raises(ValidationError, match="numeric but the fill value"):
        run_step(df, "fill_missing", columns=["age"], value="x")


def test_strings_and_search(df: pl.DataFrame) -> None:
    stripped = run_step(df, "format_string", columns=["city"], operation="strip")[1]
    assert stripped["city"].to_list() == ["Paris", "lyon", None, "Paris", "nice", "lyon"]
    padded = run_step(
        df, "format_string", columns=["plan"], operation="pad_right", width=6, fill_char="."
    )[1]
    assert padded["plan"][0] == "gold.."
    mapped = run_step(df, "map_values", column="target", mapping={"yes": 1, "no": 0})[1]
    assert mapped["target"].dtype == pl.Int64 and mapped["target"].to_list() == [1, 0, 1, 0, 0, 1]
    kept = run_step(df, "map_values", column="plan", mapping={"gold": "G"})[1]
    assert kept["plan"].to_list() == ["G", "silver", "G", None, "bronze", "G"]
    with pytest.raises(ValidationError, match="unmapped"):
        run_step(df, "map_values", column="plan", mapping={"gold": 1}, unmapped="keep")
    with pytest.raises(ValidationError, match="map_values"):
        run_step(df, "map_values", column="plan", mapping={"gold": 1}, unmapped="error")
    extracted = run_step(df, "extract", column="when", pattern=r"-(\d\d)-", new_column="mm")[1]
    assert extracted["mm"].to_list() == ["01", "02", None, "12", "07", None]
    with pytest.raises(ValidationError, match="regular expression"):
        one_step("find_replace", columns=["city"], find="(", regex=True)


def test_outliers(df: pl.DataFrame) -> None:
    fitted, clipped = run_step(df, "handle_outliers", columns=["age"], method="iqr")
    lo, hi = fitted.steps[0].state["bounds"]["age"]
    assert lo < 20 and 40 < hi < 1000
    assert clipped["age"].dtype == pl.Int64 and clipped["age"].max() <= hi
    removed = run_step(df, "handle_outliers", columns=["age"], method="iqr", action="remove")[1]
    assert 5 not in removed["id"].to_list() and 2 in removed["id"].to_list()  # nulls stay
    with pytest.raises(ValidationError, match="lower_quantile"):
        one_step(
            "handle_outliers",
            columns=["age"],
            method="quantile",
            lower_quantile=0.9,
            upper_quantile=0.1,
        )


def test_encoders_with_unseen_and_infrequent_categories(df: pl.DataFrame) -> None:
    new = pl.DataFrame({"plan": ["gold", "platinum", None]}, schema={"plan": pl.String})
    fitted, out = run_step(df.select("plan"), "ordinal_encode", columns=["plan"])
    assert fitted.steps[0].state["columns"]["plan"]["categories"] == ["bronze", "gold", "silver"]
    assert out["plan"].to_list() == [1, 2, 1, None, 0, 1]
    assert apply_flow(fitted, new)["plan"].to_list() == [1, None, None]
    fitted, _ = run_step(df.select("plan"), "ordinal_encode", columns=["plan"], unknown="value")
    assert apply_flow(fitted, new)["plan"].to_list() == [1, -1, None]
    fitted, _ = run_step(df.select("plan"), "ordinal_encode", columns=["plan"], unknown="error")
    with pytest.raises(ValidationError, match="ordinal_encode"):
        apply_flow(fitted, new)
    fitted, out = run_step(df.select("plan"), "ordinal_encode", columns=["plan"], min_frequency=2)
    assert fitted.steps[0].state["columns"]["plan"] == {"categories": ["gold"], "infrequent": True}
    assert apply_flow(fitted, new)["plan"].to_list() == [0, 1, None]  # unseen -> infrequent

    fitted, out = run_step(df.select("plan"), "one_hot_encode", columns=["plan"])
    assert out.columns == ["plan_bronze", "plan_gold", "plan_silver"]
    assert out.row(3) == (0, 0, 0)  # missing: all zeros
    assert apply_flow(fitted, new).row(1) == (0, 0, 0)  # unseen: all zeros
    fitted, _ = run_step(df.select("plan"), "one_hot_encode", columns=["plan"], max_categories=1)
    assert apply_flow(fitted, new).columns == ["plan_gold", "plan_infrequent"]
    assert apply_flow(fitted, new).rows() == [(1, 0), (0, 1), (0, 0)]
    fitted, _ = run_step(df.select("plan"), "one_hot_encode", columns=["plan"], unknown="error")
    with pytest.raises(ValidationError, match="one_hot_encode"):
        apply_flow(fitted, new)

    fitted, out = run_step(
        df.select("plan", "id"), "target_encode", columns=["plan"], target="id", smoothing=0
    )
    assert out["plan"].to_list()[:2] == [pytest.approx(10 / 3), 2.0]
    assert apply_flow(fitted, new.with_columns(id=pl.lit(0)))["plan"][1] == pytest.approx(3.5)
    with pytest.raises(ValidationError, match="must be numeric"):
        run_step(df, "target_encode", columns=["plan"], target="target")


def test_numeric(df: pl.DataFrame) -> None:
    out = run_step(df, "scale", columns=["score"], method="standard")[1]
    assert out["score"].drop_nulls().drop_nans().mean() == pytest.approx(0.0, abs=1e-12)
    out = run_step(df, "scale", columns=["age"], method="minmax")[1]
    assert out["age"].min() == 0.0 and out["age"].max() == 1.0
    const = run_step(pl.DataFrame({"x": [3.0, 3.0]}), "scale", columns=["x"])[1]
    assert const["x"].to_list() == [0.0, 0.0]  # no spread: scale by 1, not NaN
    logged = run_step(
        pl.DataFrame({"x": [9.0, 0.0, -5.0]}), "log", columns=["x"], base="10", offset=1
    )[1]
    assert logged["x"].to_list() == [pytest.approx(1.0), 0.0, None]
    binned = run_step(df, "bin", columns=["age"], method="edges", edges=[25, 35])[1]
    assert binned["age"].to_list() == [0, None, 2, 1, 2, 2]
    ranged = run_step(df, "bin", columns=["age"], method="edges", edges=[25], labels="range")[1]
    assert ranged["age"][0] == "[-inf, 25)"


def test_featurize(df: pl.DataFrame) -> None:
    out = run_step(
        df, "featurize_datetime", column="when", features=["year", "weekday", "is_weekend"]
    )[1]
    assert out["when_year"].to_list() == [2024, 2024, None, 2023, 2024, None]
    assert out["when_is_weekend"][0] == 1  # 2024-01-06 was a Saturday
    text = run_step(df, "featurize_text", column="city", features=["length", "word_count"])[1]
    assert text["city_length"][0] == 6 and text["city_word_count"][0] == 1


def test_balance() -> None:
    df = pl.DataFrame({"x": [float(i) for i in range(12)], "y": [1] * 3 + [0] * 9})
    over = run_step(df, "balance", target="y", method="random_oversample")[1]
    assert over["y"].value_counts().sort("y")["count"].to_list() == [9, 9]
    under = run_step(df, "balance", target="y", method="random_undersample")[1]
    assert under["y"].value_counts().sort("y")["count"].to_list() == [3, 3]
    smote = run_step(df, "balance", target="y", method="smote", k_neighbors=2)[1]
    synthetic = smote.filter(pl.col("y") == 1)["x"]
    assert synthetic.len() == 9 and synthetic.min() >= 0 and synthetic.max() <= 2
    with pytest.raises(ValidationError, match="SMOTE needs numeric"):
        run_step(df.with_columns(s=pl.lit("a")), "balance", target="y", method="smote")


def test_split_methods() -> None:
    df = pl.DataFrame({"k": [i // 4 for i in range(100)], "y": [i % 5 == 0 for i in range(100)]})
    for method, extra in [
        ("randomized", {}),
        ("ordered", {}),
        ("stratified", {"stratify_column": "y"}),
    ]:
        out = run_step(df, "split", method=method, **extra)[1]
        assert out[SPLIT_COLUMN].value_counts().sort(SPLIT_COLUMN).rows() == [
            ("test", 10),
            ("train", 70),
            ("validation", 20),
        ]
    strat = run_step(df, "split", method="stratified", stratify_column="y")[1]
    assert strat.filter(pl.col(SPLIT_COLUMN) == "train")["y"].sum() == 14  # 70% of the 20 positives
    ordered = run_step(df, "split", method="ordered", fractions=[0.5, 0.5])[1]
    assert ordered[SPLIT_COLUMN].to_list() == ["train"] * 50 + ["test"] * 50
    keyed = run_step(df, "split", method="key", key_columns=["k"], fractions=[0.5, 0.5], seed=3)[1]
    assert keyed.group_by("k").agg(pl.col(SPLIT_COLUMN).n_unique())[SPLIT_COLUMN].max() == 1
    with pytest.raises(ValidationError, match="add up to 1"):
        one_step("split", fractions=[0.5, 0.2])
    with pytest.raises(ValidationError, match="stratify_column"):
        one_step("split", method="stratified")


def test_custom_code(df: pl.DataFrame) -> None:
    out = run_step(df, "custom_sql", sql="SELECT id, age FROM df WHERE age > 25")[1]
    assert out["id"].to_list() == [3, 4, 5, 6]
    with pytest.raises(ValidationError, match="SQL failed"):
        run_step(df, "custom_sql", sql="SELECT nope FROM df")
    with pytest.raises(ValidationError, match="SQL failed"):
        run_step(df, "custom_sql", sql="SELECT * FROM read_csv('/etc/passwd')")
    code = "def transform(df):\n    return df.filter(pl.col('id') > 4)\n"
    assert run_step(df, "custom_python", mode="function", code=code)[1]["id"].to_list() == [5, 6]
    with pytest.raises(ValidationError, match="syntax error"):
        one_step("custom_python", expression="pl.col(", output_column="x")
    with pytest.raises(ValidationError, match="must build a Polars expression"):
        run_step(df, "custom_python", expression="1 + 1", output_column="x")
