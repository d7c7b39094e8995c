"""`sageforge flow`: validate, preview and run flow documents (FLOW.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from sageforge.cli._output import console, styled_status, when
from sageforge.core.errors import ValidationError
from sageforge.sdk import Session
from sageforge.sdk.flow import Flow

app = typer.Typer(help="Data-preparation flows: validate, preview, run.", no_args_is_help=True)


def load_flow(path: Path, session: Session | None = None) -> Flow:
    """A FLOW.json; a relative source path is taken relative to the file."""
    if not path.is_file():
        raise ValidationError(f"{path} does not exist", field="FLOW")
    flow = Flow.from_json(path.read_text(), session=session)
    src = flow.document.source
    if src is not None and src.url and "://" not in src.url and not Path(src.url).is_absolute():
        flow.document.source = src.model_copy(
            update={"url": str((path.parent / src.url).resolve())}
        )
    return flow


def frame_table(df: Any, title: str, max_columns: int = 14) -> Table:
    """A Polars frame as a Rich table (the first columns, the rest counted in the title)."""
    cols = df.columns[:max_columns]
    extra = len(df.columns) - len(cols)
    t = Table(title=title + (f" (+{extra} more columns)" if extra else ""))
    for c in cols:
        t.add_column(f"{c}\n[dim]{df.schema[c]}[/]", overflow="fold")
    for row in df.select(cols).iter_rows():
        t.add_row(*("" if v is None else str(v) for v in row))
    return t


@app.command()
def validate(
    flow_file: Path = typer.Argument(..., metavar="FLOW.json", help="The flow document."),
) -> None:
    """Check every step on a sample of the source (on the server); print the output columns."""
    session = Session()
    flow = load_flow(flow_file, session)
    src = flow.document.source
    if src is not None and src.url and "://" not in src.url:
        flow.document.source = src.model_copy(
            update={"url": session._as_url(src.url, "uploads/flows")}
        )
    with console.status("checking the flow on a sample…"):
        found = session.validate_flow(flow.to_dict())
    console.print(
        f"[green]valid[/]: {len(flow)} steps, {len(found['output_schema'])} output columns"
    )
    for w in found["warnings"]:
        console.print(f"[yellow]warning[/] {w}")
    t = Table(title="output columns")
    t.add_column("column")
    t.add_column("type")
    for name, kind in found["output_schema"].items():
        t.add_row(name, kind)
    console.print(t)


@app.command()
def preview(
    flow_file: Path = typer.Argument(..., metavar="FLOW.json"),
    step: int = typer.Option(
        None, "--step", "-s", help="After this step (0-based; default the last)."
    ),
    rows: int = typer.Option(10, "--rows", "-n", help="How many rows."),
) -> None:
    """The rows after a step, computed here on a sample of the source."""
    flow = load_flow(flow_file)
    with console.status("running the flow on a sample…"):
        df = flow.preview(step, rows)
    last = len(flow) - 1 if step is None else step
    label = f"after step {last} ({flow.document.steps[last].type})" if last >= 0 else "the source"
    console.print(frame_table(df, f"{flow_file.name}: {label}"))


@app.command()
def run(
    flow_file: Path = typer.Argument(..., metavar="FLOW.json"),
    name: str = typer.Option(
        None, "--name", help="Flow name to save under (default: the document's or the file's)."
    ),
    output: str = typer.Option(
        None, "--output", "-o", help="Write the splits here instead of the flow's destinations."
    ),
    format: str = typer.Option(
        "xgboost", "--format", help="With --output: xgboost, csv or parquet."
    ),
    wait: bool = typer.Option(True, help="Wait for the job and print the splits."),
) -> None:
    """Save the flow and run it over every row of its source as a processing job."""
    session = Session()
    flow = load_flow(flow_file, session)
    flow.name = name or flow.document.name or _name_from(flow_file)
    with console.status("checking and saving the flow…"):
        saved = flow.save(flow.name)
    for w in saved.get("warnings", []):
        console.print(f"[yellow]warning[/] {w}")
    job = flow.export(output, format) if output else flow.export()
    console.print(
        f"saved flow [bold]{flow.name}[/] v{saved['version']}; export job [bold]{job.name}[/]"
    )
    if not wait:
        return
    with console.status(f"export job {job.name} running…"):
        desc = job.wait()
    status = desc["processing_job_status"]
    console.print(
        f"{styled_status(status)} {job.name}"
        + (f": {desc['failure_reason']}" if desc.get("failure_reason") else "")
    )
    if status != "Completed":
        raise typer.Exit(1)
    _print_outputs(session, flow)


def _print_outputs(session: Session, flow: Flow) -> None:
    t = Table(title="splits")
    for col in ("destination", "split", "rows", "url"):
        t.add_column(col, overflow="fold")
    for dest in flow.document.destinations:
        base = dest.url.rstrip("/")
        try:
            fitted = json.loads(session.read_bytes(f"{base}/flow.json")).get("fitted") or {}
        except Exception:  # a destination outside the store: no counts to show
            fitted = {}
        counts = fitted.get("split_counts", {})
        for split in flow.document.split_names():
            if dest.splits and split not in dest.splits:
                continue
            rows = counts.get(split)
            t.add_row(dest.format, split, "" if rows is None else f"{rows:,}", f"{base}/{split}")
    console.print(t)


def _name_from(path: Path) -> str:
    import re

    return re.sub(r"[^a-zA-Z0-9-]+", "-", path.stem).strip("-")[:63] or "flow"


@app.command("list")
def list_() -> None:
    """Saved flows."""
    session = Session()
    t = Table(title=f"flows on {session.url}")
    for col in ("name", "version", "last export", "modified"):
        t.add_column(col, overflow="fold")
    for f in session.list_flows():
        t.add_row(
            f["flow_name"],
            str(f["latest_version"]),
            f["last_export_job"] or "",
            when(f["last_modified_time"]),
        )
    console.print(t)


@app.command()
def describe(
    name: str = typer.Argument(...), version: int = typer.Option(None, help="Default: the latest.")
) -> None:
    """A saved flow's steps (and whether an export fitted it)."""
    desc = Session().describe_flow(name, version)
    doc = desc["fitted_document"] or desc["document"]
    fitted = f"fitted by {desc['fitted_by_job']}" if desc["fitted"] else "not fitted yet"
    console.print(f"[bold]{name}[/] v{desc['version']} of {desc['latest_version']} · {fitted}")
    for i, step in enumerate(doc["steps"]):
        console.print(f"  {i:>2}  {step['type']:<20} {json.dumps(step.get('params', {}))}")
