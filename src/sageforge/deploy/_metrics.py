"""Per-variant counters and latency histograms: cheap to record, exact to merge.

A worker records each answer into fixed log-spaced buckets (5 % apart, from
10 µs to about a minute), so recording is one `bisect` and one increment, and
the histograms of every worker of a variant add up bucket by bucket into the
variant's — percentiles of the merged traffic are right, which averaging
per-worker percentiles would not be. The counters are cumulative since a
worker started; the supervisor keeps what retired workers had served, so a
variant's totals never go backwards.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_FIRST_S = 1e-5
_GROWTH = 1.05
BOUNDS: tuple[float, ...] = tuple(_FIRST_S * _GROWTH**i for i in range(320))
"""Upper bounds (seconds) of the latency buckets; one more bucket holds the rest."""
QUANTILES = (0.5, 0.9, 0.99)


class Histogram:
    """Counts of latencies per bucket; see the module docstring."""

    __slots__ = ("count", "counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BOUNDS) + 1)
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BOUNDS, seconds)] += 1
        self.count += 1
        self.total += seconds

    def to_dict(self) -> dict[str, Any]:
        """Sparse wire form: only the buckets that hold something."""
        return {
            "count": self.count,
            "sum": self.total,
            "buckets": {str(i): c for i, c in enumerate(self.counts) if c},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Histogram:
        h = cls()
        h.count = int(data.get("count", 0))
        h.total = float(data.get("sum", 0.0))
        for key, value in (data.get("buckets") or {}).items():
            h.counts[int(key)] = int(value)
        return h

    def add(self, other: Histogram) -> None:
        for i, c in enumerate(other.counts):
            if c:
                self.counts[i] += c
        self.count += other.count
        self.total += other.total

    def minus(self, earlier: Histogram) -> Histogram:
        """What was observed since `earlier` (a snapshot of the same histogram)."""
        h = Histogram()
        h.counts = [max(0, a - b) for a, b in zip(self.counts, earlier.counts, strict=True)]
        h.count = max(0, self.count - earlier.count)
        h.total = max(0.0, self.total - earlier.total)
        return h

    def quantile(self, q: float) -> float | None:
        """The q-quantile in seconds (the bucket's geometric middle), None when empty."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for i, c in enumerate(self.counts):
            seen += c
            if seen >= rank:
                upper = BOUNDS[i] if i < len(BOUNDS) else BOUNDS[-1]
                return upper / math.sqrt(_GROWTH) if i else upper
        return BOUNDS[-1]  # pragma: no cover

    def summary_ms(self) -> dict[str, float | None]:
        """p50/p90/p99 and the average, in milliseconds."""
        out: dict[str, float | None] = {}
        for q in QUANTILES:
            v = self.quantile(q)
            out[f"p{round(q * 100)}"] = None if v is None else round(v * 1000, 4)
        out["average"] = round(self.total / self.count * 1000, 4) if self.count else None
        return out


@dataclass
class VariantStats:
    """One variant's traffic as one worker (or a sum of workers) saw it."""

    invocations: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    model_latency: Histogram = field(default_factory=Histogram)
    overhead_latency: Histogram = field(default_factory=Histogram)
    last_invocation: float = 0.0

    def record(self, status: int, model_s: float, total_s: float, now: float) -> None:
        """One answered request: its status, time in the model, total time in the worker."""
        self.invocations += 1
        if status >= 500:
            self.errors_5xx += 1
        elif status >= 400:
            self.errors_4xx += 1
        self.model_latency.observe(model_s)
        self.overhead_latency.observe(max(0.0, total_s - model_s))
        self.last_invocation = now

    def to_dict(self) -> dict[str, Any]:
        return {
            "invocations": self.invocations,
            "errors_4xx": self.errors_4xx,
            "errors_5xx": self.errors_5xx,
            "model_latency": self.model_latency.to_dict(),
            "overhead_latency": self.overhead_latency.to_dict(),
            "last_invocation": self.last_invocation,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VariantStats:
        return cls(
            invocations=int(data.get("invocations", 0)),
            errors_4xx=int(data.get("errors_4xx", 0)),
            errors_5xx=int(data.get("errors_5xx", 0)),
            model_latency=Histogram.from_dict(data.get("model_latency") or {}),
            overhead_latency=Histogram.from_dict(data.get("overhead_latency") or {}),
            last_invocation=float(data.get("last_invocation", 0.0)),
        )

    def add(self, other: VariantStats) -> None:
        self.invocations += other.invocations
        self.errors_4xx += other.errors_4xx
        self.errors_5xx += other.errors_5xx
        self.model_latency.add(other.model_latency)
        self.overhead_latency.add(other.overhead_latency)
        self.last_invocation = max(self.last_invocation, other.last_invocation)

    def minus(self, earlier: VariantStats) -> VariantStats:
        return VariantStats(
            invocations=max(0, self.invocations - earlier.invocations),
            errors_4xx=max(0, self.errors_4xx - earlier.errors_4xx),
            errors_5xx=max(0, self.errors_5xx - earlier.errors_5xx),
            model_latency=self.model_latency.minus(earlier.model_latency),
            overhead_latency=self.overhead_latency.minus(earlier.overhead_latency),
            last_invocation=self.last_invocation,
        )

    def copy(self) -> VariantStats:
        out = VariantStats()
        out.add(self)
        return out

    @property
    def error_rate(self) -> float:
        """Share of answers that were 5xx (what a rollout's error alarm watches)."""
        return self.errors_5xx / self.invocations if self.invocations else 0.0

    def describe(self) -> dict[str, Any]:
        """The Describe shape: counts and latency summaries in milliseconds."""
        return {
            "invocations": self.invocations,
            "invocation_4xx_errors": self.errors_4xx,
            "invocation_5xx_errors": self.errors_5xx,
            "model_latency_ms": self.model_latency.summary_ms(),
            "overhead_latency_ms": self.overhead_latency.summary_ms(),
        }


def merge(stats: Iterable[VariantStats]) -> VariantStats:
    """The sum of several workers' stats."""
    total = VariantStats()
    for s in stats:
        total.add(s)
    return total


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(by_endpoint: Mapping[str, Mapping[str, VariantStats]]) -> str:
    """Prometheus exposition text: counters and latency summaries per endpoint and variant."""
    counters = (
        ("sageforge_endpoint_invocations_total", "Requests answered", "invocations"),
        ("sageforge_endpoint_invocation_4xx_errors_total", "4xx answers", "errors_4xx"),
        ("sageforge_endpoint_invocation_5xx_errors_total", "5xx answers", "errors_5xx"),
    )
    lines: list[str] = []
    for metric, help_text, attr in counters:
        lines += [f"# HELP {metric} {help_text}.", f"# TYPE {metric} counter"]
        for endpoint, variants in sorted(by_endpoint.items()):
            for variant, s in sorted(variants.items()):
                labels = f'endpoint="{_label(endpoint)}",variant="{_label(variant)}"'
                lines.append(f"{metric}{{{labels}}} {getattr(s, attr)}")
    summaries = (
        ("sageforge_endpoint_model_latency_seconds", "Time in the model", "model_latency"),
        ("sageforge_endpoint_overhead_latency_seconds", "Time added around the model", "overhead_latency"),
    )  # fmt: skip
    for metric, help_text, attr in summaries:
        lines += [f"# HELP {metric} {help_text}.", f"# TYPE {metric} summary"]
        for endpoint, variants in sorted(by_endpoint.items()):
            for variant, s in sorted(variants.items()):
                h: Histogram = getattr(s, attr)
                labels = f'endpoint="{_label(endpoint)}",variant="{_label(variant)}"'
                for q in QUANTILES:
                    v = h.quantile(q)
                    value = "NaN" if v is None else f"{v:.6g}"
                    lines.append(f'{metric}{{{labels},quantile="{q}"}} {value}')
                lines.append(f"{metric}_sum{{{labels}}} {h.total:.6g}")
                lines.append(f"{metric}_count{{{labels}}} {h.count}")
    return "\n".join(lines) + "\n"
