"""Search and edit: find and replace (literal or regex), extract a match, map values."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import polars as pl
from pydantic import Field, field_validator, model_validator

from sageforge.data.flow._base import (
    Frame,
    State,
    StepError,
    StepParams,
    Transform,
    dtype_name,
    is_numeric,
    is_string,
    register,
    require_columns,
    require_kind,
    require_new_name,
    schema_of,
)


def _check_regex(pattern: str) -> str:
    """Compile with Polars' own engine (Rust regex: no look-around), not Python's."""
    try:
        pl.Series([""]).str.contains(pattern)
    except Exception as exc:
        raise ValueError(f"not a valid regular expression: {exc}".split("\n")[0]) from None
    return pattern


@register
class FindReplace(Transform):
    """Replace text: a literal substring, or a regular expression (`$1` for groups)."""

    type = "find_replace"

    class Params(StepParams):
        columns: Annotated[list[str], Field(min_length=1)]
        find: Annotated[str, Field(min_length=1)]
        replace: str = ""
        regex: bool = False
        all: bool = True
        """Every occurrence (default) or only the first."""

        @model_validator(mode="after")
        def _pattern(self) -> FindReplace.Params:
            if self.regex:
                _check_regex(self.find)
            return self

    params: Params

    def columns(self) -> list[str]:
        return list(self.params.columns)

    def check(self, schema: pl.Schema) -> None:
        require_columns(schema, self.columns())
        require_kind(schema, self.columns(), "string")

    def apply(self, frame: Frame, state: State) -> Frame:
        p = self.params
        literal = not p.regex
        return frame.with_columns(
            (
                pl.col(c).cast(pl.String).str.replace_all(p.find, p.replace, literal=literal)
                if p.all
                else pl.col(c).cast(pl.String).str.replace(p.find, p.replace, literal=literal)
            ).alias(c)
            for c in p.columns
        )


@register
class Extract(Transform):
    """Put the first match of a regex group into a new column (null where it does not match)."""

    type = "extract"

    class Params(StepParams):
        column: str
        pattern: str
        group: Annotated[int, Field(ge=0)] = 1
        new_column: str | None = None
        """Default: `<column>_extracted`."""

        @field_validator("pattern")
        @classmethod
        def _compiles(cls, v: str) -> str:
            return _check_regex(v)

    params: Params

    @property
    def target(self) -> str:
        return self.params.new_column or f"{self.params.column}_extracted"

    def columns(self) -> list[str]:
        return [self.params.column]

    def check(self, schema: pl.Schema) -> None:
        require_columns(schema, self.columns(), "column")
        require_kind(schema, self.columns(), "string", "column")
        require_new_name(schema, self.target, "new_column")

    def apply(self, frame: Frame, state: State) -> Frame:
        p = self.params
        return frame.with_columns(
            pl.col(p.column).cast(pl.String).str.extract(p.pattern, p.group).alias(self.target)
        )


def _value_dtype(values: list[Any]) -> pl.DataType:
    """The type of the mapped-to values: the narrowest that holds them all."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pl.Null()
    if kinds <= {bool}:
        return pl.Boolean()
    if kinds <= {int}:
        return pl.Int64()
    if kinds <= {int, float}:
        return pl.Float64()
    return pl.String()


@register
class MapValues(Transform):
    """Replace values by a mapping, e.g. `{"yes": 1, "no": 0}` for a target.

    `unmapped` says what happens to values the mapping does not name: `keep`
    them, make them `null`, or `error`. The default, `auto`, keeps them when
    the mapped values have the column's type and makes them null otherwise
    (`yes`/`no` → 1/0 gives an integer column, anything else null).
    """

    type = "map_values"

    class Params(StepParams):
        column: str
        mapping: Annotated[dict[str, str | int | float | bool | None], Field(min_length=1)]
        unmapped: Literal["auto", "keep", "null", "error"] = "auto"
        new_column: str | None = None

    params: Params

    def columns(self) -> list[str]:
        return [self.params.column]

    def check(self, schema: pl.Schema) -> None:
        p = self.params
        require_columns(schema, self.columns(), "column")
        if p.new_column:
            require_new_name(schema, p.new_column, "new_column")
        source = schema[p.column]
        if is_numeric(source):
            for key in p.mapping:
                try:
                    float(key)
                except ValueError:
                    raise StepError(
                        f"column {p.column!r} is numeric but the mapping has the key {key!r}",
                        param="mapping",
                    ) from None
        target = _value_dtype(list(p.mapping.values()))
        if p.unmapped == "keep" and not self._same_kind(source, target):
            raise StepError(
                f"unmapped='keep' would mix the column's {dtype_name(source)} values with "
                f"{dtype_name(target)} ones; use unmapped='null' or 'error', or map every value",
                param="unmapped",
            )

    @staticmethod
    def _same_kind(source: pl.DataType, target: pl.DataType) -> bool:
        return (
            target == pl.Null
            or (is_string(source) and target == pl.String)
            or (is_numeric(source) and target.is_numeric())
            or source == target
        )

    def apply(self, frame: Frame, state: State) -> Frame:
        p = self.params
        source = schema_of(frame)[p.column]
        values = list(p.mapping.values())
        target = _value_dtype(values)
        if is_numeric(source):
            keys: list[Any] = [float(k) for k in p.mapping]
            col = pl.col(p.column).cast(pl.Float64)
        else:
            keys = list(p.mapping)
            col = pl.col(p.column).cast(pl.String)
        unmapped = p.unmapped
        if unmapped == "auto":
            unmapped = "keep" if self._same_kind(source, target) else "null"
        if unmapped == "keep":
            if is_numeric(source):
                out_type = pl.Float64() if source.is_float() or target.is_float() else source
                expr = col.replace(keys, values).cast(out_type)
            else:
                expr = col.replace(keys, [None if v is None else str(v) for v in values])
        elif unmapped == "null":
            expr = col.replace_strict(keys, values, default=None, return_dtype=target)
        else:
            expr = col.replace_strict(keys, values, return_dtype=target)
        return frame.with_columns(expr.alias(p.new_column or p.column))
