"""Fleets and workers: the processes behind an endpoint, and how they start, route and stop.

An endpoint runs one fleet per endpoint configuration it serves — one in
steady state, two while an update shifts traffic from the old to the new. A
fleet holds its variants; a variant holds its worker processes and the socket
they share. The traffic each fleet takes (its *share*) and the weights of its
variants compile into one routing table, which every worker of the endpoint
gets (`PUT /_sf/routing`) before anything depends on it.

Stopping a worker never fails a request: it is first taken out of every
routing table, then drained (it stops accepting, finishes what it has, and
answers with `Connection: close` so clients reconnect to a live worker), and
only then signalled.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from sageforge.deploy._metrics import VariantStats

log = logging.getLogger("sageforge.deploy")

READY_TIMEOUT_S = float(os.environ.get("SAGEFORGE_WORKER_READY_SECONDS", "180"))
DRAIN_MIN_S = float(os.environ.get("SAGEFORGE_DRAIN_MIN_SECONDS", "1.0"))
DRAIN_MAX_S = float(os.environ.get("SAGEFORGE_DRAIN_MAX_SECONDS", "30"))
ENDPOINT_HOST = os.environ.get("SAGEFORGE_ENDPOINT_HOST", "127.0.0.1")


class WorkerStartError(Exception):
    """A worker exited or stayed silent before it was ready; carries its log's tail."""


@dataclass
class Worker:
    """One worker process of a variant."""

    slot: int
    proc: subprocess.Popen[bytes]
    create_time: float
    cfg_path: Path
    ready_file: Path
    log_path: Path
    control_port: int | None = None
    retiring: bool = False
    started: float = field(default_factory=time.monotonic)
    ready_at: float | None = None
    """Wall-clock time the worker answered its first /ping (None while it loads)."""
    last_stats: VariantStats = field(default_factory=VariantStats)
    failed_pings: int = 0
    """Health checks missed in a row (see the supervisor's health thread)."""

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"


@dataclass
class Variant:
    """A variant of a fleet: its model, weight, wanted worker count and shared socket."""

    name: str
    model_name: str
    containers: list[dict[str, Any]]
    weight: float
    instance_count: int
    shadow: bool
    sock: socket.socket
    serverless: dict[str, Any] | None = None
    workers: list[Worker] = field(default_factory=list)
    retired: VariantStats = field(default_factory=VariantStats)
    restarts: list[float] = field(default_factory=list)
    scaled_to_zero: bool = False

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def stats(self) -> VariantStats:
        """Everything this variant answered: retired workers plus the live ones' last scrape."""
        total = self.retired.copy()
        for w in self.workers:
            total.add(w.last_stats)
        return total


@dataclass
class Fleet:
    """The workers serving one endpoint configuration."""

    id: str
    config_name: str
    config: dict[str, Any]
    variants: dict[str, Variant]
    share: float = 0.0

    def production(self) -> list[Variant]:
        return [v for v in self.variants.values() if not v.shadow]

    def stats(self) -> VariantStats:
        total = VariantStats()
        for v in self.production():
            total.add(v.stats())
        return total


def new_fleet_id() -> str:
    return "f" + uuid.uuid4().hex[:8]


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks one. Inheritable by workers through pass_fds."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def routing_table(fleets: list[Fleet], version: int) -> dict[str, Any]:
    """Every worker's view of where traffic goes: effective weights over (fleet, variant)."""
    targets: list[dict[str, Any]] = []
    shadows: list[dict[str, Any]] = []
    for fleet in fleets:
        if fleet.share <= 0:
            continue
        prod = fleet.production()
        total = sum(v.weight for v in prod)
        for v in prod:
            weight = fleet.share * v.weight / total if total > 0 else 0.0
            targets.append({"fleet": fleet.id, "variant": v.name, "port": v.port, "weight": weight})
        for v in fleet.variants.values():
            if v.shadow and total > 0:
                fraction = min(1.0, v.weight / total)
                shadows.append({"fleet": fleet.id, "variant": v.name, "port": v.port,
                                "fraction": fraction})  # fmt: skip
    return {"version": version, "targets": targets, "shadow": shadows}


class WorkerLauncher:
    """Starts, checks and stops worker processes (no endpoint bookkeeping)."""

    def __init__(self, store_url: str, root: Path) -> None:
        self.store_url = store_url
        self.root = root
        self.http = httpx.Client(timeout=5.0, trust_env=False)

    def spawn(
        self,
        endpoint: str,
        endpoint_sock: socket.socket,
        fleet: Fleet,
        variant: Variant,
        slot: int,
        routing: dict[str, Any],
    ) -> Worker:
        """Launch one worker process (it loads its model, then announces itself)."""
        wdir = self.root / endpoint / fleet.id / f"{variant.name}-{slot}"
        wdir.mkdir(parents=True, exist_ok=True)
        ready = wdir / "ready.json"
        ready.unlink(missing_ok=True)
        log_path = self.root / endpoint / "logs" / f"{variant.name}-{fleet.id}-{slot}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        fds = [variant.sock.fileno()]
        if not variant.shadow:
            fds.append(endpoint_sock.fileno())
        cfg = {
            "endpoint": endpoint,
            "variant": variant.name,
            "fleet": fleet.id,
            "slot": slot,
            "containers": variant.containers,
            "environment": _environment(variant.containers),
            "store_url": self.store_url,
            "capture": fleet.config.get("capture"),
            "endpoint_fd": None if variant.shadow else endpoint_sock.fileno(),
            "variant_fd": variant.sock.fileno(),
            "ready_file": str(ready),
            "workdir": str(wdir / "work"),
            "routing": routing,
            "max_concurrency": (variant.serverless or {}).get("max_concurrency"),
        }
        cfg_path = wdir / "worker.json"
        cfg_path.write_text(json.dumps(cfg, indent=1))
        env = {**os.environ, "SAGEFORGE_WORKER_LOG": str(log_path), "PYTHONUNBUFFERED": "1"}
        with open(log_path, "ab") as logf:
            proc = subprocess.Popen(
                [sys.executable, "-m", "sageforge.deploy._worker", str(cfg_path)],
                env=env,
                cwd=str(wdir),
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                pass_fds=fds,
                start_new_session=True,
            )
        try:
            create_time = psutil.Process(proc.pid).create_time()
        except psutil.NoSuchProcess:
            create_time = time.time()
        return Worker(slot, proc, create_time, cfg_path, ready, log_path)

    def wait_ready(self, worker: Worker, timeout: float = READY_TIMEOUT_S) -> None:
        """Block until the worker answers /ping on its control port, or raise WorkerStartError."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc = worker.proc.poll()
            if rc is not None:
                raise WorkerStartError(
                    f"the worker exited with code {rc} while loading the model: "
                    f"{tail(worker.log_path)}"
                )
            if worker.control_port is None and worker.ready_file.exists():
                with contextlib.suppress(ValueError, OSError):
                    worker.control_port = int(
                        json.loads(worker.ready_file.read_text())["control_port"]
                    )
            if worker.control_port is not None:
                with contextlib.suppress(httpx.HTTPError):
                    if self.http.get(f"{worker.control_url}/ping", timeout=2).status_code == 200:
                        worker.ready_at = time.time()
                        return
            time.sleep(0.02)
        self.kill(worker)
        raise WorkerStartError(
            f"the worker was not ready after {timeout:g}s: {tail(worker.log_path)}"
        )

    def answers(self, worker: Worker, timeout: float = 2.0) -> bool:
        """Whether the worker's control port answers /ping within `timeout`."""
        if worker.control_port is None:
            return False
        try:
            return self.http.get(f"{worker.control_url}/ping", timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False

    def push_routing(self, worker: Worker, table: dict[str, Any]) -> bool:
        """Give one worker the routing table; False if it did not take it (it is gone)."""
        if worker.control_port is None or worker.proc.poll() is not None:
            return False
        try:
            r = self.http.put(f"{worker.control_url}/_sf/routing", content=json.dumps(table))
            return r.status_code == 200
        except httpx.HTTPError:
            return False

    def scrape(self, worker: Worker) -> dict[str, Any] | None:
        """The worker's counters (and in-flight count), or None if it does not answer."""
        if worker.control_port is None or worker.proc.poll() is not None:
            return None
        try:
            r = self.http.get(f"{worker.control_url}/_sf/stats", timeout=2)
        except httpx.HTTPError:
            return None
        if r.status_code != 200:
            return None
        doc: dict[str, Any] = r.json()
        worker.last_stats = VariantStats.from_dict(doc["stats"])
        return doc

    def stop(self, worker: Worker, *, drain: bool = True) -> None:
        """Drain (unless told not to), then SIGTERM; SIGKILL if it outlives the grace period."""
        worker.retiring = True
        if drain and worker.proc.poll() is None and worker.control_port is not None:
            with contextlib.suppress(httpx.HTTPError):
                self.http.post(f"{worker.control_url}/_sf/drain")
            started = time.monotonic()
            while time.monotonic() - started < DRAIN_MAX_S:
                doc = self.scrape(worker)
                if doc is None or (
                    doc["inflight"] == 0 and time.monotonic() - started >= DRAIN_MIN_S
                ):
                    break
                time.sleep(0.05)
        else:
            self.scrape(worker)
        if worker.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                worker.proc.send_signal(signal.SIGTERM)
        try:
            worker.proc.wait(float(os.environ.get("SAGEFORGE_WORKER_GRACE_SECONDS", "10")) + 5)
        except subprocess.TimeoutExpired:
            self.kill(worker)

    def kill(self, worker: Worker) -> None:
        worker.retiring = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.proc.wait(5)

    def close(self) -> None:
        self.http.close()


def _environment(containers: list[dict[str, Any]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for c in containers:
        env.update({str(k): str(v) for k, v in (c.get("environment") or {}).items()})
    return env


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log, for a failure reason."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:]) or "(empty log)"


def kill_orphan(pid: int, create_time: float) -> bool:
    """End a worker left behind by a server that died; True if one was found."""
    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - create_time) > 1.0:
            return False
        os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(psutil.TimeoutExpired):
            proc.wait(10)  # gone before its port is bound again
        return True
    except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError, PermissionError):
        return False
