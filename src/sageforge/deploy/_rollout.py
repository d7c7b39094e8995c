"""Blue/green updates: all at once, canary or linear, with baking and automatic rollback.

The new fleet is started in full before it takes any traffic. Traffic then
moves in steps (one; canary then the rest; or n linear steps); after each step
the new fleet *bakes* for `wait_interval_in_seconds` while its own traffic
since the update began is checked against the rollback alarms every quarter
second. A breach sends all traffic back to the old fleet at once and retires
the new one. When the last step has baked (and `termination_wait_in_seconds`
has passed, still watched), the old fleet is drained and stopped.

Every step is a routing-table change pushed to every worker before the next
thing happens, and a fleet is stopped only once no table routes to it, so
traffic flowing through the endpoint during an update sees no failed request.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sageforge.deploy._fleet import Fleet
from sageforge.deploy._metrics import VariantStats
from sageforge.deploy._supervisor import EndpointRuntime, EndpointSupervisor

_CHECK_S = 0.25


@dataclass
class RolloutResult:
    """How an update ended: succeeded, or rolled back with the reason."""

    succeeded: bool
    reason: str | None = None
    steps: tuple[float, ...] = ()


def traffic_steps(routing: Mapping[str, Any], new_capacity: int) -> list[float]:
    """The new fleet's share after each step, ending at 1.0."""
    kind = routing.get("type", "ALL_AT_ONCE")
    if kind == "ALL_AT_ONCE":
        return [1.0]
    size = routing.get("canary_size" if kind == "CANARY" else "linear_step_size") or {}
    value = float(size.get("value", 100))
    share = value / max(1, new_capacity) if size.get("type") == "INSTANCE_COUNT" else value / 100.0
    share = min(1.0, max(share, 1e-6))
    if kind == "CANARY":
        return [share, 1.0] if share < 1.0 else [1.0]
    n = math.ceil(1.0 / share - 1e-9)
    return [min(1.0, share * (i + 1)) for i in range(n)]


def breached(alarms: list[Mapping[str, Any]], delta: VariantStats) -> str | None:
    """The first alarm the new fleet's traffic since the update breaches, as a sentence."""
    for alarm in alarms:
        if delta.invocations < int(alarm.get("min_invocations", 1)):
            continue
        metric = alarm.get("metric_name", "ErrorRate")
        statistic = alarm.get("statistic", "p99")
        threshold = float(alarm.get("threshold", 0.0))
        value: float | None
        unit = ""
        if metric == "ErrorRate":
            value = delta.error_rate
        elif metric == "Invocation5XXErrors":
            value = float(delta.errors_5xx)
        elif metric == "Invocation4XXErrors":
            value = float(delta.errors_4xx)
        else:
            hist = delta.model_latency if metric == "ModelLatency" else delta.overhead_latency
            summary = hist.summary_ms()
            value = summary["average" if statistic == "Average" else statistic]
            unit = " ms"
            if statistic == "Sum":
                value = hist.total * 1000
        if value is not None and value > threshold:
            return (
                f"alarm {alarm.get('alarm_name')!r}: {metric} ({statistic}) of the new fleet was "
                f"{value:.4g}{unit} over {delta.invocations} invocations, above {threshold:g}{unit}"
            )
    return None


def roll_out(
    supervisor: EndpointSupervisor,
    rt: EndpointRuntime,
    new: Fleet,
    policy: Mapping[str, Any],
    alarms: list[Mapping[str, Any]],
    progress: Callable[[str], None] = lambda _: None,
) -> RolloutResult:
    """Move the endpoint's traffic to `new`; see the module docstring."""
    old_ids = [fid for fid in rt.fleets if fid != new.id]
    routing = policy.get("traffic_routing_configuration") or {}
    wait_s = float(routing.get("wait_interval_in_seconds", 0.0))
    termination_s = float(policy.get("termination_wait_in_seconds", 0.0))
    capacity = sum(v.instance_count for v in new.production())
    steps = traffic_steps(routing, capacity)
    supervisor.scrape(rt, new.id)
    baseline = new.stats()

    def bake(seconds: float) -> str | None:
        deadline = time.monotonic() + seconds
        while True:
            if alarms:
                supervisor.scrape(rt, new.id)
                reason = breached(alarms, new.stats().minus(baseline))
                if reason:
                    return reason
            if time.monotonic() >= deadline:
                return None
            time.sleep(min(_CHECK_S, max(0.0, deadline - time.monotonic())))

    for i, share in enumerate(steps):
        shares = {new.id: share}
        for j, fid in enumerate(old_ids):
            shares[fid] = (1.0 - share) if j == 0 else 0.0
        supervisor.set_shares(rt, shares)
        progress(f"step {i + 1}/{len(steps)}: new fleet takes {share:.0%} of traffic")
        last = i == len(steps) - 1
        reason = bake(wait_s if not last else max(wait_s, termination_s))
        if reason is None and last and alarms and wait_s == 0 and termination_s == 0:
            reason = bake(0)
        if reason is not None:
            progress(f"rolling back: {reason}")
            if old_ids:
                supervisor.set_shares(rt, {old_ids[0]: 1.0, new.id: 0.0})
            supervisor.retire_fleet(rt, new.id)
            return RolloutResult(False, reason, tuple(steps))
    for fid in old_ids:
        supervisor.retire_fleet(rt, fid)
    progress("update complete: the old fleet is stopped")
    return RolloutResult(True, None, tuple(steps))
