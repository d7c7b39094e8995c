"""The JSONPath subset SageMaker's batch transform documents for InputFilter/OutputFilter.

Supported: `$` (everything), child keys (`$.features`, `$['id']`), several keys
(`$['id','SageMakerOutput']`, giving an object of those keys), indexes
(`$[0]`, `$[-1]`), index lists (`$[0,2,5]`) and slices (`$[1:]`, `$[:-1]`,
`$[2:4]`), chained (`$.features[1:]`). A CSV record is an array of its values,
so `$[1:]` drops a leading id column. Anything else is refused when the job is
created, with the supported forms in the message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sageforge.core.errors import ValidationError

_TOKEN = re.compile(
    r"""\.(?P<key>[A-Za-z_][A-Za-z0-9_\-]*)
      | \[(?P<bracket>[^\]]*)\]""",
    re.VERBOSE,
)
_HELP = "use $, $.key, $['a','b'], $[0], $[0,2], $[1:] or $[:-1] (optionally chained)"

Step = Callable[[Any], Any]


def compile_path(expr: str, field: str = "data_processing") -> Callable[[Any], Any]:
    """A function applying the JSONPath `expr` to a record; ValidationError if unsupported."""
    text = (expr or "$").strip()
    if not text.startswith("$"):
        raise ValidationError(f"{expr!r} must start with $; {_HELP}", field=field)
    steps: list[Step] = []
    pos = 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValidationError(
                f"{expr!r} is not supported at {text[pos:]!r}; {_HELP}", field=field
            )
        if m.group("key") is not None:
            steps.append(_key(m.group("key")))
        else:
            steps.append(_bracket(m.group("bracket").strip(), expr, field))
        pos = m.end()

    def apply(record: Any) -> Any:
        for step in steps:
            record = step(record)
        return record

    return apply


def _key(name: str) -> Step:
    def step(record: Any) -> Any:
        if not isinstance(record, dict) or name not in record:
            raise ValidationError(f"the record has no key {name!r}")
        return record[name]

    return step


def _bracket(inner: str, expr: str, field: str) -> Step:
    if inner == "*":
        return lambda r: r
    parts = [p.strip() for p in inner.split(",")]
    if all(_quoted(p) for p in parts):
        keys = [p[1:-1] for p in parts]
        if len(keys) == 1:
            return _key(keys[0])

        def pick_keys(record: Any) -> Any:
            if not isinstance(record, dict):
                raise ValidationError("a key filter needs a JSON object record")
            return {k: record[k] for k in keys if k in record}

        return pick_keys
    if len(parts) == 1 and ":" in parts[0]:
        bounds = parts[0].split(":")
        if len(bounds) != 2:
            raise ValidationError(f"{expr!r}: slice steps are not supported; {_HELP}", field=field)
        try:
            lo = int(bounds[0]) if bounds[0].strip() else None
            hi = int(bounds[1]) if bounds[1].strip() else None
        except ValueError:
            raise ValidationError(
                f"{expr!r}: slice bounds must be integers; {_HELP}", field=field
            ) from None
        return lambda r: _seq(r)[lo:hi]
    try:
        indexes = [int(p) for p in parts]
    except ValueError:
        raise ValidationError(
            f"{expr!r}: {inner!r} is not supported; {_HELP}", field=field
        ) from None
    if len(indexes) == 1:
        i = indexes[0]
        return lambda r: _index(_seq(r), i)
    return lambda r: [_index(_seq(r), i) for i in indexes]


def _quoted(text: str) -> bool:
    return len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""


def _seq(record: Any) -> list[Any]:
    if not isinstance(record, list):
        raise ValidationError("an index filter needs an array record (a CSV row or a JSON array)")
    return record


def _index(seq: list[Any], i: int) -> Any:
    try:
        return seq[i]
    except IndexError:
        raise ValidationError(f"the record has no index {i} (it has {len(seq)} values)") from None
