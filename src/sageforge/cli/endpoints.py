"""`sageforge endpoints`: create, list, describe, update, delete and invoke endpoints."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from sageforge.cli._output import console, when
from sageforge.core.errors import ValidationError
from sageforge.core.names import unique_name
from sageforge.sdk import DataCaptureConfig, Model, Predictor, Session

app = typer.Typer(help="Real-time endpoints: create, list, describe, update, delete, invoke.")

_STATUS = {"InService": "green", "Creating": "cyan", "Updating": "cyan", "SystemUpdating": "cyan",
           "Deleting": "yellow", "Failed": "red"}  # fmt: skip


def _status(value: str | None) -> str:
    return f"[{_STATUS.get(value or '', 'white')}]{value}[/]"


def _model(session: Session, training_job: str | None, model_data: str | None,
           algorithm: str | None, entry_point: str | None, source_dir: Path | None) -> Model:  # fmt: skip
    if training_job:
        return session.training_job(training_job).model()  # type: ignore[no-any-return]
    if not model_data and not entry_point:
        raise ValidationError("give --training-job, or --model-data with --algorithm or --entry-point",
                              field="model")  # fmt: skip
    return Model(
        model_data, algorithm, entry_point=entry_point, source_dir=source_dir, session=session
    )


def _policy(canary: float | None, linear: float | None, bake: float, rollback_error_rate: float | None,
            rollback_p99_ms: float | None) -> dict[str, Any] | None:  # fmt: skip
    routing: dict[str, Any] = {"type": "ALL_AT_ONCE", "wait_interval_in_seconds": bake}
    if canary:
        routing.update(type="CANARY", canary_size={"type": "CAPACITY_PERCENT", "value": canary})
    elif linear:
        routing.update(
            type="LINEAR", linear_step_size={"type": "CAPACITY_PERCENT", "value": linear}
        )
    alarms = []
    if rollback_error_rate is not None:
        alarms.append(
            {
                "alarm_name": "error-rate",
                "metric_name": "ErrorRate",
                "threshold": rollback_error_rate,
            }
        )
    if rollback_p99_ms is not None:
        alarms.append({"alarm_name": "p99-latency", "metric_name": "ModelLatency", "statistic": "p99",
                       "threshold": rollback_p99_ms})  # fmt: skip
    config: dict[str, Any] = {
        "blue_green_update_policy": {"traffic_routing_configuration": routing}
    }
    if alarms:
        config["auto_rollback_configuration"] = {"alarms": alarms}
    return config


@app.command()
def create(
    name: str = typer.Argument(None, help="Endpoint name (default: generated)."),
    training_job: str = typer.Option(None, "--training-job", "-j", help="Deploy this job's model."),
    model_data: str = typer.Option(
        None, help="A model.tar.gz URL (with --algorithm or --entry-point)."
    ),
    algorithm: str = typer.Option(None, help="Built-in whose inference handler serves the model."),
    entry_point: str = typer.Option(None, help="Your inference.py (model_fn, input_fn, ...)."),
    source_dir: Path = typer.Option(None, help="Folder holding --entry-point."),
    instance_count: int = typer.Option(1, help="Worker processes."),
    variant: str = typer.Option("AllTraffic", help="Variant name."),
    capture: str = typer.Option(None, help="Data capture destination (e.g. store://capture)."),
    capture_percent: float = typer.Option(100.0, help="Share of requests captured."),
    wait: bool = typer.Option(True, help="Wait until InService."),
) -> None:
    """Deploy a model to a new endpoint."""
    session = Session()
    model = _model(session, training_job, model_data, algorithm, entry_point, source_dir)
    data_capture = DataCaptureConfig(capture, capture_percent) if capture else None
    with console.status("creating the endpoint (starting its workers)…"):
        predictor = model.deploy(instance_count, endpoint_name=name, variant_name=variant,
                                 data_capture=data_capture, wait=wait)  # fmt: skip
    _show(predictor.describe(), session)


@app.command("list")
def list_endpoints(status: str = typer.Option(None, help="Only endpoints in this status.")) -> None:
    """Endpoints, newest first."""
    session = Session()
    rows = session.api.get("/endpoints", status_equals=status, max_results=100)["endpoints"]
    table = Table(title=f"endpoints on {session.url}")
    for col in ("name", "status", "config", "created"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["endpoint_name"], _status(r["endpoint_status"]), r["endpoint_config_name"],
                      when(r["creation_time"]))  # fmt: skip
    console.print(table)


def _show(desc: dict[str, Any], session: Session) -> None:
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    t.add_row("endpoint", desc["endpoint_name"])
    t.add_row("status", _status(desc["endpoint_status"]))
    if desc.get("failure_reason"):
        t.add_row("reason", f"[red]{desc['failure_reason']}[/]")
    t.add_row("config", desc["endpoint_config_name"])
    t.add_row("endpoint URL", f"{desc.get('endpoint_url')}/invocations")
    t.add_row("runtime URL", f"{session.url}{desc['invocation_path']}")
    for v in desc.get("production_variants", []) + desc.get("shadow_production_variants", []):
        kind = "shadow " if v.get("shadow") else ""
        t.add_row(f"{kind}variant {v['variant_name']}",
                  f"model {v['model_name']}, weight {v['current_weight']:g}, "
                  f"{v['current_instance_count']} instance(s)")  # fmt: skip
    capture = desc.get("data_capture_config")
    if capture:
        t.add_row(
            "data capture",
            f"{capture['current_sampling_percentage']:g} % to {capture['destination_s3_uri']}",
        )
    last = desc.get("last_deployment")
    if last:
        t.add_row("last deployment", f"{last.get('status')} ({last.get('endpoint_config_name')})"
                  + (f": {last['reason']}" if last.get("reason") else ""))  # fmt: skip
    console.print(t)
    metrics = desc.get("metrics") or {}
    if metrics:
        m = Table("variant", "invocations", "4xx", "5xx", "model p50/p99 ms", "overhead p50/p99 ms")
        for variant, s in metrics.items():
            ml, ol = s["model_latency_ms"], s["overhead_latency_ms"]
            m.add_row(variant, str(s["invocations"]), str(s["invocation_4xx_errors"]),
                      str(s["invocation_5xx_errors"]), f"{ml['p50']} / {ml['p99']}", f"{ol['p50']} / {ol['p99']}")  # fmt: skip
        console.print(m)


@app.command()
def describe(
    name: str,
    as_json: bool = typer.Option(False, "--json", help="Print the full description as JSON."),
) -> None:
    """An endpoint's status, variants, capture settings and metrics."""
    session = Session()
    desc = Predictor(name, session).describe()
    if as_json:
        console.print_json(json.dumps(desc, default=str))
    else:
        _show(desc, session)


@app.command()
def update(
    name: str,
    training_job: str = typer.Option(None, "--training-job", "-j", help="Deploy this job's model."),
    model_data: str = typer.Option(None, help="A model.tar.gz URL."),
    algorithm: str = typer.Option(None, help="Built-in serving --model-data."),
    entry_point: str = typer.Option(None, help="Your inference.py."),
    source_dir: Path = typer.Option(None, help="Folder holding --entry-point."),
    config: str = typer.Option(None, help="An existing endpoint configuration instead of a model."),
    instance_count: int = typer.Option(1, help="Worker processes of the new fleet."),
    canary: float = typer.Option(None, help="Canary: %% of traffic to the new fleet first."),
    linear: float = typer.Option(None, help="Linear: %% of traffic moved per step."),
    bake: float = typer.Option(0.0, help="Seconds to watch each step before the next."),
    rollback_error_rate: float = typer.Option(None, help="Roll back above this 5xx share (0–1)."),
    rollback_p99_ms: float = typer.Option(None, help="Roll back above this p99 model latency."),
    weight: list[str] = typer.Option([], help="VARIANT=WEIGHT: only change weights (repeatable)."),
    instances: list[str] = typer.Option(
        [], help="VARIANT=COUNT: only change capacity (repeatable)."
    ),
) -> None:
    """Blue/green update to a new model or configuration, or change weights and capacities."""
    session = Session()
    predictor = Predictor(name, session)
    if weight or instances:
        desired: dict[str, dict[str, Any]] = {}
        for item in weight:
            k, _, v = item.partition("=")
            desired.setdefault(k, {})["desired_weight"] = float(v)
        for item in instances:
            k, _, v = item.partition("=")
            desired.setdefault(k, {})["desired_instance_count"] = int(v)
        with console.status("changing weights and capacities…"):
            desc = predictor.update_weights_and_capacities(desired)
    else:
        if not config:
            model = _model(session, training_job, model_data, algorithm, entry_point, source_dir)
            variant = predictor.describe()["production_variants"][0]["variant_name"]
            config = model.endpoint_config(instance_count=instance_count, variant_name=variant,
                                           name=unique_name(name))  # fmt: skip
        policy = _policy(canary, linear, bake, rollback_error_rate, rollback_p99_ms)
        with console.status(f"updating {name} to {config}…"):
            desc = predictor.update_endpoint(config, deployment_config=policy)
    _show(predictor.describe(), session)
    if (desc.get("last_deployment") or {}).get("status") in ("RolledBack", "Failed"):
        raise typer.Exit(1)


@app.command()
def delete(name: str) -> None:
    """Delete an endpoint (its workers are drained first)."""
    Predictor(name, Session()).delete_endpoint()
    console.print(f"deleted {name}")


@app.command()
def invoke(
    name: str,
    body: str = typer.Option(None, help="The request body (default: read --file or stdin)."),
    file: Path = typer.Option(None, help="Send this file's content."),
    content_type: str = typer.Option("text/csv", help="Content type of the body."),
    accept: str = typer.Option(None, help="Accept header."),
    target_variant: str = typer.Option(None, help="Send to this variant."),
    inference_id: str = typer.Option(None, help="InferenceId recorded with captured data."),
    custom_attributes: str = typer.Option(None, help="CustomAttributes passed to the model."),
) -> None:
    """Send one request; print the answer and the variant that answered."""
    data = (
        body.encode()
        if body is not None
        else file.read_bytes()
        if file
        else sys.stdin.buffer.read()
    )
    answer = Predictor(name, Session()).invoke(
        data, content_type, accept, target_variant=target_variant, inference_id=inference_id,
        custom_attributes=custom_attributes,
    )  # fmt: skip
    console.out(answer.body.decode(errors="replace"))
    console.print(f"[dim]variant {answer.variant}, {answer.content_type}[/]", highlight=False)
