"""Balance classes: random over- or undersampling, or SMOTE (synthetic minority rows).

Only the training split is balanced when the flow has a split before this step:
validation and test must keep the real class mix, or their scores would lie.
The sampling is seeded, so a flow re-run gives the same rows. Endpoints skip
this step (it adds and removes rows).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
import polars as pl
from pydantic import Field

from sageforge.data.flow._base import (
    SPLIT_COLUMN,
    Frame,
    State,
    StepError,
    StepParams,
    Transform,
    register,
    require_columns,
    require_kind,
    schema_of,
    visible,
)


@register
class Balance(Transform):
    """See the module docstring. `ratio` is the wanted size of each smaller class
    relative to the largest (oversampling, SMOTE) or of the largest relative to
    the smallest, inverted (undersampling): 1.0 makes the classes equal."""

    type = "balance"
    stateful = True  # learns only which split trains (fit sees the training rows)
    changes_rows = True
    on_record = "skip"

    class Params(StepParams):
        target: str
        method: Literal["random_oversample", "random_undersample", "smote"] = "random_oversample"
        ratio: Annotated[float, Field(gt=0, le=1)] = 1.0
        seed: int = 42
        k_neighbors: Annotated[int, Field(ge=1, le=100)] = 5

    params: Params

    def columns(self) -> list[str]:
        return [self.params.target]

    def check(self, schema: pl.Schema) -> None:
        require_columns(schema, [self.params.target], "target")
        if self.params.method == "smote":
            features = [c for c in visible(schema.names()) if c != self.params.target]
            try:
                require_kind(schema, features, "numeric")
            except StepError as exc:
                raise StepError(f"SMOTE needs numeric features: {exc} (encode it first)") from None

    def fit(self, frame: pl.LazyFrame) -> State:
        if SPLIT_COLUMN not in schema_of(frame):
            return {"train_split": None}
        return {"train_split": frame.select(pl.col(SPLIT_COLUMN).first()).collect().item()}

    def apply(self, frame: Frame, state: State) -> Frame:
        df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
        train_split = state.get("train_split")
        if SPLIT_COLUMN in df.columns and train_split is not None:
            is_train = pl.col(SPLIT_COLUMN) == train_split
            train, rest = df.filter(is_train), df.filter(~is_train)
            out = pl.concat([self._balance(train), rest], how="vertical")
        else:
            out = self._balance(df)
        return out.lazy() if isinstance(frame, pl.LazyFrame) else out  # type: ignore[return-value]

    def _balance(self, df: pl.DataFrame) -> pl.DataFrame:
        p = self.params
        labelled = df.filter(pl.col(p.target).is_not_null())
        if labelled.height == 0:
            return df
        counts = dict(labelled.group_by(p.target).len().sort(p.target).iter_rows())
        rng = np.random.default_rng(p.seed)
        if p.method == "random_undersample":
            keep_n = math.floor(min(counts.values()) / p.ratio)
            parts = []
            for label, n in counts.items():
                rows = labelled.filter(pl.col(p.target) == label)
                if n > keep_n:
                    idx = np.sort(rng.choice(n, keep_n, replace=False))
                    rows = rows[idx]
                parts.append(rows)
            unlabelled = df.filter(pl.col(p.target).is_null())
            return pl.concat([*parts, unlabelled], how="vertical")
        want = math.ceil(max(counts.values()) * p.ratio)
        extra = []
        for label, n in counts.items():
            if n >= want:
                continue
            rows = labelled.filter(pl.col(p.target) == label)
            if p.method == "smote" and n >= 2:
                extra.append(self._smote(rows, want - n, rng))
            else:
                extra.append(rows[rng.integers(0, n, want - n)])
        return pl.concat([df, *extra], how="vertical") if extra else df

    def _smote(self, rows: pl.DataFrame, n_new: int, rng: np.random.Generator) -> pl.DataFrame:
        from sklearn.neighbors import NearestNeighbors

        p = self.params
        features = [c for c in visible(rows.columns) if c != p.target]
        x = rows.select(pl.col(features).cast(pl.Float64)).to_numpy()
        if np.isnan(x).any():
            raise StepError("SMOTE needs complete rows: impute missing values first")
        k = min(p.k_neighbors, len(x) - 1)
        _, neighbours = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
        base = rng.integers(0, len(x), n_new)
        other = neighbours[base, rng.integers(1, k + 1, n_new)]
        gap = rng.random((n_new, 1))
        synthetic = x[base] + gap * (x[other] - x[base])
        schema = schema_of(rows)
        columns = {}
        for j, col in enumerate(features):
            values = pl.Series(col, synthetic[:, j])
            if schema[col].is_integer():
                values = values.round(0)
            columns[col] = values.cast(schema[col])
        out = pl.DataFrame(columns).with_columns(pl.lit(rows[p.target][0]).alias(p.target))
        for col in rows.columns:  # hidden columns (the split) come along unchanged
            if col not in out.columns:
                out = out.with_columns(pl.lit(rows[col][0]).alias(col))
        return out.select(rows.columns).cast(dict(schema.items()))  # type: ignore[arg-type]
