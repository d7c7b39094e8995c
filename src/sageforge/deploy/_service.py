"""Endpoints as resources: create, describe, list, update, re-weight, delete, restore.

Every change that starts or stops processes runs in a background thread and
shows in the status (Creating, Updating, Deleting, SystemUpdating while a
restarted server brings the endpoint back), so API calls answer at once and
the SDK waits on the status as it does for SageMaker. One operation at a time
per endpoint: a second one while the first runs is ResourceInUse.
"""

from __future__ import annotations

import builtins
import logging
import os
import threading
import time
from typing import Any

import sqlalchemy as sa

from sageforge.core.db import Database, Tag, utcnow
from sageforge.core.errors import (
    ResourceInUse,
    ResourceLimitExceeded,
    ResourceNotFound,
    ValidationError,
)
from sageforge.core.jobs import job_tags
from sageforge.core.names import make_arn, validate_name
from sageforge.deploy._capture import capture_settings
from sageforge.deploy._models import Endpoint, EndpointMetricPoint, EndpointWorker
from sageforge.deploy._resources import EndpointConfigService, ModelService, page
from sageforge.deploy._rollout import roll_out
from sageforge.deploy._spec import (
    CreateEndpoint,
    UpdateEndpoint,
    UpdateEndpointWeightsAndCapacities,
)
from sageforge.deploy._supervisor import EndpointSupervisor

log = logging.getLogger("sageforge.deploy")

CREATING, IN_SERVICE, UPDATING = "Creating", "InService", "Updating"
SYSTEM_UPDATING, DELETING, FAILED = "SystemUpdating", "Deleting", "Failed"
BUSY = (CREATING, UPDATING, SYSTEM_UPDATING, DELETING)
MAX_WORKERS = int(
    os.environ.get("SAGEFORGE_MAX_ENDPOINT_WORKERS", str(max(8, 4 * (os.cpu_count() or 1))))
)
"""Worker processes all endpoints may run at once (serverless ones aside): SageMaker's
instance quota, here to keep a laptop from starting more model copies than it can hold."""


class EndpointService:
    """See the module docstring."""

    def __init__(
        self,
        db: Database,
        supervisor: EndpointSupervisor,
        models: ModelService,
        configs: EndpointConfigService,
    ) -> None:
        self.db = db
        self.supervisor = supervisor
        self.models = models
        self.configs = configs
        self._ops: dict[str, threading.Thread] = {}
        self._changed = threading.Condition()

    # -- reading ------------------------------------------------------------------------------

    def get(self, name: str) -> Endpoint:
        with self.db.session() as s:
            row = s.scalar(sa.select(Endpoint).where(Endpoint.name == name))
        if row is None:
            raise ResourceNotFound(f"no endpoint named {name!r}", field="endpoint_name")
        return row

    def describe(self, name: str, *, metrics: bool = True) -> dict[str, Any]:
        row = self.get(name)
        state = row.state or {}
        config = self._config_of(row.config_name, state)
        rt = self.supervisor.get(name)
        stats = self.supervisor.variant_stats(rt) if (rt is not None and metrics) else {}
        variants = []
        for v in state.get("variants") or []:
            entry = dict(v)
            serverless = entry.pop("serverless", None)
            if serverless:
                entry["current_serverless_config"] = serverless
                entry["current_instance_count"] = self._live_workers(name, v["variant_name"])
            variants.append(entry)
        capture = config.get("data_capture_config")
        out: dict[str, Any] = {
            "endpoint_name": row.name,
            "endpoint_arn": row.arn,
            "endpoint_config_name": row.config_name,
            "endpoint_status": row.status,
            "failure_reason": row.failure_reason,
            "endpoint_url": rt.url if rt is not None else None,
            "invocation_path": f"/endpoints/{row.name}/invocations",
            "production_variants": [v for v in variants if not v.get("shadow")],
            "shadow_production_variants": [v for v in variants if v.get("shadow")],
            "data_capture_config": {
                "enable_capture": capture.get("enable_capture", True),
                "capture_status": "Started" if capture.get("enable_capture", True) else "Stopped",
                "current_sampling_percentage": capture.get("initial_sampling_percentage"),
                "destination_s3_uri": capture.get("destination_s3_uri"),
            }
            if capture
            else None,
            "async_inference_config": config.get("async_inference_config"),
            "last_deployment_config": (row.spec or {}).get("deployment_config"),
            "last_deployment": state.get("last_deployment"),
            "creation_time": row.creation_time,
            "last_modified_time": row.last_modified_time,
            "tags": job_tags(self.db, row.arn),
        }
        if metrics:
            out["metrics"] = {variant: s.describe() for variant, s in sorted(stats.items())}
        return out

    def _check_worker_limit(self, name: str, wanted: int, field: str) -> None:
        """Refuse what would take every endpoint's workers past MAX_WORKERS, as SageMaker
        refuses instances past the account's quota."""
        with self.db.session() as s:
            rows = list(s.scalars(sa.select(Endpoint).where(Endpoint.status.not_in((FAILED, DELETING)))))  # fmt: skip
        used = 0
        for row in rows:
            if row.name == name:
                continue
            variants = (row.state or {}).get("variants")
            if variants:
                used += sum(int(v.get("desired_instance_count") or 0) for v in variants
                            if not v.get("serverless"))  # fmt: skip
            else:  # still Creating: count what its config asks for
                used += _config_workers(self._config_of(row.config_name, row.state or {}))
        if used + wanted > MAX_WORKERS:
            raise ResourceLimitExceeded(
                f"the limit of worker processes for endpoints is {MAX_WORKERS} "
                f"(SAGEFORGE_MAX_ENDPOINT_WORKERS), with {used} in use and {wanted} asked for "
                "by this request; delete or scale down an endpoint first",
                field=field,
            )

    def _config_of(self, config_name: str, state: dict[str, Any]) -> dict[str, Any]:
        """The endpoint's config: its row, or the deployed snapshot once the row is deleted."""
        try:
            return dict(self.configs.get(config_name).spec)
        except ResourceNotFound:
            deployed = state.get("deployed") or {}
            if deployed.get("endpoint_config_name") == config_name:
                return dict(deployed["config"])
            return {}

    def _live_workers(self, name: str, variant: str) -> int:
        rt = self.supervisor.get(name)
        if rt is None:
            return 0
        return sum(1 for _, v, w in rt.workers() if v.name == variant and not w.retiring)

    def list(
        self,
        name_contains: str | None = None,
        status_equals: str | None = None,
        max_results: int = 50,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        where = [Endpoint.status == status_equals] if status_equals else []
        rows, token = page(self.db, Endpoint, name_contains=name_contains, max_results=max_results, next_token=next_token, where=where)  # fmt: skip
        return {
            "endpoints": [
                {
                    "endpoint_name": r.name,
                    "endpoint_arn": r.arn,
                    "endpoint_status": r.status,
                    "endpoint_config_name": r.config_name,
                    "creation_time": r.creation_time,
                    "last_modified_time": r.last_modified_time,
                }
                for r in rows
            ],
            "next_token": token,
        }

    def wait(self, name: str, timeout: float) -> dict[str, Any]:
        """Describe once the endpoint is no longer busy, or when `timeout` passes."""
        deadline = time.monotonic() + timeout
        while True:
            row = self.get(name) if self._exists(name) else None
            if row is None:
                raise ResourceNotFound(f"no endpoint named {name!r}", field="endpoint_name")
            if row.status not in BUSY or time.monotonic() >= deadline:
                return self.describe(name, metrics=False)
            with self._changed:
                self._changed.wait(min(0.5, max(0.01, deadline - time.monotonic())))

    def _exists(self, name: str) -> bool:
        with self.db.session() as s:
            return s.scalar(sa.select(Endpoint.id).where(Endpoint.name == name)) is not None

    def metric_series(self, name: str, since: Any = None) -> dict[str, Any]:
        """The sampled time series per variant, for Studio's charts."""
        self.get(name)
        q = sa.select(EndpointMetricPoint).where(EndpointMetricPoint.endpoint_name == name)
        if since is not None:
            q = q.where(EndpointMetricPoint.timestamp > since)
        q = q.order_by(EndpointMetricPoint.timestamp, EndpointMetricPoint.id).limit(10000)
        series: dict[str, list[dict[str, Any]]] = {}
        with self.db.session() as s:
            for p in s.scalars(q):
                series.setdefault(p.variant, []).append(
                    {
                        "timestamp": p.timestamp,
                        "period_s": p.period_s,
                        "invocations": p.invocations,
                        "invocation_4xx_errors": p.errors_4xx,
                        "invocation_5xx_errors": p.errors_5xx,
                        "model_latency_ms": p.model_latency_ms,
                        "overhead_latency_ms": p.overhead_latency_ms,
                    }
                )
        return {"endpoint_name": name, "variants": series}

    # -- changing -----------------------------------------------------------------------------

    def _set(self, name: str, **values: Any) -> None:
        with self.db.session() as s:
            s.execute(
                sa.update(Endpoint)
                .where(Endpoint.name == name)
                .values(last_modified_time=utcnow(), **values)
            )
            s.commit()
        with self._changed:
            self._changed.notify_all()

    def _run(self, name: str, target: Any, *args: Any) -> None:
        """Run an operation in the background; one per endpoint at a time."""
        running = self._ops.get(name)
        if running is not None and running.is_alive():
            raise ResourceInUse(
                f"endpoint {name!r} is busy with another operation; wait until it ends",
                field="endpoint_name",
            )

        def guarded() -> None:
            try:
                target(name, *args)
            except Exception as exc:  # a bug of ours must not leave the endpoint busy forever
                log.exception("operation on endpoint %s failed", name)
                if self._exists(name) and self.get(name).status in BUSY:
                    self._set(
                        name, status=FAILED, failure_reason=f"InternalFailure: {_reason(exc)}"
                    )

        thread = threading.Thread(target=guarded, name=f"endpoint-{name}", daemon=True)
        self._ops[name] = thread
        thread.start()

    def create(self, req: CreateEndpoint) -> dict[str, Any]:
        name = validate_name(req.endpoint_name, "endpoint_name")
        config = self.configs.get(req.endpoint_config_name).spec
        self._check_worker_limit(name, _config_workers(config), "endpoint_config_name")
        arn = make_arn("endpoint", name)
        now = utcnow()
        with self.db.session() as s:
            if s.scalar(sa.select(Endpoint.id).where(Endpoint.name == name)):
                raise ResourceInUse(
                    f"an endpoint named {name!r} already exists", field="endpoint_name"
                )
            s.add(
                Endpoint(
                    name=name, arn=arn, status=CREATING, config_name=req.endpoint_config_name,
                    spec={"deployment_config": req.deployment_config.model_dump() if req.deployment_config else None},
                    state={}, creation_time=now, last_modified_time=now,
                )
            )  # fmt: skip
            for t in req.tags:
                s.add(Tag(resource_arn=arn, key=t.key, value=t.value))
            s.commit()
        self._run(name, self._bring_up, req.endpoint_config_name)
        return self.describe(name, metrics=False)

    def _variant_specs(
        self,
        config: dict[str, Any],
        state: dict[str, Any] | None = None,
        containers: dict[str, Any] | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """What each variant runs, with weights and counts changed since creation applied.

        `containers` (variant → containers, from the endpoint's deployed snapshot) stands in
        for the model rows, which may have been deleted since: SageMaker lets a model or
        config in use be deleted and the endpoint goes on serving what it deployed.
        """
        current = {v["variant_name"]: v for v in (state or {}).get("variants") or []}
        specs = []
        for group, shadow in (("production_variants", False), ("shadow_production_variants", True)):
            for v in config.get(group) or []:
                now = current.get(v["variant_name"], {})
                specs.append(
                    {
                        "name": v["variant_name"],
                        "model_name": v["model_name"],
                        "containers": (containers or {}).get(v["variant_name"])
                        or self.models.containers(v["model_name"]),
                        "weight": now.get("current_weight", v["initial_variant_weight"]),
                        "instance_count": now.get(
                            "desired_instance_count", v["initial_instance_count"]
                        ),
                        "shadow": shadow,
                        "serverless": v.get("serverless_config"),
                    }
                )
        return specs

    def _state_variants(
        self, specs: builtins.list[dict[str, Any]]
    ) -> builtins.list[dict[str, Any]]:
        return [
            {
                "variant_name": s["name"],
                "model_name": s["model_name"],
                "current_weight": s["weight"],
                "desired_weight": s["weight"],
                "current_instance_count": s["instance_count"],
                "desired_instance_count": s["instance_count"],
                "shadow": s["shadow"],
                "serverless": s["serverless"],
            }
            for s in specs
        ]

    def _bring_up(self, name: str, config_name: str, restoring: bool = False) -> None:
        row = self.get(name)
        try:
            deployed = (row.state or {}).get("deployed") if restoring else None
            if deployed and deployed.get("endpoint_config_name") == config_name:
                config = deployed["config"]
                specs = self._variant_specs(config, row.state, deployed["containers"])
            else:
                config = self.configs.get(config_name).spec
                specs = self._variant_specs(config, row.state if restoring else None)
            rt = self.supervisor.open(name, row.port)
            self._set(name, port=rt.port)
            fleet_cfg = {"capture": capture_settings(config.get("data_capture_config"))}
            fleet = self.supervisor.start_fleet(rt, config_name, fleet_cfg, specs)
            self.supervisor.set_shares(rt, {fleet.id: 1.0})
        except Exception as exc:
            log.warning("endpoint %s failed to start: %s", name, exc)
            self.supervisor.close_endpoint(name)
            self._set(name, status=FAILED, failure_reason=_reason(exc))
            return
        state = dict(row.state or {}) if restoring else {}
        state["variants"] = self._state_variants(specs)
        state["deployed"] = _deployed(config_name, config, specs)
        self._set(
            name, status=IN_SERVICE, state=state, **({} if restoring else {"failure_reason": None})
        )

    def update(self, name: str, req: UpdateEndpoint) -> dict[str, Any]:
        row = self.get(name)
        if row.status != IN_SERVICE:
            raise ResourceInUse(f"endpoint {name!r} is {row.status}; only an InService endpoint can be updated", field="endpoint_name")  # fmt: skip
        config = self.configs.get(req.endpoint_config_name).spec
        self._check_worker_limit(name, _config_workers(config), "endpoint_config_name")
        deployment = req.deployment_config.model_dump() if req.deployment_config else (row.spec or {}).get("deployment_config")  # fmt: skip
        self._set(name, status=UPDATING)
        try:
            self._run(
                name,
                self._update,
                req.endpoint_config_name,
                deployment,
                req.retain_all_variant_properties,
            )
        except ResourceInUse:
            self._set(name, status=row.status)
            raise
        return self.describe(name, metrics=False)

    def _update(
        self, name: str, config_name: str, deployment: dict[str, Any] | None, retain: bool
    ) -> None:
        row = self.get(name)
        rt = self.supervisor.get(name)
        started = utcnow().isoformat()
        deployment = deployment or {}
        policy = deployment.get("blue_green_update_policy") or {}
        alarms = (deployment.get("auto_rollback_configuration") or {}).get("alarms") or []
        history: dict[str, Any] = {"endpoint_config_name": config_name, "start_time": started}
        try:
            if rt is None:
                raise RuntimeError("the endpoint has no running fleet")
            config = self.configs.get(config_name).spec
            specs = self._variant_specs(config, row.state if retain else None)
            fleet_cfg = {"capture": capture_settings(config.get("data_capture_config"))}
            new = self.supervisor.start_fleet(rt, config_name, fleet_cfg, specs)
            result = roll_out(
                self.supervisor, rt, new, policy, alarms, lambda m: log.info("%s: %s", name, m)
            )
        except Exception as exc:
            history.update(status="Failed", reason=_reason(exc), end_time=utcnow().isoformat())
            self._set(name, status=IN_SERVICE, failure_reason=f"update to {config_name} failed: {_reason(exc)}",
                      state={**(row.state or {}), "last_deployment": history})  # fmt: skip
            return
        history["end_time"] = utcnow().isoformat()
        history["traffic_steps"] = list(result.steps)
        if not result.succeeded:
            history.update(status="RolledBack", reason=result.reason)
            self._set(name, status=IN_SERVICE, failure_reason=f"update to {config_name} rolled back: {result.reason}",
                      state={**(row.state or {}), "last_deployment": history})  # fmt: skip
            return
        history["status"] = "Succeeded"
        state = {
            "variants": self._state_variants(specs),
            "last_deployment": history,
            "deployed": _deployed(config_name, config, specs),
        }
        self._set(name, status=IN_SERVICE, config_name=config_name, failure_reason=None, state=state,
                  spec={"deployment_config": deployment or None})  # fmt: skip

    def update_weights_and_capacities(
        self, name: str, req: UpdateEndpointWeightsAndCapacities
    ) -> dict[str, Any]:
        row = self.get(name)
        if row.status != IN_SERVICE:
            raise ResourceInUse(f"endpoint {name!r} is {row.status}; wait until it is InService", field="endpoint_name")  # fmt: skip
        known = {v["variant_name"]: v for v in (row.state or {}).get("variants") or []}
        for i, d in enumerate(req.desired_weights_and_capacities):
            if d.variant_name not in known:
                raise ValidationError(f"endpoint {name!r} has no variant {d.variant_name!r}; it has {', '.join(known)}",
                                      field=f"desired_weights_and_capacities[{i}].variant_name")  # fmt: skip
            if d.desired_instance_count is not None and known[d.variant_name].get("serverless"):
                raise ValidationError("a serverless variant scales by itself",
                                      field=f"desired_weights_and_capacities[{i}].desired_instance_count")  # fmt: skip
        counts = {v: int(known[v].get("desired_instance_count") or 0) for v in known
                  if not known[v].get("serverless")}  # fmt: skip
        for d in req.desired_weights_and_capacities:
            if d.desired_instance_count is not None:
                counts[d.variant_name] = d.desired_instance_count
        self._check_worker_limit(name, sum(counts.values()), "desired_weights_and_capacities")
        self._set(name, status=UPDATING)
        self._run(
            name, self._reweight, [d.model_dump() for d in req.desired_weights_and_capacities]
        )
        return self.describe(name, metrics=False)

    def _reweight(self, name: str, desired: builtins.list[dict[str, Any]]) -> None:
        row = self.get(name)
        rt = self.supervisor.get(name)
        variants = {v["variant_name"]: dict(v) for v in (row.state or {}).get("variants") or []}
        reason = None
        try:
            assert rt is not None, "the endpoint has no running fleet"
            for d in desired:
                v = variants[d["variant_name"]]
                if d.get("desired_weight") is not None:
                    self.supervisor.set_weight(rt, d["variant_name"], float(d["desired_weight"]))
                    v["current_weight"] = v["desired_weight"] = float(d["desired_weight"])
                if d.get("desired_instance_count") is not None:
                    count = int(d["desired_instance_count"])
                    v["desired_instance_count"] = count
                    for fleet in list(rt.fleets.values()):
                        if d["variant_name"] in fleet.variants:
                            self.supervisor.scale(
                                rt, fleet, fleet.variants[d["variant_name"]], count
                            )
                    v["current_instance_count"] = count
        except Exception as exc:
            reason = f"UpdateEndpointWeightsAndCapacities failed: {_reason(exc)}"
        state = {**(row.state or {}), "variants": list(variants.values())}
        self._set(name, status=IN_SERVICE, state=state, failure_reason=reason)

    def delete(self, name: str) -> None:
        row = self.get(name)
        if row.status in (CREATING, UPDATING, SYSTEM_UPDATING):
            raise ResourceInUse(f"endpoint {name!r} is {row.status}; delete it once that ends", field="endpoint_name")  # fmt: skip
        if row.status == DELETING:
            return
        self._set(name, status=DELETING)
        self._run(name, self._tear_down)

    def _tear_down(self, name: str) -> None:
        self.supervisor.close_endpoint(name)
        row = self.get(name)
        with self.db.session() as s:
            s.execute(sa.delete(Endpoint).where(Endpoint.name == name))
            s.execute(sa.delete(EndpointWorker).where(EndpointWorker.endpoint_name == name))
            s.execute(
                sa.delete(EndpointMetricPoint).where(EndpointMetricPoint.endpoint_name == name)
            )
            s.execute(sa.delete(Tag).where(Tag.resource_arn == row.arn))
            s.commit()
        with self._changed:
            self._changed.notify_all()

    # -- server start -------------------------------------------------------------------------

    def restore(self) -> None:
        """Bring every endpoint of the DB back after a server (re)start; see the module docstring."""
        with self.db.session() as s:
            rows = list(s.scalars(sa.select(Endpoint)))
        for row in rows:
            if row.status == DELETING:
                self._run(row.name, self._tear_down)
            elif row.status != FAILED:
                if row.status == UPDATING:
                    self._set(row.name, failure_reason="an update was interrupted by a server restart; the endpoint kept its previous configuration")  # fmt: skip
                restoring = row.status != CREATING
                self._set(row.name, status=SYSTEM_UPDATING if restoring else CREATING)
                self._run(row.name, self._bring_up, row.config_name, restoring)


def _config_workers(config: dict[str, Any]) -> int:
    """Worker processes a config starts (serverless variants scale from zero)."""
    return sum(
        int(v.get("initial_instance_count") or 0)
        for group in ("production_variants", "shadow_production_variants")
        for v in config.get(group) or []
        if not v.get("serverless_config")
    )


def _deployed(
    config_name: str, config: dict[str, Any], specs: builtins.list[dict[str, Any]]
) -> dict[str, Any]:
    """What the endpoint runs, kept on its row so a restart needs neither the config nor
    the models to still exist."""
    return {
        "endpoint_config_name": config_name,
        "config": config,
        "containers": {s["name"]: s["containers"] for s in specs},
    }


def _reason(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(text)[:4000]
