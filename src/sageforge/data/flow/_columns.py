"""Manage columns: drop, rename, duplicate, cast, move."""

from __future__ import annotations

from typing import Annotated, Literal

import polars as pl
from pydantic import Field, field_validator, model_validator

from sageforge.data.flow._base import (
    Frame,
    State,
    StepError,
    StepParams,
    Transform,
    dtype_from_name,
    dtype_name,
    is_string,
    register,
    require_columns,
    require_new_name,
    schema_of,
)

Columns = Annotated[list[str], Field(min_length=1)]


@register
class DropColumns(Transform):
    """Remove columns (identifiers, leaks, free text the model cannot use)."""

    type = "drop_columns"

    class Params(StepParams):
        columns: Columns

    params: Params

    def columns(self) -> list[str]:
        return list(self.params.columns)

    def apply(self, frame: Frame, state: State) -> Frame:
        return frame.drop(self.params.columns)


@register
class RenameColumns(Transform):
    """Give columns new names: `mapping` is {old: new}."""

    type = "rename_columns"

    class Params(StepParams):
        mapping: Annotated[dict[str, str], Field(min_length=1)]

    params: Params

    def columns(self) -> list[str]:
        return list(self.params.mapping)

    def check(self, schema: pl.Schema) -> None:
        require_columns(schema, self.columns(), "mapping")
        kept = set(schema.names()) - set(self.params.mapping)
        new = list(self.params.mapping.values())
        for name in new:
            if name in kept or new.count(name) > 1:
                raise StepError(f"renaming would make two columns named {name!r}", param="mapping")

    def apply(self, frame: Frame, state: State) -> Frame:
        return frame.rename(self.params.mapping)


@register
class DuplicateColumn(Transform):
    """Copy a column under a new name (e.g. keep the raw value beside an encoded one)."""

    type = "duplicate_column"

    class Params(StepParams):
        column: str
        new_column: Annotated[str, Field(min_length=1)]

    params: Params

    def columns(self) -> list[str]:
        return [self.params.column]

    def check(self, schema: pl.Schema) -> None:
        super().check(schema)
        require_new_name(schema, self.params.new_column, "new_column")

    def apply(self, frame: Frame, state: State) -> Frame:
        return frame.with_columns(pl.col(self.params.column).alias(self.params.new_column))


_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


@register
class Cast(Transform):
    """Change column types. Values that do not convert become null (`on_error="null"`)
    or fail the step (`on_error="fail"`). Text converts to bool from true/false,
    yes/no, 1/0 and to dates with an optional `format` (strftime codes)."""

    type = "cast"

    class Params(StepParams):
        columns: Annotated[dict[str, str], Field(min_length=1)]
        """{column: type name} — int, float, string, bool, date, datetime, categorical …"""
        on_error: Literal["null", "fail"] = "null"
        format: str | None = None

        @field_validator("columns")
        @classmethod
        def _known_types(cls, v: dict[str, str]) -> dict[str, str]:
            for col, name in v.items():
                try:
                    dtype_from_name(name)
                except ValueError as exc:
                    raise ValueError(f"{col}: {exc}") from None
            return v

    params: Params

    def columns(self) -> list[str]:
        return list(self.params.columns)

    def apply(self, frame: Frame, state: State) -> Frame:
        schema = schema_of(frame)
        return frame.with_columns(
            self._cast(col, schema[col], dtype_from_name(name))
            for col, name in self.params.columns.items()
        )

    def _cast(self, col: str, source: pl.DataType, target: pl.DataType) -> pl.Expr:
        strict = self.params.on_error == "fail"
        expr = pl.col(col)
        if is_string(source):
            text = expr.cast(pl.String).str.strip_chars()
            if target == pl.Boolean:
                low = text.str.to_lowercase()
                mapping = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
                if strict:  # replace_strict without a default fails on any other value
                    return low.replace_strict(mapping, return_dtype=pl.Boolean).alias(col)
                return low.replace_strict(mapping, default=None, return_dtype=pl.Boolean).alias(col)
            if isinstance(target, pl.Datetime):
                return text.str.to_datetime(self.params.format, strict=strict).alias(col)
            if target == pl.Date:
                return text.str.to_date(self.params.format, strict=strict).alias(col)
            if target.is_numeric():
                return text.cast(target, strict=strict).alias(col)
        return expr.cast(target, strict=strict).alias(col)


@register
class MoveColumn(Transform):
    """Put a column first, last, at an index, or after/before another (e.g. the target first)."""

    type = "move_column"

    class Params(StepParams):
        column: str
        position: Literal["start", "end", "index", "after", "before"] = "start"
        index: Annotated[int | None, Field(ge=0)] = None
        other: str | None = None
        """The column to move after or before."""

        @model_validator(mode="after")
        def _needs(self) -> MoveColumn.Params:
            if self.position == "index" and self.index is None:
                raise ValueError("position 'index' needs index")
            if self.position in ("after", "before") and not self.other:
                raise ValueError(f"position {self.position!r} needs other (a column name)")
            return self

    params: Params

    def columns(self) -> list[str]:
        p = self.params
        return [p.column] + ([p.other] if p.position in ("after", "before") and p.other else [])

    def check(self, schema: pl.Schema) -> None:
        require_columns(schema, [self.params.column], "column")
        if self.params.position in ("after", "before"):
            require_columns(schema, [self.params.other or ""], "other")

    def apply(self, frame: Frame, state: State) -> Frame:
        p = self.params
        names = [n for n in schema_of(frame).names() if n != p.column]
        if p.position == "start":
            at = 0
        elif p.position == "end":
            at = len(names)
        elif p.position == "index":
            at = min(p.index or 0, len(names))
        else:
            at = names.index(p.other or "") + (1 if p.position == "after" else 0)
        names.insert(at, p.column)
        return frame.select(names)


__all__ = ["Cast", "DropColumns", "DuplicateColumn", "MoveColumn", "RenameColumns", "dtype_name"]
