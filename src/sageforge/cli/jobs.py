"""`sageforge jobs`: list, describe, follow logs of, wait for and stop jobs of any kind."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from sageforge.cli._output import console, styled_status, when
from sageforge.cli._wait import follow, summary_table
from sageforge.core.errors import ResourceNotFound
from sageforge.sdk import Job, ProcessingJob, Session, TrainingJob

app = typer.Typer(help="List, inspect, follow and stop training and processing jobs.")

KINDS = {"training": TrainingJob, "processing": ProcessingJob}


def find_job(session: Session, name: str, kind: str | None) -> Job:
    """The job called `name`, looking in every kind unless `kind` is given."""
    kinds = [kind] if kind else list(KINDS)
    for k in kinds:
        if k not in KINDS:
            raise typer.BadParameter(f"kind must be one of {', '.join(KINDS)}")
        try:
            job = KINDS[k](session, name)
            job.describe()
            return job
        except ResourceNotFound:
            continue
    raise ResourceNotFound(f"no {' or '.join(kinds)} job named {name!r}")


@app.command("list")
def list_jobs(
    kind: str = typer.Option(None, help="training or processing (default: both)."),
    status: str = typer.Option(None, help="Only jobs in this status (e.g. InProgress, Failed)."),
    name_contains: str = typer.Option(None, "--name-contains", help="Substring of the name."),
    limit: int = typer.Option(20, help="How many (newest first)."),
) -> None:
    """Newest jobs first."""
    session = Session()
    rows: list[tuple[str, dict[str, Any]]] = []
    for k in [kind] if kind else list(KINDS):
        collection = KINDS[k].collection
        key = collection.replace("-", "_")[:-1] + "_summaries"
        page = session.api.get(
            f"/{collection}", status_equals=status, name_contains=name_contains, max_results=limit
        )
        rows += [(k, r) for r in page[key]]
    rows.sort(key=lambda kr: kr[1]["creation_time"], reverse=True)
    table = Table(title=f"jobs on {session.url}")
    table.add_column("name", overflow="fold")
    for col in ("kind", "status", "detail", "created", "ended"):
        table.add_column(col, no_wrap=True)
    for k, r in rows[:limit]:
        status_value = r.get(f"{k}_job_status")
        table.add_row(
            r[f"{k}_job_name"],
            k,
            styled_status(status_value),
            r.get("secondary_status") or (r.get("failure_reason") or "")[:60],
            when(r.get("creation_time")),
            when(r.get(f"{k}_end_time")),
        )
    console.print(table)


@app.command()
def describe(
    name: str,
    kind: str = typer.Option(None, help="training or processing, when a name is in both."),
    as_json: bool = typer.Option(False, "--json", help="Print the full description as JSON."),
) -> None:
    """A job's status, reason, metrics and outputs."""
    job = find_job(Session(), name, kind)
    desc = job.describe()
    if as_json:
        console.print_json(json.dumps(desc, default=str))
        return
    console.print(summary_table(job, desc))
    transitions = Table("step", "started", "message", title="status transitions")
    for t in desc.get("secondary_status_transitions") or []:
        transitions.add_row(t["status"], when(t["start_time"]), t["status_message"])
    console.print(transitions)


@app.command()
def logs(
    name: str,
    follow_: bool = typer.Option(False, "--follow", "-f", help="Keep printing until the job ends."),
    kind: str = typer.Option(None, help="training or processing."),
) -> None:
    """Print a job's log."""
    job = find_job(Session(), name, kind)
    for text in job.logs(follow=follow_):
        console.out(text, end="")


@app.command()
def wait(
    name: str,
    kind: str = typer.Option(None, help="training or processing."),
    show_logs: bool = typer.Option(False, "--logs", help="Stream the log while waiting."),
) -> None:
    """Wait for a job to end; exit code 1 if it failed."""
    job = find_job(Session(), name, kind)
    desc = follow(job, logs=show_logs)
    console.print(summary_table(job, desc))
    if desc[job.status_key] == "Failed":
        raise typer.Exit(1)


@app.command()
def stop(name: str, kind: str = typer.Option(None, help="training or processing.")) -> None:
    """Stop a running job (SIGTERM, then SIGKILL after the grace period)."""
    job = find_job(Session(), name, kind)
    desc = job.stop()
    console.print(f"{name}: {styled_status(desc[job.status_key])}")
