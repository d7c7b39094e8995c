"""Handle missing values: fill with a constant, impute a statistic, add an indicator.

(Dropping rows with missing values is `drop_missing`, among the row steps.)
NaN in float columns counts as missing everywhere here, as it does for pandas
users: a NaN that survived imputation would surprise them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import polars as pl
from pydantic import Field

from sageforge.data.flow._base import (
    Frame,
    State,
    StepError,
    StepParams,
    Transform,
    as_float,
    is_float,
    is_numeric,
    is_string,
    json_value,
    register,
    require_columns,
    require_kind,
    require_new_name,
    schema_of,
)

Columns = Annotated[list[str], Field(min_length=1)]


def _missing_to_null(col: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(col).fill_nan(None) if is_float(dtype) else pl.col(col)


def _fill(col: str, dtype: pl.DataType, value: Any) -> pl.Expr:
    """Fill a column's missing values; the value keeps an integer column integral if it can."""
    if value is None:
        return pl.col(col)
    if dtype.is_integer() and isinstance(value, float) and value.is_integer():
        value = int(value)
    if is_string(dtype):
        return pl.col(col).cast(pl.String).fill_null(pl.lit(str(value))).alias(col)
    return _missing_to_null(col, dtype).fill_null(pl.lit(value)).alias(col)


@register
class FillMissing(Transform):
    """Replace missing values with a constant (`0`, `"unknown"` …)."""

    type = "fill_missing"

    class Params(StepParams):
        columns: Columns
        value: str | int | float | bool

    params: Params

    def columns(self) -> list[str]:
        return list(self.params.columns)

    def check(self, schema: pl.Schema) -> None:
        super().check(schema)
        value = self.params.value
        for col in self.params.columns:
            if is_numeric(schema[col]) and not isinstance(value, int | float):
                raise StepError(
                    f"column {col!r} is numeric but the fill value {value!r} is not", param="value"
                )

    def apply(self, frame: Frame, state: State) -> Frame:
        schema = schema_of(frame)
        return frame.with_columns(
            _fill(c, schema[c], self.params.value) for c in self.params.columns
        )


@register
class Impute(Transform):
    """Fill missing values with the training rows' mean, median or most frequent value."""

    type = "impute"
    stateful = True

    class Params(StepParams):
        columns: Columns
        strategy: Literal["mean", "median", "mode"] = "median"

    params: Params

    def columns(self) -> list[str]:
        return list(self.params.columns)

    def check(self, schema: pl.Schema) -> None:
        require_columns(schema, self.columns())
        if self.params.strategy != "mode":
            require_kind(schema, self.columns(), "numeric")

    def fit(self, frame: pl.LazyFrame) -> State:
        schema = schema_of(frame)
        strategy = self.params.strategy
        exprs = []
        for col in self.params.columns:
            if strategy == "mode":
                # Ties go to the smallest value, so refitting gives the same answer.
                values = _missing_to_null(col, schema[col]).drop_nulls()
                exprs.append(values.mode().sort().first().alias(col))
            else:
                stat = as_float(col, schema[col])
                exprs.append((stat.mean() if strategy == "mean" else stat.median()).alias(col))
        row = frame.select(exprs).collect().row(0, named=True)
        return {"values": {col: json_value(v) for col, v in row.items()}}

    def apply(self, frame: Frame, state: State) -> Frame:
        schema = schema_of(frame)
        values = state["values"]
        return frame.with_columns(_fill(c, schema[c], values.get(c)) for c in self.params.columns)


@register
class MissingIndicator(Transform):
    """Add `<column>_missing` (1 where the value is missing, else 0), before imputing it."""

    type = "missing_indicator"

    class Params(StepParams):
        columns: Columns
        suffix: Annotated[str, Field(min_length=1)] = "_missing"

    params: Params

    def columns(self) -> list[str]:
        return list(self.params.columns)

    def check(self, schema: pl.Schema) -> None:
        require_columns(schema, self.columns())
        for col in self.params.columns:
            require_new_name(schema, col + self.params.suffix, "suffix")

    def apply(self, frame: Frame, state: State) -> Frame:
        schema = schema_of(frame)
        return frame.with_columns(
            _missing_to_null(c, schema[c]).is_null().cast(pl.Int8).alias(c + self.params.suffix)
            for c in self.params.columns
        )
