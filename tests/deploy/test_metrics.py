"""Latency histograms and counters: percentiles, merging, windows, Prometheus text."""

from __future__ import annotations

import numpy as np
import pytest

from sageforge.deploy._metrics import Histogram, VariantStats, merge, prometheus_text


def test_quantiles_are_within_one_bucket() -> None:
    rng = np.random.default_rng(0)
    values = rng.lognormal(mean=-7, sigma=1, size=5000)
    h = Histogram()
    for v in values:
        h.observe(float(v))
    for q in (0.5, 0.9, 0.99):
        assert h.quantile(q) == pytest.approx(float(np.quantile(values, q)), rel=0.05)
    assert Histogram().quantile(0.5) is None
    assert h.summary_ms()["average"] == pytest.approx(values.mean() * 1000, rel=1e-3)


def test_merge_and_window_and_wire_form() -> None:
    a, b = VariantStats(), VariantStats()
    for i in range(10):
        a.record(200, 0.001, 0.0015, 100.0 + i)
    b.record(500, 0.002, 0.003, 200.0)
    b.record(404, 0.0001, 0.0002, 201.0)
    total = merge([a, VariantStats.from_dict(b.to_dict())])
    assert (total.invocations, total.errors_4xx, total.errors_5xx) == (12, 1, 1)
    assert total.last_invocation == 201.0
    snapshot = total.copy()
    total.record(500, 0.01, 0.02, 300.0)
    window = total.minus(snapshot)
    assert window.invocations == 1 and window.error_rate == 1.0
    assert window.model_latency.quantile(0.5) == pytest.approx(0.01, rel=0.05)
    d = total.describe()
    assert d["invocation_5xx_errors"] == 2 and d["model_latency_ms"]["p99"] is not None


def test_prometheus_text() -> None:
    s = VariantStats()
    s.record(200, 0.001, 0.002, 1.0)
    text = prometheus_text({"ep": {"A": s}})
    assert 'sageforge_endpoint_invocations_total{endpoint="ep",variant="A"} 1' in text
    assert "# TYPE sageforge_endpoint_model_latency_seconds summary" in text
    assert 'sageforge_endpoint_overhead_latency_seconds_count{endpoint="ep",variant="A"} 1' in text
