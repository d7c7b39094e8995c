"""Process numeric columns: scale (standard, robust, min-max, max-abs), log, bin.

Scaling constants and bin edges are learned from the training rows. A column
with no spread (one value) scales by 1, so it becomes constant rather than NaN.
"""

from __future__ import annotations

import itertools
import math
from typing import Annotated, Literal

import polars as pl
from pydantic import Field, model_validator

from sageforge.data.flow._base import (
    Frame,
    State,
    StepParams,
    Transform,
    as_float,
    register,
    require_columns,
    require_kind,
    require_new_name,
    schema_of,
)

Columns = Annotated[list[str], Field(min_length=1)]


class _NumericStep(Transform):
    params: _NumericParams

    def columns(self) -> list[str]:
        return list(self.params.columns)

    def check(self, schema: pl.Schema) -> None:
        require_columns(schema, self.columns())
        require_kind(schema, self.columns(), "numeric")


class _NumericParams(StepParams):
    columns: Columns


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else float(value)


@register
class Scale(_NumericStep):
    """`standard`: (x − mean)/σ; `robust`: (x − median)/IQR; `minmax`: to [0, 1];
    `maxabs`: x / max|x| (keeps zeros and signs, for sparse data)."""

    type = "scale"
    stateful = True

    class Params(_NumericParams):
        method: Literal["standard", "robust", "minmax", "maxabs"] = "standard"

    params: Params

    def fit(self, frame: pl.LazyFrame) -> State:
        schema = schema_of(frame)
        exprs = []
        for c in self.params.columns:
            x = as_float(c, schema[c])
            match self.params.method:
                case "standard":
                    center, spread = x.mean(), x.std(ddof=0)
                case "robust":
                    center, spread = x.median(), x.quantile(0.75) - x.quantile(0.25)
                case "minmax":
                    center, spread = x.min(), x.max() - x.min()
                case _:
                    center, spread = pl.lit(0.0), x.abs().max()
            exprs += [center.alias(f"{c}|c"), spread.alias(f"{c}|s")]
        row = frame.select(exprs).collect().row(0, named=True)
        out: dict[str, list[float | None]] = {}
        for c in self.params.columns:
            offset, scale = _finite(row[f"{c}|c"]), _finite(row[f"{c}|s"])
            out[c] = [offset, scale if scale else 1.0]
        return {"columns": out}

    def apply(self, frame: Frame, state: State) -> Frame:
        exprs = []
        for c in self.params.columns:
            center, spread = state["columns"][c]
            x = pl.col(c).cast(pl.Float64)
            exprs.append((x if center is None else (x - center) / spread).alias(c))
        return frame.with_columns(exprs)


@register
class Log(_NumericStep):
    """log(x + offset) in `base` (e, 2 or 10); values where x + offset ≤ 0 become null."""

    type = "log"

    class Params(_NumericParams):
        base: Literal["e", "2", "10"] = "e"
        offset: float = 0.0

    params: Params

    def apply(self, frame: Frame, state: State) -> Frame:
        p = self.params
        base = {"e": math.e, "2": 2.0, "10": 10.0}[p.base]
        exprs = []
        for c in p.columns:
            x = pl.col(c).cast(pl.Float64) + p.offset
            exprs.append(pl.when(x > 0).then(x.log(base)).otherwise(None).alias(c))
        return frame.with_columns(exprs)


@register
class Bin(_NumericStep):
    """Cut a numeric column into bins: `equal_width` or `quantile` (`n_bins` learned from
    training rows) or your `edges`. The output is the bin's index (0, 1, …) or its
    range as text (`[10, 20)`), in place or in `<column><suffix>`."""

    type = "bin"
    stateful = True

    class Params(_NumericParams):
        method: Literal["equal_width", "quantile", "edges"] = "quantile"
        n_bins: Annotated[int, Field(ge=2, le=1000)] = 5
        edges: list[float] | None = None
        labels: Literal["index", "range"] = "index"
        suffix: str | None = None
        """Write `<column><suffix>` instead of replacing the column."""

        @model_validator(mode="after")
        def _edges(self) -> Bin.Params:
            if self.method == "edges":
                if not self.edges or len(self.edges) < 1:
                    raise ValueError("method 'edges' needs edges (at least one cut point)")
                if sorted(self.edges) != list(self.edges):
                    raise ValueError("edges must be increasing")
            return self

    params: Params

    def check(self, schema: pl.Schema) -> None:
        super().check(schema)
        if self.params.suffix:
            for c in self.params.columns:
                require_new_name(schema, c + self.params.suffix, "suffix")

    def fit(self, frame: pl.LazyFrame) -> State:
        p = self.params
        if p.method == "edges":
            return {"edges": {c: list(p.edges or []) for c in p.columns}}
        schema = schema_of(frame)
        exprs = []
        for c in p.columns:
            x = as_float(c, schema[c])
            if p.method == "equal_width":
                exprs += [x.min().alias(f"{c}|lo"), x.max().alias(f"{c}|hi")]
            else:
                exprs += [
                    x.quantile(i / p.n_bins, interpolation="linear").alias(f"{c}|{i}")
                    for i in range(1, p.n_bins)
                ]
        row = frame.select(exprs).collect().row(0, named=True)
        edges: dict[str, list[float]] = {}
        for c in p.columns:
            if p.method == "equal_width":
                lo, hi = _finite(row[f"{c}|lo"]), _finite(row[f"{c}|hi"])
                if lo is None or hi is None:
                    edges[c] = []
                    continue
                step = (hi - lo) / p.n_bins
                cuts = [lo + step * i for i in range(1, p.n_bins)]
            else:
                cuts = [
                    v for i in range(1, p.n_bins) if (v := _finite(row[f"{c}|{i}"])) is not None
                ]
            edges[c] = sorted(set(cuts))  # repeated quantiles collapse into one edge
        return {"edges": edges}

    def apply(self, frame: Frame, state: State) -> Frame:
        p = self.params
        exprs = []
        for c in p.columns:
            cuts: list[float] = state["edges"][c]
            x = pl.col(c).cast(pl.Float64)
            index = (
                pl.sum_horizontal([(x >= e).cast(pl.Int64) for e in cuts]) if cuts else pl.lit(0)
            )
            index = pl.when(x.is_null() | x.is_nan()).then(None).otherwise(index)
            if p.labels == "range":
                names = _range_labels(cuts)
                index = index.replace_strict(list(range(len(names))), names, return_dtype=pl.String)
            exprs.append(index.alias(c + (p.suffix or "")))
        return frame.with_columns(exprs)


def _range_labels(cuts: list[float]) -> list[str]:
    bounds = ["-inf", *(f"{e:g}" for e in cuts), "inf"]
    return [f"[{a}, {b})" for a, b in itertools.pairwise(bounds)]
