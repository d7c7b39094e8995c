"""Hyperparameter ranges: SageMaker's three kinds, their scalings, and Optuna's view of them.

SageMaker sends range bounds as strings; a `ParameterRange` holds them typed
and validated (min <= max, positive bounds for a log scale, [0, 1) for a
reverse-log one), turns itself into an Optuna distribution, and maps a sampled
value back to the hyperparameter string a training job receives.

ReverseLogarithmic (values crowding near 1, e.g. a momentum of 0.99) is
sampled as 1 - x with x log-uniform on (1 - max, 1 - min].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from sageforge.core.errors import ValidationError

Scaling = Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"]
Kind = Literal["continuous", "integer", "categorical"]

_SCALING_WORDS: dict[str, Scaling] = {
    "auto": "Auto",
    "linear": "Linear",
    "lin": "Linear",
    "log": "Logarithmic",
    "logarithmic": "Logarithmic",
    "reverselog": "ReverseLogarithmic",
    "reverselogarithmic": "ReverseLogarithmic",
}


@dataclass(frozen=True)
class ParameterRange:
    """One tuned hyperparameter."""

    name: str
    kind: Kind
    min_value: float = 0.0
    max_value: float = 0.0
    scaling: Scaling = "Auto"
    values: tuple[str, ...] = ()

    @property
    def effective_scaling(self) -> Scaling:
        """What Auto means here: logarithmic for positive ranges spanning 100x or more."""
        if self.scaling != "Auto":
            return self.scaling
        if (
            self.kind != "categorical"
            and self.min_value > 0
            and self.max_value / self.min_value >= 100
        ):
            return "Logarithmic"
        return "Linear"

    def validate(self, field: str) -> None:
        """Raise ValidationError (naming `field`) for an impossible range."""
        if self.kind == "categorical":
            if not self.values:
                raise ValidationError("a categorical range needs at least one value", field=field)
            if len(set(self.values)) != len(self.values):
                raise ValidationError("categorical values must be distinct", field=field)
            return
        lo, hi = self.min_value, self.max_value
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValidationError("bounds must be finite numbers", field=field)
        if lo > hi:
            raise ValidationError(
                f"min_value {_fmt(lo)} is greater than max_value {_fmt(hi)}", field=field
            )
        scaling = self.scaling
        if scaling == "Logarithmic" and lo <= 0:
            raise ValidationError(
                f"a Logarithmic scale needs bounds > 0; min_value is {_fmt(lo)}", field=field
            )
        if scaling == "ReverseLogarithmic":
            if self.kind == "integer":
                raise ValidationError(
                    "ReverseLogarithmic applies to continuous ranges only", field=field
                )
            if not (lo >= 0 and hi < 1):
                raise ValidationError(
                    "a ReverseLogarithmic scale needs 0 <= min_value <= max_value < 1", field=field
                )

    def distribution(self) -> Any:
        """The Optuna distribution to sample from (see the module docstring)."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        if self.kind == "categorical":
            return CategoricalDistribution(list(self.values))
        scaling = self.effective_scaling
        if self.kind == "integer":
            return IntDistribution(
                int(self.min_value), int(self.max_value), log=scaling == "Logarithmic"
            )
        if scaling == "ReverseLogarithmic":
            return FloatDistribution(1 - self.max_value, 1 - self.min_value, log=True)
        if self.min_value == self.max_value:
            return FloatDistribution(self.min_value, self.max_value)
        return FloatDistribution(self.min_value, self.max_value, log=scaling == "Logarithmic")

    def to_hyperparameter(self, sampled: Any) -> str:
        """The string a training job receives for a sampled value."""
        if self.kind == "categorical":
            return str(sampled)
        if self.kind == "integer":
            return str(int(sampled))
        value = (
            1 - float(sampled) if self.effective_scaling == "ReverseLogarithmic" else float(sampled)
        )
        return repr(value)

    def to_sampled(self, hyperparameter: str) -> Any | None:
        """The inverse of `to_hyperparameter`, or None if the value lies outside this range."""
        try:
            if self.kind == "categorical":
                return hyperparameter if hyperparameter in self.values else None
            value = float(hyperparameter)
        except ValueError:
            return None
        if not self.min_value <= value <= self.max_value:
            return None
        if self.kind == "integer":
            return int(value)
        return 1 - value if self.effective_scaling == "ReverseLogarithmic" else value

    def grid_values(self) -> list[Any]:
        """Every value Grid search visits (categorical values, or each integer)."""
        if self.kind == "categorical":
            return list(self.values)
        if self.kind == "integer":
            return list(range(int(self.min_value), int(self.max_value) + 1))
        raise ValidationError(
            f"{self.name}: Grid search cannot enumerate a continuous range; use integer or "
            "categorical ranges, or another strategy",
            field="parameter_ranges",
        )

    def to_spec(self) -> dict[str, Any]:
        """SageMaker's range structure (snake_case), with bounds as strings."""
        if self.kind == "categorical":
            return {"name": self.name, "values": list(self.values)}
        cast = int if self.kind == "integer" else float
        return {
            "name": self.name,
            "min_value": str(cast(self.min_value)),
            "max_value": str(cast(self.max_value)),
            "scaling_type": self.scaling,
        }


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def ranges_from_spec(spec: dict[str, Any]) -> list[ParameterRange]:
    """Typed ranges from `{integer_parameter_ranges, continuous_parameter_ranges, categorical_parameter_ranges}`."""
    out: list[ParameterRange] = []
    seen: set[str] = set()
    for key, kind in (
        ("continuous_parameter_ranges", "continuous"),
        ("integer_parameter_ranges", "integer"),
        ("categorical_parameter_ranges", "categorical"),
    ):
        for i, item in enumerate(spec.get(key) or []):
            field = f"hyper_parameter_tuning_job_config.parameter_ranges.{key}[{i}]"
            name = str(item.get("name", ""))
            if not name:
                raise ValidationError("a range needs a name", field=f"{field}.name")
            if name in seen:
                raise ValidationError(
                    f"{name!r} is given more than one range", field=f"{field}.name"
                )
            seen.add(name)
            if kind == "categorical":
                r = ParameterRange(
                    name, "categorical", values=tuple(str(v) for v in item.get("values") or [])
                )
            else:
                r = ParameterRange(
                    name,
                    kind,  # type: ignore[arg-type]
                    _number(item.get("min_value"), kind, f"{field}.min_value"),
                    _number(item.get("max_value"), kind, f"{field}.max_value"),
                    _scaling(item.get("scaling_type", "Auto"), f"{field}.scaling_type"),
                )
            r.validate(field)
            out.append(r)
    return out


def _number(raw: Any, kind: str, field: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValidationError(f"{raw!r} is not a number", field=field) from None
    if kind == "integer" and not value.is_integer():
        raise ValidationError(f"{raw!r} is not an integer", field=field)
    return value


def _scaling(raw: Any, field: str) -> Scaling:
    word = str(raw or "Auto").replace("-", "").replace("_", "").lower()
    if word not in _SCALING_WORDS:
        raise ValidationError(
            f"{raw!r} is not a scaling type; use Auto, Linear, Logarithmic or ReverseLogarithmic",
            field=field,
        )
    return _SCALING_WORDS[word]


def parse_range(text: str) -> ParameterRange:
    """A range from the short syntax: `eta=0.01..0.3:log`, `max_depth=3..10`, `booster=gbtree|dart`."""
    name, sep, body = text.partition("=")
    name = name.strip()
    if not sep or not name or not body:
        raise ValidationError(
            f"{text!r}: write NAME=LOW..HIGH[:log|linear|reverselog] or NAME=A|B|C", field="ranges"
        )
    if ".." in body:
        bounds, _, scaling = body.partition(":")
        low, _, high = bounds.partition("..")
        is_int = all(_looks_int(v) for v in (low, high))
        kind: Kind = "integer" if is_int else "continuous"
        r = ParameterRange(
            name,
            kind,
            _number(low.strip(), kind, f"ranges.{name}"),
            _number(high.strip(), kind, f"ranges.{name}"),
            _scaling(scaling or "Auto", f"ranges.{name}"),
        )
    else:
        sep_char = "|" if "|" in body else ","
        r = ParameterRange(
            name, "categorical", values=tuple(v.strip() for v in body.split(sep_char) if v.strip())
        )
    r.validate(f"ranges.{name}")
    return r


def _looks_int(text: str) -> bool:
    text = text.strip()
    return text.lstrip("+-").isdigit()


def ranges_to_spec(ranges: list[ParameterRange]) -> dict[str, list[dict[str, Any]]]:
    """The `parameter_ranges` structure for a list of ranges."""
    spec: dict[str, list[dict[str, Any]]] = {
        "continuous_parameter_ranges": [],
        "integer_parameter_ranges": [],
        "categorical_parameter_ranges": [],
    }
    for r in ranges:
        spec[f"{r.kind}_parameter_ranges"].append(r.to_spec())
    return spec
