"""Format strings: strip, change case, pad, add a prefix or suffix, remove symbols."""

from __future__ import annotations

from typing import Annotated, Literal

import polars as pl
from pydantic import Field, model_validator

from sageforge.data.flow._base import (
    Frame,
    State,
    StepParams,
    Transform,
    register,
    require_columns,
    require_kind,
)

Operation = Literal[
    "strip",
    "lstrip",
    "rstrip",
    "lower",
    "upper",
    "title",
    "pad_left",
    "pad_right",
    "prefix",
    "suffix",
    "remove_symbols",
    "collapse_whitespace",
]
_NEEDS_WIDTH = ("pad_left", "pad_right")
_NEEDS_TEXT = ("prefix", "suffix")


@register
class FormatString(Transform):
    """One text operation on string columns.

    `strip` removes surrounding white space (or the `characters` given);
    `pad_left`/`pad_right` pad to `width` with `fill_char`; `prefix`/`suffix`
    add `text`; `remove_symbols` keeps letters, digits and white space.
    """

    type = "format_string"

    class Params(StepParams):
        columns: Annotated[list[str], Field(min_length=1)]
        operation: Operation
        characters: str | None = None
        width: Annotated[int | None, Field(ge=1, le=10_000)] = None
        fill_char: Annotated[str, Field(min_length=1, max_length=1)] = " "
        text: str | None = None

        @model_validator(mode="after")
        def _needs(self) -> FormatString.Params:
            if self.operation in _NEEDS_WIDTH and self.width is None:
                raise ValueError(f"operation {self.operation!r} needs width")
            if self.operation in _NEEDS_TEXT and self.text is None:
                raise ValueError(f"operation {self.operation!r} needs text")
            return self

    params: Params

    def columns(self) -> list[str]:
        return list(self.params.columns)

    def check(self, schema: pl.Schema) -> None:
        require_columns(schema, self.columns())
        require_kind(schema, self.columns(), "string")

    def apply(self, frame: Frame, state: State) -> Frame:
        return frame.with_columns(self._expr(c).alias(c) for c in self.params.columns)

    def _expr(self, col: str) -> pl.Expr:
        p = self.params
        s = pl.col(col).cast(pl.String).str
        match p.operation:
            case "strip":
                return s.strip_chars(p.characters)
            case "lstrip":
                return s.strip_chars_start(p.characters)
            case "rstrip":
                return s.strip_chars_end(p.characters)
            case "lower":
                return s.to_lowercase()
            case "upper":
                return s.to_uppercase()
            case "title":
                return s.to_titlecase()
            case "pad_left":
                return s.pad_start(p.width or 0, p.fill_char)
            case "pad_right":
                return s.pad_end(p.width or 0, p.fill_char)
            case "prefix":
                return pl.lit(p.text or "") + pl.col(col).cast(pl.String)
            case "suffix":
                return pl.col(col).cast(pl.String) + pl.lit(p.text or "")
            case "remove_symbols":
                return s.replace_all(r"[^\p{L}\p{N}\s]", "")
            case "collapse_whitespace":
                return s.replace_all(r"\s+", " ").str.strip_chars()
        raise AssertionError(p.operation)  # pragma: no cover - Literal covers every case
