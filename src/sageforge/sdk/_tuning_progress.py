"""A live leaderboard of a tuning job in the terminal or a notebook (Rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sageforge.sdk._jobs import TERMINAL

if TYPE_CHECKING:
    from sageforge.sdk.tuner import TuningJob


def leaderboard(desc: dict[str, Any], trials: list[dict[str, Any]], top: int = 8) -> Table:
    """The best trials so far, with their tuned hyperparameters."""
    metric = desc["hyper_parameter_tuning_job_config"]["hyper_parameter_tuning_job_objective"][
        "metric_name"
    ]
    params = sorted({k for t in trials for k in t["tuned_hyper_parameters"]})
    table = Table(
        title=f"{desc['hyper_parameter_tuning_job_name']} – {desc['hyper_parameter_tuning_job_status']}"
    )
    for col in ("training job", "status", metric, *params):
        table.add_column(col, overflow="fold")
    best = (desc.get("best_training_job") or {}).get("training_job_name")
    for t in trials[:top]:
        m = t.get("final_hyper_parameter_tuning_job_objective_metric")
        style = "bold green" if t["training_job_name"] == best else None
        table.add_row(
            t["training_job_name"], t["training_job_status"], f"{m['value']:.5g}" if m else "—",
            *(_short(t["tuned_hyper_parameters"].get(p, "")) for p in params), style=style,
        )  # fmt: skip
    return table


def watch_tuning(job: TuningJob, console: Console | None = None) -> dict[str, Any]:
    """Redraw progress and the leaderboard until the tuning job ends."""
    desc = job.describe()
    total = int(desc.get("max_number_of_training_jobs") or 0) or None
    bar = Progress(
        TextColumn("[bold]trials"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
    )
    task = bar.add_task("trials", total=total, note="")
    console = console or Console()
    with Live(Group(bar), console=console, refresh_per_second=4) as live:
        while True:
            desc = job.session.api.get(f"{job._path}/wait", timeout=1.0)
            trials = job.trials()
            c = desc["training_job_status_counters"]
            done = c["completed"] + c["stopped"] + c["non_retryable_error"]
            bar.update(
                task,
                completed=done,
                note=f"{c['in_progress']} running, {c['non_retryable_error']} failed",
            )
            live.update(Group(bar, leaderboard(desc, trials)))
            if desc[job.status_key] in TERMINAL:
                break
    if not console.is_terminal:  # Live's last frame ends mid-line in a log or a pipe
        console.line()
    return desc


def _short(value: str) -> str:
    """A sampled float like 0.13683944078350316 shown as 0.1368."""
    try:
        number = float(value)
    except ValueError:
        return value
    return value if number.is_integer() and "." not in value else f"{number:.4g}"
