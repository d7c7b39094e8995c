"""Running a flow: fit on training rows, apply to every row, check on a sample.

Where the split is assigned. Stateful steps learn from the training rows, so
the split must be known before the first of them runs. A split step's rows are
settled once the last row-changing step before it (drop duplicates, filter,
outlier removal, custom code …) has run: the runner assigns the split right
there, so every stateful step between that point and the split step already
fits on training rows only. A stateful step *before* a row-changing step that
precedes the split must fit on all rows; `check_flow` warns about it.

Speed. The plan stays lazy; it is materialised once before the first fit that
follows a scan or a row change, so each fit is a cheap aggregation over memory
instead of a re-read of the source, and the final output reuses that work.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

import sageforge
from sageforge.core.errors import ValidationError
from sageforge.data.flow._base import (
    HIDDEN_COLUMNS,
    SPLIT_COLUMN,
    StepError,
    schema_from_dict,
    schema_of,
    schema_to_dict,
)
from sageforge.data.flow._document import FlowDocument, Step, step_error


def _split_point(doc: FlowDocument) -> int | None:
    """Index before which the split label is assigned (see the module docstring)."""
    at = doc.split_index
    if at is None:
        return None
    last_mover = max((i for i in range(at) if doc.steps[i].transform.moves_rows()), default=-1)
    early = last_mover + 1
    if any(s.transform.stateful for s in doc.steps[early:at]):
        return early
    return at


def _train_rows(frame: pl.LazyFrame, train: str | None) -> pl.LazyFrame:
    if train is not None and SPLIT_COLUMN in schema_of(frame):
        return frame.filter(pl.col(SPLIT_COLUMN) == train)
    return frame


def _assign_split(doc: FlowDocument, frame: pl.LazyFrame) -> pl.LazyFrame | None:
    """The frame with split labels, or None if the split's columns are not there yet."""
    at = doc.split_index
    assert at is not None
    split = doc.steps[at].transform
    if any(c not in schema_of(frame) for c in split.columns()):
        return None
    return split.apply(frame, {})


def fit_transform(
    doc: FlowDocument, data: pl.DataFrame | pl.LazyFrame
) -> tuple[FlowDocument, pl.LazyFrame]:
    """Fit every stateful step on the training rows; return the fitted flow and the
    transformed rows (lazy; with the hidden `__split` column when the flow splits)."""
    frame = data.lazy()
    input_schema = schema_to_dict(schema_of(frame))
    split_at, assign_at = doc.split_index, _split_point(doc)
    train = doc.split_names()[0] if split_at is not None else None
    assigned_at: int | None = None
    dirty = True  # the plan starts with a scan: materialise before fitting on it
    fitted_steps: list[Step] = []
    for i, step in enumerate(doc.steps):
        t = step.transform
        try:
            if (
                assigned_at is None
                and split_at is not None
                and assign_at is not None
                and i >= assign_at
            ):
                labelled = _assign_split(doc, frame)
                if labelled is not None:
                    frame, assigned_at = labelled, i
            if i == split_at:
                if assigned_at is None:
                    frame, assigned_at = t.apply(frame, {}), i
                fitted_steps.append(replace(step, state={}))
                continue
            state: dict[str, Any] = {}
            t.check(schema_of(frame))
            if t.stateful:
                if dirty:
                    frame, dirty = frame.collect().lazy(), False
                state = t.fit(_train_rows(frame, train))
            frame = t.apply(frame, state)
            dirty = dirty or t.moves_rows() or t.runs_code
        except Exception as exc:
            raise step_error(i, step, exc) from None
        fitted_steps.append(replace(step, state=state))
    fitted = replace(
        doc,
        steps=fitted_steps,
        fitted={
            "input_schema": input_schema,
            "output_schema": schema_to_dict(schema_of(frame)),
            "split_assigned_at": assigned_at,
            "fitted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "sageforge_version": sageforge.__version__,
        },
    )
    return fitted, frame


def fit(doc: FlowDocument, data: pl.DataFrame | pl.LazyFrame) -> FlowDocument:
    """The flow fitted on `data` (see `fit_transform`)."""
    return run_flow(doc, data)[0]


def run_flow(
    doc: FlowDocument, data: pl.DataFrame | pl.LazyFrame
) -> tuple[FlowDocument, pl.DataFrame]:
    """`fit_transform`, collected; a failure of a lazy step is reported with its step."""
    fitted, frame = fit_transform(doc, data)
    try:
        return fitted, frame.collect()
    except Exception as exc:
        raise _diagnose(doc, data, exc, refit=True) from None


def apply_flow(doc: FlowDocument, data: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """`transform`, collected; a failure of a lazy step is reported with its step."""
    frame = transform(doc, data)
    try:
        return frame.collect()
    except Exception as exc:
        raise _diagnose(doc, data, exc, refit=False) from None


def _diagnose(
    doc: FlowDocument, data: pl.DataFrame | pl.LazyFrame, exc: Exception, *, refit: bool
) -> Exception:
    """Re-run step by step, collecting after each, to name the step that fails.

    Only on the failure path: the lazy plan ran every step at once, so its error
    does not say which step it came from.
    """
    for last in range(len(doc.steps)):
        partial = replace(doc, steps=doc.steps[: last + 1], fitted=None if refit else doc.fitted)
        try:
            if refit:
                fit_transform(partial, data)[1].collect()
            else:
                transform(partial, data).collect()
        except ValidationError as found:
            return found
        except Exception as found:
            return step_error(last, doc.steps[last], found)
    return ValidationError(f"the flow failed: {str(exc).splitlines()[0]}", field="steps")


def transform(doc: FlowDocument, data: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Apply a fitted flow to new rows with the states learned at fit time."""
    _require_fitted(doc)
    assert doc.fitted is not None
    frame = data.lazy()
    assign_at = doc.fitted.get("split_assigned_at")
    for i, step in enumerate(doc.steps):
        try:
            if assign_at is not None and i == assign_at:
                frame = doc.steps[doc.split_index or 0].transform.apply(frame, {})
            if step.type == "split":
                continue
            frame = step.transform.apply(frame, step.state or {})
        except Exception as exc:
            raise step_error(i, step, exc) from None
    return frame


def _require_fitted(doc: FlowDocument) -> None:
    if not doc.is_fitted:
        raise ValidationError(
            "the flow is not fitted: fit it on data first (its steps have no learned state)",
            field="flow",
        )


def split_frames(doc: FlowDocument, frame: pl.LazyFrame | pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Collect a transformed frame into one DataFrame per split (hidden columns dropped)."""
    df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    names = doc.split_names()
    if SPLIT_COLUMN not in df.columns:
        return {names[0]: df}
    parts = {name: df.clear().drop(SPLIT_COLUMN) for name in names}
    for (name,), part in df.group_by(SPLIT_COLUMN, maintain_order=True):
        parts[str(name)] = part.drop(SPLIT_COLUMN)
    return parts


# -- one record at a time ---------------------------------------------------------------


class RecordPipeline:
    """A fitted flow compiled for single records (what an endpoint runs per request).

    Row-level steps are left out; the rest run eagerly on a one-row DataFrame,
    with exactly the code the batch path runs, so the values are the same.
    """

    def __init__(self, doc: FlowDocument) -> None:
        _require_fitted(doc)
        assert doc.fitted is not None
        self.doc = doc
        self.input_schema = schema_from_dict(doc.fitted["input_schema"])
        self.target = doc.target
        self._steps = [
            (i, s, s.state or {})
            for i, s in enumerate(doc.steps)
            if not s.transform.skips_records()
        ]

    def __call__(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        """The transformed record, or None if a (custom) step dropped it."""
        frame = self.frame([record])
        return frame.row(0, named=True) if frame.height else None

    def frame(self, records: list[Mapping[str, Any]]) -> pl.DataFrame:
        """Several records at once, as one DataFrame."""
        unknown = sorted({k for r in records for k in r} - set(self.input_schema.names()))
        if unknown:
            raise ValidationError(
                f"unknown field(s) {', '.join(map(repr, unknown))}; the flow reads "
                f"{', '.join(self.input_schema.names())}",
                field="record",
            )
        df = pl.DataFrame(
            {c: [r.get(c) for r in records] for c in self.input_schema.names()},
            schema=self.input_schema,
            strict=False,
        )
        for i, step, state in self._steps:
            try:
                df = step.transform.apply(df, state)
            except Exception as exc:
                raise step_error(i, step, exc) from None
        drop = [c for c in df.columns if c in HIDDEN_COLUMNS]
        if self.target and self.target in df.columns and not any(self.target in r for r in records):
            drop.append(self.target)  # an endpoint's request has no label to return
        return df.drop(drop)


def apply_record(doc: FlowDocument, record: Mapping[str, Any]) -> dict[str, Any] | None:
    """One raw record through a fitted flow; compile a `RecordPipeline` to do it often."""
    return RecordPipeline(doc)(record)


# -- checking and previewing ---------------------------------------------------------------


@dataclass
class FlowCheck:
    """What `check_flow` found: the output columns and warnings in plain words."""

    output_schema: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    schemas: list[dict[str, str]] = field(default_factory=list)
    """The columns after each step."""


def check_flow(
    doc: FlowDocument,
    schema: pl.Schema | Mapping[str, pl.DataType],
    sample: pl.DataFrame | None = None,
    *,
    allow_code: bool = True,
) -> FlowCheck:
    """Run the flow on a sample (or on no rows) step by step; raise the first problem
    as a ValidationError naming the step, return warnings otherwise.

    With `allow_code=False` (the server), custom Python is only compiled, and the
    columns after it are unknown, so later steps are checked when the flow runs.
    """
    frame = sample if sample is not None else pl.DataFrame(schema=pl.Schema(schema))
    warnings = _order_warnings(doc)
    schemas: list[dict[str, str]] = []
    split_at, train = doc.split_index, doc.split_names()[0]
    open_schema = False  # columns depend on data we do not have (one-hot on no rows)
    for i, step in enumerate(doc.steps):
        t = step.transform
        if t.runs_code and not allow_code:
            warnings.append(
                f"{step.label(i)} runs custom Python, which the server does not run: the steps "
                "after it are checked when the flow runs (preview it with the SDK)"
            )
            schemas.extend({} for _ in range(i, len(doc.steps)))
            return FlowCheck({}, warnings, schemas)
        try:
            t.check(frame.schema)
        except StepError as exc:
            if not open_schema:
                raise step_error(i, step, exc) from None
            warnings.append(f"{step.label(i)} could not be checked without data: {exc}")
            schemas.append(schema_to_dict(frame.schema))
            continue
        try:
            if i == split_at:
                frame = t.apply(frame, {})
            else:
                state = t.fit(_train_rows(frame.lazy(), train)) if t.stateful else {}
                frame = t.apply(frame.lazy(), state).collect()
        except Exception as exc:
            raise step_error(i, step, exc) from None
        if sample is None and frame.height == 0 and t.type == "one_hot_encode":
            open_schema = True
        schemas.append(schema_to_dict(frame.schema))
    return FlowCheck(schema_to_dict(frame.schema), warnings, schemas)


def _order_warnings(doc: FlowDocument) -> list[str]:
    """Stateful steps that must learn from all rows because of where they stand."""
    at = doc.split_index
    if at is None:
        return []
    point = _split_point(doc) or at
    out = []
    for i, step in enumerate(doc.steps[:point]):
        if step.transform.stateful:
            out.append(
                f"{step.label(i)} learns from all rows, not only training rows: a step after it "
                f"changes rows before the split (step {at}); move it after that step"
            )
    return out


def preview(
    doc: FlowDocument, sample: pl.DataFrame, step: int | None = None, n: int = 20
) -> pl.DataFrame:
    """The first `n` rows after step `step` (default: the last), fitting on the sample."""
    last = len(doc.steps) - 1 if step is None else step
    if not -1 <= last < len(doc.steps):
        raise ValidationError(
            f"the flow has {len(doc.steps)} steps (0 to {len(doc.steps) - 1})", field="step"
        )
    partial = replace(doc, steps=doc.steps[: last + 1], fitted=None)
    return run_flow(partial, sample)[1].head(n)
