"""Declared hyperparameters of a built-in algorithm, validated before a job starts.

SageMaker's API carries every hyperparameter as a string. A built-in declares
each one it accepts (type, default, range or choices); `validate` rejects an
unknown name or a bad value naming the parameter and what is allowed, and
returns typed values with the defaults filled in, so the algorithm's own code
never re-parses strings.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sageforge.core.errors import ValidationError

Kind = Literal["int", "float", "str", "bool", "categorical"]

_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


@dataclass(frozen=True)
class Hyperparameter:
    """One accepted hyperparameter.

    `low`/`high` bound numeric values (inclusive unless `low_open`/`high_open`);
    `choices` lists the allowed values of a categorical one. `tunable` says
    whether a tuning job may range over it.
    """

    name: str
    kind: Kind
    default: Any = None
    required: bool = False
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    tunable: bool = True
    help: str = ""

    def allowed(self) -> str:
        """Describe the allowed values in words, for error messages and docs."""
        if self.kind == "categorical":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "str":
            return "a string"
        noun = "an integer" if self.kind == "int" else "a number"
        if self.low is None and self.high is None:
            return noun
        lo = "" if self.low is None else f"{'>' if self.low_open else '>='} {_fmt(self.low)}"
        hi = "" if self.high is None else f"{'<' if self.high_open else '<='} {_fmt(self.high)}"
        return f"{noun} {' and '.join(p for p in (lo, hi) if p)}"

    def parse(self, raw: Any) -> Any:
        """Turn a (usually string) value into this parameter's type, or raise."""
        field_name = f"hyper_parameters.{self.name}"
        text = str(raw).strip()
        if self.kind == "categorical":
            if text not in self.choices:
                raise ValidationError(
                    f"{text!r} is not allowed; use {self.allowed()}", field=field_name
                )
            return text
        if self.kind == "str":
            return text
        if self.kind == "bool":
            low = text.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValidationError(f"{text!r} is not {self.allowed()}", field=field_name)
        try:
            number: float = float(text)
        except ValueError:
            raise ValidationError(f"{text!r} is not {self.allowed()}", field=field_name) from None
        if math.isnan(number) or math.isinf(number):
            raise ValidationError(f"{text!r} is not {self.allowed()}", field=field_name)
        if self.kind == "int":
            if number != int(number):
                raise ValidationError(f"{text!r} is not {self.allowed()}", field=field_name)
            number = int(number)
        if not self._in_range(number):
            raise ValidationError(f"{text} is out of range; use {self.allowed()}", field=field_name)
        return number

    def _in_range(self, v: float) -> bool:
        if self.low is not None and (v <= self.low if self.low_open else v < self.low):
            return False
        return not (self.high is not None and (v >= self.high if self.high_open else v > self.high))


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


@dataclass(frozen=True)
class HyperparameterSpec:
    """The full set of hyperparameters an algorithm accepts.

    `aliases` maps alternative names to canonical ones (XGBoost's `learning_rate`
    for `eta`, say); `ignored` names are accepted and dropped, for parameters the
    SageMaker SDK sends on its own (`sagemaker_*`).
    """

    params: Sequence[Hyperparameter]
    aliases: Mapping[str, str] = field(default_factory=dict)
    ignored_prefixes: tuple[str, ...] = ("sagemaker_",)

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate hyperparameter names in {names}")

    @property
    def by_name(self) -> dict[str, Hyperparameter]:
        """Parameters keyed by canonical name."""
        return {p.name: p for p in self.params}

    def names(self) -> list[str]:
        """Canonical names, in declaration order."""
        return [p.name for p in self.params]

    def validate(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Typed values for every declared parameter that is set or has a default.

        Raises ValidationError naming the first parameter at fault.
        """
        known = self.by_name
        out: dict[str, Any] = {}
        for name, value in raw.items():
            if any(name.startswith(p) for p in self.ignored_prefixes):
                continue
            canonical = self.aliases.get(name, name)
            spec = known.get(canonical)
            if spec is None:
                raise ValidationError(
                    _unknown_message(name, known), field=f"hyper_parameters.{name}"
                )
            if canonical in out:
                raise ValidationError(
                    f"given twice (as {canonical!r} and an alias)", field=f"hyper_parameters.{name}"
                )
            out[canonical] = spec.parse(value)
        for spec in self.params:
            if spec.name in out:
                continue
            if spec.required:
                raise ValidationError(
                    f"is required ({spec.allowed()})", field=f"hyper_parameters.{spec.name}"
                )
            if spec.default is not None:
                out[spec.name] = spec.default
        return out

    def describe(self) -> list[dict[str, Any]]:
        """A JSON-able table of the parameters, for docs, the CLI and Studio."""
        return [
            {
                "name": p.name,
                "type": p.kind,
                "default": p.default,
                "required": p.required,
                "allowed": p.allowed(),
                "tunable": p.tunable,
                "help": p.help,
            }
            for p in self.params
        ]


def _unknown_message(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown hyperparameter {name!r}.{hint} Accepted: {', '.join(sorted(known))}"
