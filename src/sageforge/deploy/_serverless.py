"""Serverless variants: no worker while idle, a cold start when a request arrives.

The endpoint's socket stays open in the server while the variant has no
worker, so a request that arrives then waits in the socket's queue; the
monitor sees the socket readable and starts a worker, which accepts it. A
variant is idle when none of its (ready) workers answered anything for
`idle_timeout_in_seconds`; its workers are drained like any others.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from typing import TYPE_CHECKING

from sageforge.deploy._fleet import Fleet, Variant, routing_table

if TYPE_CHECKING:
    from sageforge.deploy._supervisor import EndpointRuntime, EndpointSupervisor

log = logging.getLogger("sageforge.deploy")


def check_serverless(
    sup: EndpointSupervisor, rt: EndpointRuntime, fleet: Fleet, variant: Variant, *, scrape: bool
) -> None:
    """Scale an idle serverless variant to zero, or cold-start it when a connection waits."""
    assert variant.serverless is not None
    idle_s = float(variant.serverless.get("idle_timeout_in_seconds", 300.0))
    live = [w for w in variant.workers if not w.retiring]
    if live:
        if not scrape or any(w.ready_at is None for w in live):
            return  # a worker still loading its model is not idle
        for w in live:
            sup.launcher.scrape(w)
        last = max(
            [w.last_stats.last_invocation for w in live]
            + [w.ready_at or 0.0 for w in live]
            + [variant.retired.last_invocation]
        )
        if time.time() - last >= idle_s:
            log.info(
                "serverless %s/%s idle for %.0fs: scaling to zero",
                rt.name,
                variant.name,
                idle_s,
            )
            for w in live:
                w.retiring = True  # not a death: the monitor must not restart it
                threading.Thread(
                    target=sup._retire_worker, args=(variant, w), kwargs={"drain": True}
                ).start()
            variant.scaled_to_zero = True
        return
    readable, _, _ = select.select([rt.sock], [], [], 0)
    if not readable:
        return
    log.info("serverless %s/%s: cold start", rt.name, variant.name)
    with rt.lock:
        table = routing_table(list(rt.fleets.values()), rt.version)
        worker = sup._spawn(rt, fleet, variant, 0, table)
    variant.scaled_to_zero = False
    sup._restarting.add(id(worker))

    def ready() -> None:
        try:
            sup.launcher.wait_ready(worker)
        except Exception as exc:
            log.error("cold start of %s/%s failed: %s", rt.name, variant.name, exc)
        finally:
            sup._restarting.discard(id(worker))

    threading.Thread(target=ready, daemon=True).start()
