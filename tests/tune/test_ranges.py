"""Ranges: parsing the short syntax, validation, and the Optuna round trip."""

from __future__ import annotations

import pytest

from sageforge.core.errors import ValidationError
from sageforge.tune import ParameterRange, parse_range, ranges_from_spec, ranges_to_spec


def test_short_syntax() -> None:
    eta = parse_range("eta=0.01..0.3:log")
    assert (eta.kind, eta.min_value, eta.max_value, eta.scaling) == (
        "continuous",
        0.01,
        0.3,
        "Logarithmic",
    )
    depth = parse_range("max_depth=3..10")
    assert (depth.kind, depth.effective_scaling) == ("integer", "Linear")
    booster = parse_range("booster=gbtree|dart")
    assert booster.values == ("gbtree", "dart")
    objective = parse_range("objective=binary:logistic|binary:hinge")
    assert objective.values == ("binary:logistic", "binary:hinge")
    assert parse_range("momentum=0.9..0.999:reverselog").scaling == "ReverseLogarithmic"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("eta=0.3..0.01", "greater than"),
        ("eta=0..0.3:log", "bounds > 0"),
        ("m=0.5..1.5:reverselog", "< 1"),
        ("eta", "NAME=LOW..HIGH"),
        ("eta=a..b", "not a number"),
        ("eta=0.1..0.2:cubic", "scaling type"),
    ],
)
def test_bad_ranges(text: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        parse_range(text)


def test_auto_scaling_goes_log_for_wide_positive_ranges() -> None:
    assert parse_range("lr=0.0001..0.1").effective_scaling == "Logarithmic"
    assert parse_range("lr=0.1..0.9").effective_scaling == "Linear"


def test_reverse_log_round_trip() -> None:
    r = parse_range("momentum=0.9..0.999:reverselog")
    d = r.distribution()
    assert d.log and d.low == pytest.approx(0.001) and d.high == pytest.approx(0.1)
    assert float(r.to_hyperparameter(0.01)) == pytest.approx(0.99)
    assert r.to_sampled("0.99") == pytest.approx(0.01)
    assert r.to_sampled("0.5") is None  # outside the range


def test_spec_round_trip_and_duplicates() -> None:
    ranges = [
        parse_range("eta=0.01..0.3:log"),
        parse_range("max_depth=3..10"),
        parse_range("b=x|y"),
    ]
    assert [r.name for r in ranges_from_spec(ranges_to_spec(ranges))] == ["eta", "max_depth", "b"]
    spec = ranges_to_spec([parse_range("a=1..2"), parse_range("a=3..4")])
    with pytest.raises(ValidationError, match="more than one range"):
        ranges_from_spec(spec)


def test_grid_values() -> None:
    assert ParameterRange("d", "integer", 2, 4).grid_values() == [2, 3, 4]
    with pytest.raises(ValidationError, match="cannot enumerate"):
        ParameterRange("x", "continuous", 0, 1).grid_values()
