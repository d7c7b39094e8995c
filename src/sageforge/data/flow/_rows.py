"""Manage rows: drop duplicates, sort, shuffle, filter by an expression, drop missing.

These are row-level steps: they remove or reorder rows, so an endpoint (one
record at a time) skips them, and a split placed after them assigns rows only
once they have run.
"""

from __future__ import annotations

from typing import Annotated, Literal

import polars as pl
from pydantic import Field, field_validator

from sageforge.data.flow._base import (
    Frame,
    State,
    StepError,
    StepParams,
    Transform,
    is_float,
    is_string,
    register,
    require_columns,
    schema_of,
    visible,
)


@register
class DropDuplicates(Transform):
    """Keep one row of each set of identical rows (or rows identical on `columns`)."""

    type = "drop_duplicates"
    changes_rows = True
    on_record = "skip"

    class Params(StepParams):
        columns: list[str] | None = None
        """Compare only these columns (default: every column)."""
        keep: Literal["first", "last", "none"] = "first"

    params: Params

    def columns(self) -> list[str]:
        return list(self.params.columns or [])

    def apply(self, frame: Frame, state: State) -> Frame:
        subset = self.params.columns or visible(schema_of(frame).names())
        return frame.unique(subset=subset, keep=self.params.keep, maintain_order=True)


@register
class Sort(Transform):
    """Order rows by columns (before an ordered split, e.g. by date)."""

    type = "sort"
    changes_rows = True
    on_record = "skip"

    class Params(StepParams):
        columns: Annotated[list[str], Field(min_length=1)]
        descending: bool = False
        nulls_last: bool = True

    params: Params

    def columns(self) -> list[str]:
        return list(self.params.columns)

    def apply(self, frame: Frame, state: State) -> Frame:
        p = self.params
        return frame.sort(
            p.columns, descending=p.descending, nulls_last=p.nulls_last, maintain_order=True
        )


@register
class Shuffle(Transform):
    """Put rows in a random (seeded, so repeatable) order."""

    type = "shuffle"
    changes_rows = True
    on_record = "skip"

    class Params(StepParams):
        seed: int = 42

    params: Params

    def apply(self, frame: Frame, state: State) -> Frame:
        key = "__shuffle_key"
        return (
            frame.with_columns(pl.int_range(pl.len()).shuffle(seed=self.params.seed).alias(key))
            .sort(key)
            .drop(key)
        )


def parse_expression(text: str) -> pl.Expr:
    """A SQL boolean expression (`age > 30 AND plan = 'gold'`) as a Polars expression."""
    try:
        return pl.sql_expr(text)
    except Exception as exc:
        raise StepError(
            f"cannot parse the expression {text!r}: {exc}", param="expression"
        ) from None


@register
class Filter(Transform):
    """Keep the rows where a SQL expression is true, e.g. `age >= 18 AND country = 'FR'`."""

    type = "filter"
    changes_rows = True
    on_record = "skip"

    class Params(StepParams):
        expression: Annotated[str, Field(min_length=1)]

        @field_validator("expression")
        @classmethod
        def _parses(cls, v: str) -> str:
            try:
                parse_expression(v)
            except StepError as exc:
                raise ValueError(str(exc)) from None
            return v

    params: Params

    def columns(self) -> list[str]:
        return [
            name
            for name in parse_expression(self.params.expression).meta.root_names()
            if name != "*"
        ]

    def check(self, schema: pl.Schema) -> None:
        require_columns(schema, self.columns(), "expression")

    def apply(self, frame: Frame, state: State) -> Frame:
        return frame.filter(parse_expression(self.params.expression))


@register
class DropMissing(Transform):
    """Drop rows with a missing value (in `columns`, or in any column).

    NaN counts as missing, and so does empty text with `empty_strings=True`.
    """

    type = "drop_missing"
    changes_rows = True
    on_record = "skip"

    class Params(StepParams):
        columns: list[str] | None = None
        empty_strings: bool = False

    params: Params

    def columns(self) -> list[str]:
        return list(self.params.columns or [])

    def apply(self, frame: Frame, state: State) -> Frame:
        schema = schema_of(frame)
        cols = self.params.columns or visible(schema.names())
        present = []
        for col in cols:
            ok = pl.col(col).is_not_null()
            if is_float(schema[col]):
                ok = ok & ~pl.col(col).is_nan()
            if self.params.empty_strings and is_string(schema[col]):
                ok = ok & (pl.col(col).cast(pl.String).str.strip_chars() != "")
            present.append(ok)
        return frame.filter(pl.all_horizontal(present)) if present else frame
