"""The flow document: a versioned JSON of a source, ordered steps and destinations.

```json
{"format_version": 1, "name": "churn-prep", "target": "churn",
 "source": {"dataset": "churn-raw"},
 "steps": [{"type": "drop_columns", "params": {"columns": ["customer_id"]}},
           {"type": "impute", "params": {"columns": ["tenure"], "strategy": "median"},
            "state": {"values": {"tenure": 29.0}}},
           {"type": "split", "params": {"fractions": [0.7, 0.2, 0.1]}}],
 "destinations": [{"url": "store://prepared/churn", "format": "xgboost"}],
 "fitted": {"input_schema": {...}, "output_schema": {...}, "split_counts": {...}}}
```

Parsing validates every step's parameters against its transform's model and
names the step in any error (`steps[3].params.strategy: step 3 (impute): …`),
so a bad flow is refused when it is saved, not half-way through an export.
`state` is present once the flow is fitted; `fitted` says on what.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal

import pydantic
from pydantic import Field

from sageforge.core.errors import ValidationError
from sageforge.core.spec import Spec
from sageforge.data.flow._base import TRANSFORMS, State, StepError, Transform

FORMAT_VERSION = 1
"""Version of the document's layout (not of a saved flow: that is `version`)."""

OutputFormat = Literal["parquet", "csv", "xgboost"]
OUTPUT_FORMATS = ("parquet", "csv", "xgboost")


class SourceSpec(Spec):
    """Where a flow's rows come from: a dataset resource, or a URL with read options."""

    dataset: str | None = None
    url: str | None = None
    read_options: dict[str, Any] = {}


class DestinationSpec(Spec):
    """Where an export writes each split: `<url>/<split>/part-00000.<ext>`.

    `xgboost` is CSV without a header with the target first (SageMaker's layout
    for the built-in XGBoost); `csv` has a header; `parquet` keeps the types.
    """

    url: Annotated[str, Field(min_length=1, max_length=1024)]
    format: OutputFormat = "parquet"
    splits: list[str] | None = None
    """Only these splits (default: every split)."""


class StepSpec(Spec):
    type: str
    params: dict[str, Any] = {}
    id: str | None = None
    """An optional label shown in previews and errors."""
    state: dict[str, Any] | None = None


class FlowSpec(Spec):
    format_version: Annotated[int, Field(ge=1, le=FORMAT_VERSION)] = FORMAT_VERSION
    name: str | None = None
    description: str = ""
    version: int | None = None
    source: SourceSpec | None = None
    target: str | None = None
    steps: Annotated[list[StepSpec], Field(max_length=500)] = []
    destinations: Annotated[list[DestinationSpec], Field(max_length=10)] = []
    fitted: dict[str, Any] | None = None


@dataclass(frozen=True)
class Step:
    """One parsed step: its transform (with validated parameters) and fitted state."""

    transform: Transform
    id: str | None = None
    state: State | None = None

    @property
    def type(self) -> str:
        return self.transform.type

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "params": self.transform.params.model_dump(mode="json", exclude_defaults=True),
        }
        if self.id:
            out["id"] = self.id
        if self.state is not None:
            out["state"] = self.state
        return out

    def label(self, index: int) -> str:
        """How messages name the step: `step 3 (impute)` or `step 3 'fill-age' (impute)`."""
        return (
            f"step {index} {self.id!r} ({self.type})" if self.id else f"step {index} ({self.type})"
        )


def build_step(index: int, spec: StepSpec | dict[str, Any]) -> Step:
    """A Step from its spec; ValidationError naming `steps[index]` and the parameter."""
    if isinstance(spec, dict):
        try:
            spec = StepSpec.model_validate(spec)
        except pydantic.ValidationError as exc:
            raise _pydantic_error(exc, f"steps[{index}]", f"step {index}") from None
    cls = TRANSFORMS.get(spec.type)
    if cls is None:
        known = ", ".join(sorted(TRANSFORMS))
        raise ValidationError(
            f"step {index}: unknown step type {spec.type!r}; known types: {known}",
            field=f"steps[{index}].type",
        )
    try:
        params = cls.Params.model_validate(spec.params)
    except pydantic.ValidationError as exc:
        label = (
            f"step {index} {spec.id!r} ({spec.type})" if spec.id else f"step {index} ({spec.type})"
        )
        raise _pydantic_error(
            exc, f"steps[{index}].params", label, list(cls.Params.model_fields)
        ) from None
    return Step(cls(params), id=spec.id, state=spec.state)


def _pydantic_error(
    exc: pydantic.ValidationError, prefix: str, label: str, known: list[str] | None = None
) -> ValidationError:
    # A misspelt parameter explains the "required" error beside it: report it first.
    errors = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
    first = errors[0]
    loc = ".".join(str(p) for p in first.get("loc", ()) if not str(p).startswith("function-"))
    msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    if first.get("type") == "extra_forbidden":
        import difflib

        close = difflib.get_close_matches(loc, known or [], n=1)
        msg = "is not a known parameter" + (f" (did you mean {close[0]!r}?)" if close else "")
    elif first.get("type") == "missing":
        msg = "is required"
    where = f"{prefix}.{loc}" if loc else prefix
    subject = f" {loc!r}" if loc else ""
    return ValidationError(f"{label}: parameter{subject} {msg}", field=where)


def step_error(index: int, step: Step, exc: Exception) -> ValidationError:
    """Any failure of a step as a ValidationError that names it."""
    if isinstance(exc, ValidationError):
        return exc
    param = exc.param if isinstance(exc, StepError) else None
    text = str(exc).strip().split("\n\n")[0].replace("\n", " ")
    field = f"steps[{index}]" + (f".params.{param}" if param else "")
    return ValidationError(f"{step.label(index)}: {text}", field=field)


@dataclass
class FlowDocument:
    """A parsed flow; `sageforge.data.flow.fit_transform` and friends run it."""

    steps: list[Step] = field(default_factory=list)
    name: str | None = None
    description: str = ""
    version: int | None = None
    source: SourceSpec | None = None
    target: str | None = None
    destinations: list[DestinationSpec] = field(default_factory=list)
    fitted: dict[str, Any] | None = None
    """Set by fitting: input/output schema, split counts, where the split was assigned."""

    @classmethod
    def from_dict(cls, data: Any) -> FlowDocument:
        """Parse and validate a document (a dict, as from JSON)."""
        if not isinstance(data, dict):
            raise ValidationError("a flow document must be a JSON object", field="flow")
        raw_steps = data.get("steps", [])
        shell = {k: v for k, v in data.items() if k != "steps"}
        try:
            spec = FlowSpec.model_validate({**shell, "steps": []})
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ()))
            msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
            if first.get("type") == "extra_forbidden":
                msg = "is not a known field of a flow document"
            raise ValidationError(msg, field=loc or "flow") from None
        if not isinstance(raw_steps, list):
            raise ValidationError("must be a list of steps", field="steps")
        steps = [build_step(i, s) for i, s in enumerate(raw_steps)]
        doc = cls(
            steps=steps,
            name=spec.name,
            description=spec.description,
            version=spec.version,
            source=spec.source,
            target=spec.target,
            destinations=list(spec.destinations),
            fitted=spec.fitted,
        )
        doc.check_structure()
        return doc

    @classmethod
    def from_json(cls, text: str | bytes) -> FlowDocument:
        """Parse a JSON text; a syntax error names its line and column."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", field="flow"
            ) from None
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able document (defaults of step parameters left out)."""
        out: dict[str, Any] = {"format_version": FORMAT_VERSION}
        if self.name:
            out["name"] = self.name
        if self.description:
            out["description"] = self.description
        if self.version is not None:
            out["version"] = self.version
        if self.source is not None:
            out["source"] = self.source.model_dump(mode="json", exclude_defaults=True)
        if self.target:
            out["target"] = self.target
        out["steps"] = [s.to_dict() for s in self.steps]
        out["destinations"] = [
            d.model_dump(mode="json", exclude_defaults=False) for d in self.destinations
        ]
        if self.fitted is not None:
            out["fitted"] = self.fitted
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    # -- structure ------------------------------------------------------------------

    def check_structure(self) -> None:
        """Rules across steps that need no data: at most one split, names of splits."""
        splits = [i for i, s in enumerate(self.steps) if s.type == "split"]
        if len(splits) > 1:
            raise ValidationError(
                f"a flow has at most one split step; steps {splits[0]} and {splits[1]} are splits",
                field=f"steps[{splits[1]}]",
            )
        names = self.split_names()
        for i, dest in enumerate(self.destinations):
            for name in dest.splits or []:
                if name not in names:
                    raise ValidationError(
                        f"no split named {name!r}; the flow's splits are {', '.join(names)}",
                        field=f"destinations[{i}].splits",
                    )
            if dest.format == "xgboost" and not self.target:
                raise ValidationError(
                    "the xgboost layout puts the target first: set the flow's target",
                    field=f"destinations[{i}].format",
                )

    @property
    def split_index(self) -> int | None:
        """Position of the split step, if any."""
        return next((i for i, s in enumerate(self.steps) if s.type == "split"), None)

    def split_names(self) -> list[str]:
        """The names the outputs get: the split's names, or `all` without a split."""
        at = self.split_index
        if at is None:
            return ["all"]
        return list(self.steps[at].transform.split_names)  # type: ignore[attr-defined]

    @property
    def is_fitted(self) -> bool:
        return self.fitted is not None and all(
            s.state is not None for s in self.steps if s.transform.stateful
        )

    def unfitted(self) -> FlowDocument:
        """A copy without learned state (to refit on other data)."""
        return replace(self, steps=[replace(s, state=None) for s in self.steps], fitted=None)

    def with_steps(self, steps: list[Step]) -> FlowDocument:
        """A copy with other steps (unfitted: the states no longer match)."""
        doc = replace(self, steps=list(steps), fitted=None)
        doc.check_structure()
        return doc
