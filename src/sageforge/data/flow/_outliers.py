"""Handle numeric outliers: bounds from the mean ± k·σ, the IQR, quantiles, or fixed
min/max; values outside are clipped to the bounds or their rows removed.

Bounds are learned from the training rows. On an integer column the bounds are
rounded inwards, so clipping keeps the column integral.
"""

from __future__ import annotations

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
    schema_of,
)


@register
class HandleOutliers(Transform):
    """See the module docstring. `method`: `std` (mean ± n_std·σ), `iqr`
    (Q1 − k·IQR, Q3 + k·IQR), `quantile` (lower/upper quantiles), `minmax`
    (the `lower`/`upper` you give)."""

    type = "handle_outliers"
    stateful = True

    class Params(StepParams):
        columns: Annotated[list[str], Field(min_length=1)]
        method: Literal["std", "iqr", "quantile", "minmax"] = "std"
        action: Literal["clip", "remove"] = "clip"
        n_std: Annotated[float, Field(gt=0)] = 3.0
        iqr_factor: Annotated[float, Field(ge=0)] = 1.5
        lower_quantile: Annotated[float, Field(ge=0, le=1)] = 0.01
        upper_quantile: Annotated[float, Field(ge=0, le=1)] = 0.99
        lower: float | None = None
        upper: float | None = None

        @model_validator(mode="after")
        def _consistent(self) -> HandleOutliers.Params:
            if self.method == "quantile" and self.lower_quantile >= self.upper_quantile:
                raise ValueError("lower_quantile must be below upper_quantile")
            if self.method == "minmax":
                if self.lower is None and self.upper is None:
                    raise ValueError("method 'minmax' needs lower, upper or both")
                if self.lower is not None and self.upper is not None and self.lower > self.upper:
                    raise ValueError("lower must not be above upper")
            return self

    params: Params

    def columns(self) -> list[str]:
        return list(self.params.columns)

    def check(self, schema: pl.Schema) -> None:
        require_columns(schema, self.columns())
        require_kind(schema, self.columns(), "numeric")

    def moves_rows(self) -> bool:
        return self.params.action == "remove"

    def skips_records(self) -> bool:
        # Removing a record at an endpoint would leave a request unanswered; clipping is fine.
        return self.params.action == "remove"

    def fit(self, frame: pl.LazyFrame) -> State:
        p = self.params
        if p.method == "minmax":
            return {"bounds": {c: [p.lower, p.upper] for c in p.columns}}
        schema = schema_of(frame)
        exprs = []
        for c in p.columns:
            x = as_float(c, schema[c])
            if p.method == "std":
                exprs += [x.mean().alias(f"{c}|a"), x.std(ddof=0).alias(f"{c}|b")]
            elif p.method == "iqr":
                exprs += [x.quantile(0.25).alias(f"{c}|a"), x.quantile(0.75).alias(f"{c}|b")]
            else:
                exprs += [
                    x.quantile(p.lower_quantile).alias(f"{c}|a"),
                    x.quantile(p.upper_quantile).alias(f"{c}|b"),
                ]
        row = frame.select(exprs).collect().row(0, named=True)
        bounds: dict[str, list[float | None]] = {}
        for c in p.columns:
            a, b = row[f"{c}|a"], row[f"{c}|b"]
            if a is None or b is None or math.isnan(a) or math.isnan(b):
                bounds[c] = [None, None]  # no data to learn from: leave values alone
            elif p.method == "std":
                bounds[c] = [a - p.n_std * b, a + p.n_std * b]
            elif p.method == "iqr":
                bounds[c] = [a - p.iqr_factor * (b - a), b + p.iqr_factor * (b - a)]
            else:
                bounds[c] = [a, b]
        return {"bounds": bounds}

    def apply(self, frame: Frame, state: State) -> Frame:
        schema = schema_of(frame)
        bounds = state["bounds"]
        if self.params.action == "clip":
            return frame.with_columns(
                self._clip(c, schema[c], *bounds[c]).alias(c) for c in self.params.columns
            )
        keep = [self._inside(c, *bounds[c]) for c in self.params.columns]
        return frame.filter(pl.all_horizontal(keep))

    @staticmethod
    def _clip(col: str, dtype: pl.DataType, lo: float | None, hi: float | None) -> pl.Expr:
        if lo is None and hi is None:
            return pl.col(col)
        if dtype.is_integer():
            lo = None if lo is None else math.ceil(lo)
            hi = None if hi is None else math.floor(hi)
        return pl.col(col).clip(lo, hi)

    @staticmethod
    def _inside(col: str, lo: float | None, hi: float | None) -> pl.Expr:
        ok = pl.col(col).cast(pl.Float64).fill_nan(None).is_null()  # missing is not an outlier
        inside = pl.lit(True)
        if lo is not None:
            inside = inside & (pl.col(col) >= lo)
        if hi is not None:
            inside = inside & (pl.col(col) <= hi)
        return ok | inside
