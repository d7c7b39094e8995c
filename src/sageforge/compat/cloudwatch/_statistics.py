"""CloudWatch's statistics over samples, bucketed by period.

A sample is (time, value, weight): training metrics are plain observations
(weight 1); an endpoint's latency sample is one period's average over
`weight` invocations, so Average and SampleCount weigh it accordingly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sageforge.compat._errors import AwsError

MAX_DATAPOINTS = 1440
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")


@dataclass(frozen=True)
class Sample:
    """One observation of a metric."""

    time: float
    """Epoch seconds."""
    value: float
    weight: float = 1.0


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message)


def check_request(
    start: datetime, end: datetime, period: int, stats: Sequence[str], extended: Sequence[str]
) -> None:
    """CloudWatch's own checks of a GetMetricStatistics request."""
    if not stats and not extended:
        raise AwsError("MissingParameter", "Must specify either Statistics or ExtendedStatistics.")
    if period not in (1, 5, 10, 30) and period % 60:
        raise invalid("The parameter Period must be 1, 5, 10, 30, or a multiple of 60 (seconds).")
    if end <= start:
        raise invalid("The parameter StartTime must be less than the parameter EndTime.")
    for name in extended:
        if _percentile(name) is None:
            raise invalid(f"The value {name} for parameter ExtendedStatistics is not supported.")
    count = math.ceil((end - start).total_seconds() / period)
    if count > MAX_DATAPOINTS:
        raise AwsError(
            "InvalidParameterCombination",
            f"You have requested up to {count:,} datapoints, which exceeds the limit of "
            f"{MAX_DATAPOINTS:,}. You may reduce the datapoints requested by increasing "
            "Period, or decreasing the time range.",
        )


def _percentile(name: str) -> float | None:
    if not name.startswith("p"):
        return None
    try:
        value = float(name[1:])
    except ValueError:
        return None
    return value if 0 <= value <= 100 else None


def datapoints(
    samples: Iterable[Sample],
    *,
    start: datetime,
    end: datetime,
    period: int,
    stats: Sequence[str],
    extended: Sequence[str],
    unit: str,
) -> list[dict[str, Any]]:
    """One datapoint per period that holds samples in [start, end), oldest first."""
    lo, hi = start.timestamp(), end.timestamp()
    buckets: dict[int, list[Sample]] = {}
    for sample in samples:
        if lo <= sample.time < hi:
            buckets.setdefault(int(sample.time // period) * period, []).append(sample)
    out = []
    for when in sorted(buckets):
        group = buckets[when]
        point: dict[str, Any] = {"Timestamp": datetime.fromtimestamp(when, tz=UTC), "Unit": unit}
        weight = sum(s.weight for s in group)
        total = sum(s.value * s.weight for s in group)
        values = [s.value for s in group]
        computed = {
            "SampleCount": weight,
            "Sum": total,
            "Average": total / weight if weight else 0.0,
            "Minimum": min(values),
            "Maximum": max(values),
        }
        for name in stats:
            point[name] = float(computed[name])
        if extended:
            ordered = sorted(values)
            point["ExtendedStatistics"] = {
                name: _quantile(ordered, _percentile(name) or 0.0) for name in extended
            }
        out.append(point)
    return out


def _quantile(ordered: list[float], percent: float) -> float:
    """Nearest-rank percentile, as CloudWatch computes over raw samples."""
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return float(ordered[min(rank, len(ordered)) - 1])
