"""Forms for flow steps, generated from each transform's pydantic `Params` model.

Thirty step types would mean thirty hand-written forms that drift from the
engine. Instead each parameter's annotation picks its input: a column name
becomes a list of the columns present at that step, a list of columns a
multi-select, a Literal a select, a bool a checkbox, a number a number input,
and anything structured (mappings, lists of numbers) a JSON/comma-separated
text box. The same description parses the posted form back into parameters,
which the transform's own model then validates.
"""

from __future__ import annotations

import json
import re
import types
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic.fields import FieldInfo

from sageforge.data.flow import TRANSFORMS, Transform

COLUMN_PARAMS = frozenset({"column", "target", "stratify_column", "other"})
COLUMN_LIST_PARAMS = frozenset({"columns", "key_columns"})

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Columns", ("drop_columns", "rename_columns", "move_column", "duplicate_column", "cast")),
    ("Missing values", ("impute", "fill_missing", "missing_indicator", "drop_missing")),
    ("Text", ("format_string", "find_replace", "extract", "map_values")),
    ("Rows", ("drop_duplicates", "filter", "sort", "shuffle", "handle_outliers", "balance")),
    (
        "Encode and scale",
        ("one_hot_encode", "ordinal_encode", "target_encode", "scale", "bin", "log"),
    ),
    ("Featurize", ("featurize_datetime", "featurize_text")),
    ("Split", ("split",)),
    ("Custom", ("custom_sql", "custom_python")),
)
"""The catalogue as the builder shows it; types not listed land in 'Other'."""


@dataclass(frozen=True)
class ParamField:
    """How one parameter is shown and read back."""

    name: str
    label: str
    kind: Literal[
        "column", "columns", "select", "multiselect", "checkbox", "number", "text", "json", "list"
    ]
    required: bool
    default: Any
    options: tuple[str, ...] = ()
    help: str = ""
    numeric: type | None = None
    """`int` or `float` for number inputs and comma-separated number lists."""


def catalogue() -> list[tuple[str, list[tuple[str, str]]]]:
    """[(group, [(type, one-line description)])] of every registered step type."""
    seen: set[str] = set()
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for group, names in GROUPS:
        items = [(n, summary(TRANSFORMS[n])) for n in names if n in TRANSFORMS]
        seen.update(names)
        if items:
            out.append((group, items))
    rest = [(n, summary(c)) for n, c in sorted(TRANSFORMS.items()) if n not in seen]
    if rest:
        out.append(("Other", rest))
    return out


def summary(cls: type[Transform]) -> str:
    """The first sentence of a transform's docstring (what the catalogue shows)."""
    doc = " ".join((cls.__doc__ or "").split())
    if doc.startswith("See the module docstring"):
        import sys

        doc = " ".join((sys.modules[cls.__module__].__doc__ or "").split())
    first = re.split(r"(?<!e\.g)(?<!i\.e)\.\s+(?=[A-Z`(])", doc)[0].rstrip(".").replace("`", "")
    return first + "." if first else cls.type.replace("_", " ")


def title(step_type: str) -> str:
    return step_type.replace("_", " ").capitalize()


def _unwrap_optional(annotation: Any) -> Any:
    """`X | None` -> `X` (whether a parameter is required comes from its default)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(get_args(annotation)) == 2:
            return args[0]
    return annotation


def _field(name: str, info: FieldInfo) -> ParamField:
    annotation = _unwrap_optional(info.annotation)
    required = info.is_required()
    default = None if required else info.get_default(call_default_factory=True)
    label = name.replace("_", " ").capitalize()
    help_text = info.description or ""
    origin, args = get_origin(annotation), get_args(annotation)
    if name in COLUMN_PARAMS and annotation is str:
        return ParamField(name, label, "column", required, default, help=help_text)
    if name in COLUMN_LIST_PARAMS and origin is list:
        return ParamField(name, label, "columns", required, default, help=help_text)
    if origin is Literal:
        return ParamField(
            name, label, "select", required, default, tuple(str(a) for a in args), help_text
        )
    if origin is list and args and get_origin(args[0]) is Literal:
        options = tuple(str(a) for a in get_args(args[0]))
        return ParamField(name, label, "multiselect", required, default, options, help_text)
    if annotation is bool:
        return ParamField(name, label, "checkbox", required, default, help=help_text)
    if annotation in (int, float):
        return ParamField(
            name, label, "number", required, default, help=help_text, numeric=annotation
        )
    if origin is list and args and args[0] in (int, float, str):
        hint = "Comma-separated, e.g. " + ("0.7, 0.2, 0.1" if args[0] is not str else "a, b, c")
        return ParamField(
            name, label, "list", required, default, help=help_text or hint, numeric=args[0]
        )
    if origin is dict or (origin is list and args):
        example = {
            "mapping": '{"yes": 1, "no": 0}',
            "columns": '{"tenure": "int"}',
            "order": '{"contract": ["month-to-month", "one-year"]}',
        }.get(name, "{}")
        return ParamField(
            name, label, "json", required, default, help=help_text or f"JSON, e.g. {example}"
        )
    return ParamField(name, label, "text", required, default, help=help_text)


def param_fields(step_type: str) -> list[ParamField]:
    """The form of a step type, one field per parameter, in the model's order."""
    cls = TRANSFORMS[step_type]
    return [_field(n, f) for n, f in cls.Params.model_fields.items()]


def values_of(step_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """Form values showing `params` (defaults filled in for parameters left out)."""
    out: dict[str, Any] = {}
    for f in param_fields(step_type):
        v = params.get(f.name, f.default)
        if v is None:
            out[f.name] = ""
        elif f.kind == "json":
            out[f.name] = json.dumps(v)
        elif f.kind == "list":
            out[f.name] = ", ".join(str(x) for x in v)
        elif f.kind == "checkbox":
            out[f.name] = "true" if v else ""
        elif f.kind in ("columns", "multiselect"):
            out[f.name] = [str(x) for x in v]
        else:
            out[f.name] = str(v)
    return out


def parse_params(step_type: str, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(params, errors): the posted form as the step's parameters.

    Only what the form itself can tell is checked here (a number that is not a
    number, JSON that does not parse); the transform's model checks the rest.
    Empty optional inputs are left out so the model's defaults apply.
    """
    params: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in param_fields(step_type):
        raw = values.get(f.name)
        if f.kind in ("columns", "multiselect"):
            items = [str(x) for x in (raw if isinstance(raw, list) else [raw] if raw else [])]
            items = [x for x in items if x != ""]
            if items:
                params[f.name] = items
            elif f.required:
                errors[f.name] = "choose at least one" + (" column" if f.kind == "columns" else "")
            continue
        if f.kind == "checkbox":
            params[f.name] = str(raw or "").lower() in ("true", "on", "1", "yes")
            continue
        text = str(raw or "").strip()
        if text == "":
            if f.required:
                errors[f.name] = "is required"
            continue
        try:
            params[f.name] = _parse_text(f, text)
        except ValueError as exc:
            errors[f.name] = str(exc)
    return params, errors


def _parse_text(f: ParamField, text: str) -> Any:
    if f.kind == "number":
        try:
            return int(text) if f.numeric is int else float(text)
        except ValueError:
            raise ValueError(
                "must be a whole number" if f.numeric is int else "must be a number"
            ) from None
    if f.kind == "list":
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if f.numeric in (int, float):
            try:
                return [f.numeric(p) for p in parts]  # type: ignore[misc]
            except ValueError:
                raise ValueError("must be numbers separated by commas") from None
        return parts
    if f.kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not valid JSON ({exc.msg} at column {exc.colno})") from None
    if f.name == "value":  # fill_missing's constant: 0 is a number, "unknown" a string
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text
