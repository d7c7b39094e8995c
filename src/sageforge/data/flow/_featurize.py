"""Featurize dates and times (year, month, weekday …) and text (length, word count …)."""

from __future__ import annotations

from typing import Annotated, Literal

import polars as pl
from pydantic import Field

from sageforge.data.flow._base import (
    Frame,
    State,
    StepError,
    StepParams,
    Transform,
    dtype_name,
    is_string,
    is_temporal,
    register,
    require_columns,
    require_new_name,
    schema_of,
)

DateFeature = Literal[
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "weekday",
    "day_of_year",
    "week",
    "quarter",
    "is_weekend",
    "epoch_seconds",
]
TextFeature = Literal[
    "length", "word_count", "digit_count", "upper_count", "symbol_count", "space_count"
]


def _date_feature(d: pl.Expr, feature: str) -> pl.Expr:
    match feature:
        case "year":
            return d.dt.year().cast(pl.Int32)
        case "month":
            return d.dt.month().cast(pl.Int32)
        case "day":
            return d.dt.day().cast(pl.Int32)
        case "hour":
            return d.dt.hour().cast(pl.Int32)
        case "minute":
            return d.dt.minute().cast(pl.Int32)
        case "second":
            return d.dt.second().cast(pl.Int32)
        case "weekday":  # ISO: Monday 1 … Sunday 7
            return d.dt.weekday().cast(pl.Int32)
        case "day_of_year":
            return d.dt.ordinal_day().cast(pl.Int32)
        case "week":
            return d.dt.week().cast(pl.Int32)
        case "quarter":
            return d.dt.quarter().cast(pl.Int32)
        case "is_weekend":
            return (d.dt.weekday() >= 6).cast(pl.Int8)
        case _:
            return d.dt.epoch("s")


@register
class FeaturizeDatetime(Transform):
    """New columns `<column>_<feature>` from a date/time column (text is parsed, with
    `format` if given; unparseable text gives nulls)."""

    type = "featurize_datetime"

    class Params(StepParams):
        column: str
        features: Annotated[list[DateFeature], Field(min_length=1)] = [
            "year",
            "month",
            "day",
            "weekday",
        ]
        format: str | None = None
        drop_original: bool = False

    params: Params

    def columns(self) -> list[str]:
        return [self.params.column]

    def check(self, schema: pl.Schema) -> None:
        col = self.params.column
        require_columns(schema, [col], "column")
        if not (is_temporal(schema[col]) or is_string(schema[col])):
            raise StepError(f"column {col!r} is {dtype_name(schema[col])}, not a date or text")
        for f in self.params.features:
            require_new_name(schema, f"{col}_{f}", "features")

    def apply(self, frame: Frame, state: State) -> Frame:
        p = self.params
        dtype = schema_of(frame)[p.column]
        d = pl.col(p.column)
        if is_string(dtype):
            d = d.cast(pl.String).str.strip_chars().str.to_datetime(p.format, strict=False)
        out = frame.with_columns(_date_feature(d, f).alias(f"{p.column}_{f}") for f in p.features)
        return out.drop(p.column) if p.drop_original else out


def _text_feature(s: pl.Expr, feature: str) -> pl.Expr:
    match feature:
        case "length":
            return s.str.len_chars().cast(pl.Int64)
        case "word_count":
            return s.str.count_matches(r"\S+").cast(pl.Int64)
        case "digit_count":
            return s.str.count_matches(r"\d").cast(pl.Int64)
        case "upper_count":
            return s.str.count_matches(r"\p{Lu}").cast(pl.Int64)
        case "symbol_count":
            return s.str.count_matches(r"[^\p{L}\p{N}\s]").cast(pl.Int64)
        case _:
            return s.str.count_matches(r"\s").cast(pl.Int64)


@register
class FeaturizeText(Transform):
    """New columns `<column>_<feature>`: length, word, digit, capital, symbol and space counts."""

    type = "featurize_text"

    class Params(StepParams):
        column: str
        features: Annotated[list[TextFeature], Field(min_length=1)] = ["length", "word_count"]
        drop_original: bool = False

    params: Params

    def columns(self) -> list[str]:
        return [self.params.column]

    def check(self, schema: pl.Schema) -> None:
        col = self.params.column
        require_columns(schema, [col], "column")
        if not is_string(schema[col]):
            raise StepError(
                f"column {col!r} is {dtype_name(schema[col])}, not text", param="column"
            )
        for f in self.params.features:
            require_new_name(schema, f"{col}_{f}", "features")

    def apply(self, frame: Frame, state: State) -> Frame:
        p = self.params
        s = pl.col(p.column).cast(pl.String)
        out = frame.with_columns(_text_feature(s, f).alias(f"{p.column}_{f}") for f in p.features)
        return out.drop(p.column) if p.drop_original else out
