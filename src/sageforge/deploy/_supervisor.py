"""The server's side of endpoints: their sockets, fleets and workers, watched by one thread.

The supervisor owns every endpoint's listening socket for the life of the
server, so the endpoint URL never refuses a connection while workers come and
go: a connection waits in the socket's queue until some worker accepts it. The
monitor thread restarts a worker that dies (the endpoint stays InService on
its siblings meanwhile), scales serverless variants to zero when idle and
back up when a connection waits, and samples every variant's counters into
the time series Studio charts.

On server shutdown every worker is drained and stopped, so captured data is
flushed and nothing outlives the server; the endpoints stay InService in the
DB and the next server start brings them back on the same ports. Workers left
behind by a server that was killed are found by their recorded pid and start
time and ended before the endpoint is started again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from sageforge.core.db import Database, utcnow
from sageforge.deploy._fleet import (
    ENDPOINT_HOST,
    Fleet,
    Variant,
    Worker,
    WorkerLauncher,
    bind_socket,
    kill_orphan,
    new_fleet_id,
    routing_table,
)
from sageforge.deploy._metrics import VariantStats
from sageforge.deploy._models import EndpointMetricPoint, EndpointWorker
from sageforge.deploy._serverless import check_serverless

log = logging.getLogger("sageforge.deploy")

_TICK_S = 0.2
METRICS_PERIOD_S = float(os.environ.get("SAGEFORGE_ENDPOINT_METRICS_PERIOD_SECONDS", "10"))
HEALTH_PERIOD_S = float(os.environ.get("SAGEFORGE_WORKER_HEALTH_PERIOD_SECONDS", "5"))
HEALTH_FAILURES = 3
"""A live worker that misses this many /ping checks in a row (its event loop is stuck, or
the process is stopped) is killed, and restarted like one that died."""
_RESTART_WINDOW_S = 60.0
_MAX_RESTARTS = 5


@dataclass
class EndpointRuntime:
    """An endpoint's live parts: its socket and the fleets behind it."""

    name: str
    sock: socket.socket
    fleets: dict[str, Fleet] = field(default_factory=dict)
    version: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    last_sample: dict[str, VariantStats] = field(default_factory=dict)
    last_sample_time: float = field(default_factory=time.monotonic)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    @property
    def url(self) -> str:
        host = ENDPOINT_HOST if ":" not in ENDPOINT_HOST else f"[{ENDPOINT_HOST}]"
        return f"http://{host}:{self.port}"

    def workers(self) -> list[tuple[Fleet, Variant, Worker]]:
        return [
            (f, v, w) for f in self.fleets.values() for v in f.variants.values() for w in v.workers
        ]


class EndpointSupervisor:
    """See the module docstring."""

    def __init__(self, db: Database, store_url: str, root: Path) -> None:
        self.db = db
        self.root = root
        self.launcher = WorkerLauncher(store_url, root)
        self.runtimes: dict[str, EndpointRuntime] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._restarting: set[int] = set()

    # -- life of the supervisor -------------------------------------------------------------

    def start(self) -> None:
        self.kill_orphans()
        self._thread = threading.Thread(target=self._monitor, name="endpoint-monitor", daemon=True)
        self._thread.start()
        # Pings wait up to seconds on a stuck worker: their own thread keeps the monitor's
        # restarts and serverless scaling on time.
        threading.Thread(target=self._health, name="endpoint-health", daemon=True).start()

    def close(self) -> None:
        """Drain and stop every worker (in parallel), close every socket."""
        self._closing.set()
        if self._thread is not None:
            self._thread.join(5)
        threads = [
            threading.Thread(target=self.close_endpoint, args=(name,))
            for name in list(self.runtimes)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.launcher.close()

    def kill_orphans(self) -> None:
        """End workers recorded by a previous server that did not stop them."""
        with self.db.session() as s:
            rows = list(s.scalars(sa.select(EndpointWorker)))
            for row in rows:
                if kill_orphan(row.pid, row.pid_create_time):
                    log.warning("ended orphan worker %s of endpoint %s", row.pid, row.endpoint_name)
            s.execute(sa.delete(EndpointWorker))
            s.commit()

    # -- endpoints and fleets -----------------------------------------------------------------

    def open(self, name: str, port: int | None) -> EndpointRuntime:
        """Bind the endpoint's socket (its recorded port when it has one) and register it."""
        with self._lock:
            rt = self.runtimes.get(name)
            if rt is not None:
                return rt
            sock = None
            deadline = time.monotonic() + (5.0 if port else 0.0)
            while sock is None:
                try:
                    sock = bind_socket(ENDPOINT_HOST, port or 0)
                except OSError:
                    if time.monotonic() < deadline:
                        time.sleep(0.1)  # a process that held it may still be going away
                        continue
                    log.warning("port %s of endpoint %s is taken; using a new one", port, name)
                    sock = bind_socket(ENDPOINT_HOST, 0)
            rt = self.runtimes[name] = EndpointRuntime(name, sock)
            return rt

    def get(self, name: str) -> EndpointRuntime | None:
        return self.runtimes.get(name)

    def start_fleet(
        self,
        rt: EndpointRuntime,
        config_name: str,
        config: dict[str, Any],
        variants: list[dict[str, Any]],
    ) -> Fleet:
        """Start every worker of a new fleet (taking no traffic yet) and wait until all are ready."""
        fleet = Fleet(new_fleet_id(), config_name, config, {})
        for spec in variants:
            fleet.variants[spec["name"]] = Variant(
                name=spec["name"],
                model_name=spec["model_name"],
                containers=spec["containers"],
                weight=float(spec["weight"]),
                instance_count=int(spec["instance_count"]),
                shadow=bool(spec.get("shadow")),
                serverless=spec.get("serverless"),
                sock=bind_socket("127.0.0.1", 0),
            )
        with rt.lock:
            rt.fleets[fleet.id] = fleet
            table = routing_table(list(rt.fleets.values()), rt.version)
        try:
            started = [
                self._spawn(rt, fleet, v, slot, table)
                for v in fleet.variants.values()
                for slot in range(v.instance_count)
            ]
            for worker in started:
                self.launcher.wait_ready(worker)
        except Exception:
            self.retire_fleet(rt, fleet.id, drain=False)
            raise
        return fleet

    def _spawn(
        self, rt: EndpointRuntime, fleet: Fleet, variant: Variant, slot: int, table: dict[str, Any]
    ) -> Worker:
        worker = self.launcher.spawn(rt.name, rt.sock, fleet, variant, slot, table)
        variant.workers.append(worker)
        with self.db.session() as s:
            s.add(
                EndpointWorker(
                    endpoint_name=rt.name,
                    fleet=fleet.id,
                    variant=variant.name,
                    pid=worker.pid,
                    pid_create_time=worker.create_time,
                )
            )
            s.commit()
        return worker

    def _forget(self, worker: Worker) -> None:
        with self.db.session() as s:
            s.execute(sa.delete(EndpointWorker).where(EndpointWorker.pid == worker.pid))
            s.commit()

    def set_shares(self, rt: EndpointRuntime, shares: dict[str, float]) -> None:
        """Give fleets their traffic shares and make every worker route by them."""
        with rt.lock:
            for fleet_id, share in shares.items():
                rt.fleets[fleet_id].share = share
            self._push(rt)

    def _push(self, rt: EndpointRuntime) -> None:
        rt.version += 1
        table = routing_table(list(rt.fleets.values()), rt.version)
        threads = [
            threading.Thread(target=self.launcher.push_routing, args=(w, table))
            for _, _, w in rt.workers()
            if not w.retiring
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        # A worker that missed the table (restarting) gets it in its config when it starts.

    def set_weight(self, rt: EndpointRuntime, variant_name: str, weight: float) -> None:
        with rt.lock:
            for fleet in rt.fleets.values():
                if variant_name in fleet.variants:
                    fleet.variants[variant_name].weight = weight
            self._push(rt)

    def scale(self, rt: EndpointRuntime, fleet: Fleet, variant: Variant, count: int) -> None:
        """Run `count` workers for a variant: start new ones, or drain the extra ones."""
        with rt.lock:
            table = routing_table(list(rt.fleets.values()), rt.version)
            live = [w for w in variant.workers if not w.retiring]
            new = [
                self._spawn(
                    rt,
                    fleet,
                    variant,
                    max((w.slot for w in variant.workers), default=-1) + 1 + i,
                    table,
                )
                for i in range(count - len(live))
            ]
            extra = live[count:] if count < len(live) else []
            variant.instance_count = count
        for worker in new:
            self.launcher.wait_ready(worker)
        for worker in extra:
            self._retire_worker(variant, worker, drain=True)

    def _retire_worker(self, variant: Variant, worker: Worker, *, drain: bool) -> None:
        self.launcher.stop(worker, drain=drain)
        variant.retired.add(worker.last_stats)
        with contextlib.suppress(ValueError):
            variant.workers.remove(worker)
        self._forget(worker)

    def retire_fleet(self, rt: EndpointRuntime, fleet_id: str, *, drain: bool = True) -> None:
        """Take a fleet out of routing, drain and stop its workers, close its sockets."""
        with rt.lock:
            fleet = rt.fleets.get(fleet_id)
            if fleet is None:
                return
            if fleet.share > 0:
                fleet.share = 0.0
                self._push(rt)
        threads = [
            threading.Thread(target=self._retire_worker, args=(v, w), kwargs={"drain": drain})
            for v in fleet.variants.values()
            for w in list(v.workers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        with rt.lock:
            rt.fleets.pop(fleet_id, None)
        for v in fleet.variants.values():
            v.sock.close()

    def close_endpoint(self, name: str) -> None:
        """Stop every fleet of an endpoint and release its port."""
        rt = self.runtimes.get(name)
        if rt is None:
            return
        for fleet_id in list(rt.fleets):
            self.retire_fleet(rt, fleet_id)
        with self._lock:
            self.runtimes.pop(name, None)
        rt.sock.close()

    # -- metrics ------------------------------------------------------------------------------

    def scrape(self, rt: EndpointRuntime, fleet_id: str | None = None) -> None:
        """Refresh the counters of every live worker (of one fleet, when given)."""
        targets = [w for f, _, w in rt.workers() if fleet_id is None or f.id == fleet_id]
        threads = [threading.Thread(target=self.launcher.scrape, args=(w,)) for w in targets]
        for t in threads:
            t.start()
        for t in threads:
            t.join(5)

    def variant_stats(
        self, rt: EndpointRuntime, *, refresh: bool = True
    ) -> dict[str, VariantStats]:
        """Per variant name (fleets merged): everything answered since the endpoint started."""
        if refresh:
            self.scrape(rt)
        out: dict[str, VariantStats] = {}
        for fleet in list(rt.fleets.values()):
            for v in fleet.variants.values():
                out.setdefault(v.name, VariantStats()).add(v.stats())
        for name, stats in rt.last_sample.items():  # variants of fleets that are gone
            out.setdefault(name, stats.copy())
        return out

    def _sample(self, rt: EndpointRuntime) -> None:
        """Write one time-series point per variant: what happened since the last sample."""
        now = time.monotonic()
        period = now - rt.last_sample_time
        current = self.variant_stats(rt)
        points = []
        for name, stats in current.items():
            delta = stats.minus(rt.last_sample.get(name, VariantStats()))
            points.append(
                EndpointMetricPoint(
                    endpoint_name=rt.name,
                    variant=name,
                    timestamp=utcnow(),
                    period_s=round(period, 3),
                    invocations=delta.invocations,
                    errors_4xx=delta.errors_4xx,
                    errors_5xx=delta.errors_5xx,
                    model_latency_ms=delta.model_latency.summary_ms(),
                    overhead_latency_ms=delta.overhead_latency.summary_ms(),
                )
            )
        rt.last_sample, rt.last_sample_time = current, now
        with self.db.session() as s:
            s.add_all(points)
            s.commit()

    # -- the monitor --------------------------------------------------------------------------

    def _monitor(self) -> None:
        last_sample = time.monotonic()
        last_scrape = 0.0
        while not self._closing.wait(_TICK_S):
            now = time.monotonic()
            for rt in list(self.runtimes.values()):
                try:
                    self._check(rt, scrape_serverless=now - last_scrape >= 1.0)
                    if now - last_sample >= METRICS_PERIOD_S:
                        self._sample(rt)
                except Exception:
                    log.exception("watching endpoint %s failed", rt.name)
            if now - last_scrape >= 1.0:
                last_scrape = now
            if now - last_sample >= METRICS_PERIOD_S:
                last_sample = now

    def _check(self, rt: EndpointRuntime, *, scrape_serverless: bool) -> None:
        for fleet, variant, worker in rt.workers():
            if worker.retiring or id(worker) in self._restarting:
                continue
            rc = worker.proc.poll()
            if rc is None:
                continue
            log.warning(
                "worker %s of %s/%s exited with %s; restarting it",
                worker.pid, rt.name, variant.name, rc,
            )  # fmt: skip
            self._restart(rt, fleet, variant, worker)
        for fleet in list(rt.fleets.values()):
            for variant in fleet.variants.values():
                if variant.serverless is not None:
                    check_serverless(self, rt, fleet, variant, scrape=scrape_serverless)

    def _health(self) -> None:
        """Kill workers that are alive but no longer answer; `_check` then restarts them."""
        while not self._closing.wait(HEALTH_PERIOD_S):
            for rt in list(self.runtimes.values()):
                for _, variant, worker in rt.workers():
                    if (
                        worker.retiring
                        or id(worker) in self._restarting
                        or worker.ready_at is None
                        or worker.proc.poll() is not None
                    ):
                        continue
                    if self.launcher.answers(worker):
                        worker.failed_pings = 0
                        continue
                    worker.failed_pings += 1
                    if worker.failed_pings >= HEALTH_FAILURES and not self._closing.is_set():
                        log.warning(
                            "worker %s of %s/%s missed %d health checks; killing it to restart it",
                            worker.pid, rt.name, variant.name, worker.failed_pings,
                        )  # fmt: skip
                        # Not `launcher.kill`: that retires the worker, and a retired
                        # worker is not replaced.
                        with contextlib.suppress(ProcessLookupError):
                            os.killpg(worker.pid, signal.SIGKILL)

    def _restart(self, rt: EndpointRuntime, fleet: Fleet, variant: Variant, dead: Worker) -> None:
        now = time.monotonic()
        variant.restarts = [t for t in variant.restarts if now - t < _RESTART_WINDOW_S] + [now]
        variant.retired.add(dead.last_stats)
        dead.retiring = True
        with contextlib.suppress(ValueError):
            variant.workers.remove(dead)
        self._forget(dead)
        if len(variant.restarts) > _MAX_RESTARTS:
            time.sleep(min(5.0, 0.5 * len(variant.restarts)))  # crash loop: back off
        with rt.lock:
            if fleet.id not in rt.fleets:
                return
            table = routing_table(list(rt.fleets.values()), rt.version)
            worker = self._spawn(rt, fleet, variant, dead.slot, table)
        self._restarting.add(id(worker))

        def ready() -> None:
            try:
                self.launcher.wait_ready(worker)
                with rt.lock:
                    latest = routing_table(list(rt.fleets.values()), rt.version)
                self.launcher.push_routing(worker, latest)
            except Exception as exc:
                log.error("restarted worker of %s/%s failed: %s", rt.name, variant.name, exc)
            finally:
                self._restarting.discard(id(worker))

        threading.Thread(target=ready, daemon=True).start()
