"""Split rows into train / validation / test (any names and fractions, seeded).

The split does not cut the table: it writes each row's split name into the
hidden `__split` column, so steps after it run once over every row, and
stateful steps learn from the rows labelled with the first split (training).
The export writes one output per split.

- `randomized`: a seeded permutation; the counts match the fractions exactly.
- `ordered`: the first rows in the current order train, the last ones test
  (sort by time first for a time-based split).
- `stratified`: a randomized split within each class of `stratify_column`, so
  every split keeps the class mix.
- `key`: rows with the same `key_columns` values land in the same split (no
  customer in both train and test); fractions hold approximately.
"""

from __future__ import annotations

from typing import Annotated, Literal

import polars as pl
from pydantic import Field, model_validator

from sageforge.data.flow._base import (
    SPLIT_COLUMN,
    Frame,
    State,
    StepParams,
    Transform,
    register,
    require_columns,
    schema_of,
)

DEFAULT_FRACTIONS = (0.7, 0.2, 0.1)
_DEFAULT_NAMES = {1: ["train"], 2: ["train", "test"], 3: ["train", "validation", "test"]}


@register
class Split(Transform):
    """See the module docstring."""

    type = "split"
    on_record = "skip"

    class Params(StepParams):
        method: Literal["randomized", "ordered", "stratified", "key"] = "randomized"
        fractions: Annotated[list[float], Field(min_length=1, max_length=10)] = list(
            DEFAULT_FRACTIONS
        )
        names: list[str] | None = None
        seed: int = 42
        stratify_column: str | None = None
        key_columns: list[str] | None = None

        @model_validator(mode="after")
        def _consistent(self) -> Split.Params:
            if any(f <= 0 for f in self.fractions):
                raise ValueError("every fraction must be above 0")
            if abs(sum(self.fractions) - 1.0) > 1e-6:
                raise ValueError(
                    f"fractions must add up to 1 (they add up to {sum(self.fractions):g})"
                )
            if self.names is not None:
                if len(self.names) != len(self.fractions):
                    raise ValueError("give one name per fraction")
                if len(set(self.names)) != len(self.names) or not all(self.names):
                    raise ValueError("split names must be unique and not empty")
            if self.method == "stratified" and not self.stratify_column:
                raise ValueError("method 'stratified' needs stratify_column")
            if self.method == "key" and not self.key_columns:
                raise ValueError("method 'key' needs key_columns")
            return self

    params: Params

    @property
    def split_names(self) -> list[str]:
        """The split names, first the training split."""
        n = len(self.params.fractions)
        return list(self.params.names or _DEFAULT_NAMES.get(n) or [f"split_{i}" for i in range(n)])

    def columns(self) -> list[str]:
        p = self.params
        if p.method == "stratified":
            return [p.stratify_column or ""]
        if p.method == "key":
            return list(p.key_columns or [])
        return []

    def check(self, schema: pl.Schema) -> None:
        param = "stratify_column" if self.params.method == "stratified" else "key_columns"
        require_columns(schema, self.columns(), param)

    def apply(self, frame: Frame, state: State) -> Frame:
        label = self.label()
        if SPLIT_COLUMN in schema_of(frame):  # assigned earlier: only fill rows that missed it
            label = pl.coalesce(pl.col(SPLIT_COLUMN), label)
        return frame.with_columns(label.alias(SPLIT_COLUMN))

    def label(self) -> pl.Expr:
        """The split name of each row, as an expression over the whole table."""
        p = self.params
        names = self.split_names
        cumulative = [sum(p.fractions[: i + 1]) for i in range(len(p.fractions))]
        if p.method == "key":
            keys = pl.struct(p.key_columns or [])
            u = (keys.hash(p.seed) % 1_000_003).cast(pl.Float64) / 1_000_003
            return self._by_threshold(u, cumulative, names)
        if p.method == "ordered":
            position, size = pl.int_range(pl.len()), pl.len()
        elif p.method == "randomized":
            position, size = pl.int_range(pl.len()).shuffle(seed=p.seed), pl.len()
        else:
            group = p.stratify_column or ""
            position = pl.int_range(pl.len()).shuffle(seed=p.seed).over(group)
            size = pl.len().over(group)
        # Row at `position` goes to split i when position < round(size · cumulative[i]).
        u = position.cast(pl.Float64)
        bounds = [(size.cast(pl.Float64) * c).round(0) for c in cumulative]
        expr = pl.lit(names[-1])
        for name, bound in reversed(list(zip(names[:-1], bounds[:-1], strict=True))):
            expr = pl.when(u < bound).then(pl.lit(name)).otherwise(expr)
        return expr.cast(pl.String)

    @staticmethod
    def _by_threshold(u: pl.Expr, cumulative: list[float], names: list[str]) -> pl.Expr:
        expr = pl.lit(names[-1])
        for name, c in reversed(list(zip(names[:-1], cumulative[:-1], strict=True))):
            expr = pl.when(u < c).then(pl.lit(name)).otherwise(expr)
        return expr.cast(pl.String)
