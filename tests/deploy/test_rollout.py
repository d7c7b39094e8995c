"""Deployment policies: traffic steps and rollback alarms; routing tables and picks."""

from __future__ import annotations

import collections
import socket

import pytest

from sageforge.deploy._dataplane import _Route
from sageforge.deploy._fleet import Fleet, Variant, routing_table
from sageforge.deploy._metrics import VariantStats
from sageforge.deploy._rollout import breached, traffic_steps


def test_traffic_steps() -> None:
    assert traffic_steps({"type": "ALL_AT_ONCE"}, 2) == [1.0]
    canary = {"type": "CANARY", "canary_size": {"type": "CAPACITY_PERCENT", "value": 10}}
    assert traffic_steps(canary, 2) == [0.1, 1.0]
    by_count = {"type": "CANARY", "canary_size": {"type": "INSTANCE_COUNT", "value": 1}}
    assert traffic_steps(by_count, 4) == [0.25, 1.0]
    linear = {"type": "LINEAR", "linear_step_size": {"type": "CAPACITY_PERCENT", "value": 30}}
    assert traffic_steps(linear, 1) == pytest.approx([0.3, 0.6, 0.9, 1.0])


def test_alarms() -> None:
    s = VariantStats()
    for _ in range(9):
        s.record(200, 0.005, 0.006, 0.0)
    s.record(500, 0.2, 0.21, 0.0)
    assert breached([{"alarm_name": "e", "metric_name": "ErrorRate", "threshold": 0.2}], s) is None
    reason = breached([{"alarm_name": "e", "metric_name": "ErrorRate", "threshold": 0.05}], s)
    assert reason is not None and "ErrorRate" in reason and "'e'" in reason
    slow = [
        {"alarm_name": "p99", "metric_name": "ModelLatency", "statistic": "p99", "threshold": 100}
    ]
    assert breached(slow, s) is not None
    assert breached([{**slow[0], "statistic": "p50"}], s) is None
    assert breached([{**slow[0], "min_invocations": 11}], s) is None


def _variant(name: str, weight: float, shadow: bool = False) -> Variant:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return Variant(name, "m", [], weight, 1, shadow, sock)


def test_routing_table_and_weighted_picks() -> None:
    old = Fleet("f1", "c1", {}, {"A": _variant("A", 1.0)}, share=0.75)
    new = Fleet("f2", "c2", {}, {"A": _variant("A", 1.0), "B": _variant("B", 3.0),
                                 "S": _variant("S", 2.0, shadow=True)}, share=0.25)  # fmt: skip
    table = routing_table([old, new], version=3)
    weights = {(t["fleet"], t["variant"]): t["weight"] for t in table["targets"]}
    assert weights == pytest.approx({("f1", "A"): 0.75, ("f2", "A"): 0.0625, ("f2", "B"): 0.1875})
    assert table["shadow"][0]["variant"] == "S" and table["shadow"][0]["fraction"] == 0.5
    route = _Route(table, ("f1", "A"))
    counts = collections.Counter(
        (t["fleet"], t["variant"]) for t in (route.pick(None) for _ in range(20000)) if t
    )
    assert counts[("f1", "A")] / 20000 == pytest.approx(0.75, abs=0.02)
    assert counts[("f2", "B")] / 20000 == pytest.approx(0.1875, abs=0.02)
    picked = route.pick("B")
    assert picked is not None and picked["variant"] == "B"
    assert route.pick("nope") is None
    for f in (old, new):
        for v in f.variants.values():
            v.sock.close()
