"""Waiting on a job in the terminal: a live spinner or the live log, then a summary."""

from __future__ import annotations

from typing import Any

import typer
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table

from sageforge.cli._output import console, styled_status, when
from sageforge.sdk import Job, Session, TrainingJob


def follow(job: Job, *, logs: bool) -> dict[str, Any]:
    """Wait for `job` to end, showing progress; return its final description."""
    if logs:
        return job.wait(logs=True)
    spinner = Spinner("dots", text=f"{job.name}: starting")
    with Live(spinner, console=console, transient=True, refresh_per_second=10):

        def update(desc: dict[str, Any]) -> None:
            status = desc.get(job.status_key)
            secondary = desc.get("secondary_status") or ""
            metrics = desc.get("final_metric_data_list") or []
            shown = ", ".join(f"{m['metric_name']}={m['value']:.4g}" for m in metrics[:4])
            spinner.update(text=f"{job.name}: {status} – {secondary} {shown}")

        return job.wait(on_update=update)


def summary_table(job: Job, desc: dict[str, Any]) -> Table:
    """The final word on a job: status, reason, timings, metrics, outputs."""
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    t.add_row("job", job.name)
    t.add_row(
        "status", f"{styled_status(desc.get(job.status_key))} ({desc.get('secondary_status')})"
    )
    if desc.get("failure_reason"):
        t.add_row("reason", f"[red]{desc['failure_reason']}[/]")
    t.add_row("created", when(desc.get("creation_time")))
    if isinstance(job, TrainingJob):
        if desc.get("training_time_in_seconds") is not None:
            t.add_row("duration", f"{desc['training_time_in_seconds']} s")
        for m in desc.get("final_metric_data_list") or []:
            t.add_row(f"metric {m['metric_name']}", f"{m['value']:.6g}")
        art = (desc.get("model_artifacts") or {}).get("s3_model_artifacts")
        if art:
            t.add_row("model", art)
    else:
        for name, out in (desc.get("processing_outputs") or {}).items():
            t.add_row(f"output {name}", f"{out['s3_uri']} ({out['files']} files)")
    return t


def start_and_follow(session: Session, job: Job, *, wait: bool, logs: bool) -> None:
    """Announce a new job; unless told not to wait, follow it and exit 1 if it failed."""
    kind = "training" if isinstance(job, TrainingJob) else "processing"
    console.print(f"started {kind} job [bold]{job.name}[/] on {session.url}")
    if not wait:
        return
    desc = follow(job, logs=logs)
    console.print(summary_table(job, desc))
    if desc[job.status_key] == "Failed":
        raise typer.Exit(1)
