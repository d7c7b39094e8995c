"""The supervisor's time series: one point per variant per period, deltas not totals."""

from __future__ import annotations

import socket
from pathlib import Path

import sqlalchemy as sa

from sageforge.core.db import Database
from sageforge.deploy._fleet import Fleet, Variant
from sageforge.deploy._models import EndpointMetricPoint
from sageforge.deploy._supervisor import EndpointSupervisor


def test_samples_are_per_period_deltas(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    sup = EndpointSupervisor(db, tmp_path.as_uri(), tmp_path / "endpoints")
    rt = sup.open("ep", None)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    variant = Variant("A", "m", [], 1.0, 1, False, sock)
    rt.fleets["f1"] = Fleet("f1", "c1", {}, {"A": variant}, share=1.0)
    for _ in range(5):
        variant.retired.record(200, 0.002, 0.003, 1.0)
    sup._sample(rt)
    variant.retired.record(500, 0.004, 0.005, 2.0)
    sup._sample(rt)
    with db.session() as s:
        points = list(s.scalars(sa.select(EndpointMetricPoint).order_by(EndpointMetricPoint.id)))
    assert [(p.variant, p.invocations, p.errors_5xx) for p in points] == [("A", 5, 0), ("A", 1, 1)]
    assert points[0].model_latency_ms["p50"] is not None
    sup.close_endpoint("ep")
    sock.close()
    sup.launcher.close()
    db.dispose()
