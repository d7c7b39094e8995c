"""Encode categorical columns: ordinal codes, one-hot columns, or the target's mean.

Categories are learned from the training rows as text (a numeric column's
values are encoded by their text form, `1` and `1.0` being different). Rare
categories — below `min_frequency` (a count, or a fraction when below 1) or
beyond the `max_categories` most frequent — fold into one *infrequent*
category; values never seen in training go there too when it exists, and are
otherwise handled by `unknown`. Missing values stay missing (ordinal: null;
one-hot: all zeros), which XGBoost handles natively.
"""

from __future__ import annotations

from typing import Annotated, Literal

import polars as pl
from pydantic import Field, model_validator

from sageforge.data.flow._base import (
    Frame,
    State,
    StepError,
    StepParams,
    Transform,
    register,
    require_columns,
    require_kind,
    schema_of,
)

Columns = Annotated[list[str], Field(min_length=1)]


class _CategoryParams(StepParams):
    columns: Columns
    min_frequency: Annotated[float | None, Field(gt=0)] = None
    max_categories: Annotated[int | None, Field(ge=1)] = None


def _text(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.String)


def learn_categories(
    frame: pl.LazyFrame, col: str, min_frequency: float | None, max_categories: int | None
) -> tuple[list[str], bool]:
    """(kept categories sorted, whether rare ones were folded into `infrequent`)."""
    counts = (
        frame.select(_text(col).alias("v"))
        .drop_nulls()
        .group_by("v")
        .len()
        .sort(["len", "v"], descending=[True, False])
        .collect()
    )
    total = int(counts["len"].sum() or 0)
    kept = counts
    if min_frequency is not None:
        threshold = min_frequency * total if min_frequency < 1 else min_frequency
        kept = kept.filter(pl.col("len") >= threshold)
    if max_categories is not None:
        kept = kept.head(max_categories)
    return sorted(kept["v"].to_list()), kept.height < counts.height


@register
class OrdinalEncode(Transform):
    """Replace each category by an integer code (alphabetical, or the `order` you give).

    `unknown`: unseen values become `null`, `unknown_value` (`value`), or fail (`error`).
    """

    type = "ordinal_encode"
    stateful = True

    class Params(_CategoryParams):
        order: dict[str, list[str]] | None = None
        """Per column, the categories in code order (e.g. low, medium, high)."""
        unknown: Literal["null", "value", "error"] = "null"
        unknown_value: int = -1

    params: Params

    def columns(self) -> list[str]:
        return list(self.params.columns)

    def check(self, schema: pl.Schema) -> None:
        require_columns(schema, self.columns())
        for col in self.params.order or {}:
            if col not in self.params.columns:
                raise StepError(f"order names {col!r}, which is not in columns", param="order")

    def fit(self, frame: pl.LazyFrame) -> State:
        p = self.params
        out: dict[str, dict[str, object]] = {}
        for col in p.columns:
            if p.order and col in p.order:
                out[col] = {"categories": [str(v) for v in p.order[col]], "infrequent": False}
                continue
            cats, infrequent = learn_categories(frame, col, p.min_frequency, p.max_categories)
            out[col] = {"categories": cats, "infrequent": infrequent}
        return {"columns": out}

    def apply(self, frame: Frame, state: State) -> Frame:
        p = self.params
        exprs = []
        for col in p.columns:
            learned = state["columns"][col]
            cats: list[str] = learned["categories"]
            codes = list(range(len(cats)))
            if learned["infrequent"]:
                expr = _text(col).replace_strict(
                    cats, codes, default=len(cats), return_dtype=pl.Int64
                )
                expr = pl.when(pl.col(col).is_null()).then(None).otherwise(expr)
            elif p.unknown == "error":
                expr = _text(col).replace_strict(cats, codes, return_dtype=pl.Int64)
            else:
                default = p.unknown_value if p.unknown == "value" else None
                expr = _text(col).replace_strict(
                    cats, codes, default=default, return_dtype=pl.Int64
                )
                if default is not None:
                    expr = pl.when(pl.col(col).is_null()).then(None).otherwise(expr)
            exprs.append(expr.alias(col))
        return frame.with_columns(exprs)


@register
class OneHotEncode(Transform):
    """Replace a column by one 0/1 column per category, named `<column>_<category>`.

    `unknown="ignore"` gives an unseen value all zeros (or 1 in `<column>_infrequent`
    when rare categories were folded); `error` fails.
    """

    type = "one_hot_encode"
    stateful = True

    class Params(_CategoryParams):
        unknown: Literal["ignore", "error"] = "ignore"
        drop_original: bool = True
        separator: str = "_"

    params: Params

    def columns(self) -> list[str]:
        return list(self.params.columns)

    def check(self, schema: pl.Schema) -> None:
        require_columns(schema, self.columns())

    def fit(self, frame: pl.LazyFrame) -> State:
        p = self.params
        names = set(schema_of(frame).names())
        out: dict[str, dict[str, object]] = {}
        for col in p.columns:
            cats, infrequent = learn_categories(frame, col, p.min_frequency, p.max_categories)
            new = [f"{col}{p.separator}{c}" for c in cats]
            if infrequent:
                new.append(f"{col}{p.separator}infrequent")
            clash = sorted((set(new) & names) - {col})
            if clash or len(set(new)) < len(new):
                raise StepError(
                    f"one-hot columns of {col!r} would overwrite {clash or new}; "
                    "set another separator",
                    param="separator",
                )
            names |= set(new)
            out[col] = {"categories": cats, "infrequent": infrequent, "names": new}
        return {"columns": out}

    def apply(self, frame: Frame, state: State) -> Frame:
        p = self.params
        learned = state["columns"]
        order = schema_of(frame).names()
        exprs: list[pl.Expr] = []
        placed: dict[str, list[str]] = {}
        for col in p.columns:
            info = learned[col]
            cats: list[str] = info["categories"]
            names: list[str] = info["names"]
            value = _text(col)
            if p.unknown == "error" and not info["infrequent"] and cats:
                value = value.replace_strict(cats, cats, return_dtype=pl.String)
            for cat, name in zip(cats, names, strict=False):
                exprs.append((value == cat).fill_null(False).cast(pl.Int8).alias(name))
            if info["infrequent"]:
                rare = value.is_not_null() & ~value.is_in(cats)
                exprs.append(rare.cast(pl.Int8).alias(names[-1]))
            placed[col] = names
        out = frame.with_columns(exprs)
        final: list[str] = []
        for name in order:
            if name in placed:
                final += ([] if p.drop_original else [name]) + placed[name]
            else:
                final.append(name)
        return out.select(final)


@register
class TargetEncode(Transform):
    """Replace each category by the target's mean in it, shrunk towards the overall mean
    by `smoothing` pseudo-rows (unseen and missing values get the overall mean)."""

    type = "target_encode"
    stateful = True

    class Params(StepParams):
        columns: Columns
        target: str
        smoothing: Annotated[float, Field(ge=0)] = 10.0

        @model_validator(mode="after")
        def _target_not_a_feature(self) -> TargetEncode.Params:
            if self.target in self.columns:
                raise ValueError("the target cannot encode itself")
            return self

    params: Params

    def columns(self) -> list[str]:
        return [*self.params.columns, self.params.target]

    def check(self, schema: pl.Schema) -> None:
        require_columns(schema, self.params.columns)
        require_columns(schema, [self.params.target], "target")
        if not schema[self.params.target].is_numeric():
            raise StepError(
                f"the target {self.params.target!r} must be numeric: map its values first "
                "(map_values)",
                param="target",
            )

    def fit(self, frame: pl.LazyFrame) -> State:
        p = self.params
        y = pl.col(p.target).cast(pl.Float64)
        labelled = frame.filter(y.is_not_null())
        prior = labelled.select(y.mean()).collect().item()
        prior = 0.0 if prior is None else float(prior)
        maps: dict[str, dict[str, list[object]]] = {}
        for col in p.columns:
            stats = (
                labelled.select(_text(col).alias("v"), y.alias("y"))
                .drop_nulls("v")
                .group_by("v")
                .agg(pl.len().alias("n"), pl.col("y").mean().alias("m"))
                .sort("v")
                .collect()
            )
            m = p.smoothing
            values = [
                (n * mean + m * prior) / (n + m) if n + m > 0 else prior
                for n, mean in zip(stats["n"].to_list(), stats["m"].to_list(), strict=True)
            ]
            maps[col] = {"categories": stats["v"].to_list(), "values": values}
        return {"prior": prior, "columns": maps}

    def apply(self, frame: Frame, state: State) -> Frame:
        prior = state["prior"]
        return frame.with_columns(
            _text(col)
            .replace_strict(
                state["columns"][col]["categories"],
                state["columns"][col]["values"],
                default=prior,
                return_dtype=pl.Float64,
            )
            .alias(col)
            for col in self.params.columns
        )


__all__ = ["OneHotEncode", "OrdinalEncode", "TargetEncode", "learn_categories", "require_kind"]
