"""A live view of a training job in the terminal or notebook (Rich).

Shows the secondary status, a bar over the rounds when the job declares how
many it runs (`num_round`, `epochs`), and the latest value of each metric.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from sageforge.sdk._jobs import TERMINAL, TrainingJob

_ROUND_KEYS = ("num_round", "epochs", "max_iterations", "num_trees")


def watch_training(
    job: TrainingJob, hyperparameters: Mapping[str, Any], console: Console | None = None
) -> dict[str, Any]:
    """Wait for `job`, drawing progress; returns the final description."""
    total = _rounds(hyperparameters)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[metrics]}"),
        console=console,
        transient=False,
    )
    with progress:
        task = progress.add_task(job.name, total=total, metrics="starting")
        while True:
            desc = job.session.api.get(f"{job._path}/wait", timeout=1.0)
            series = job.metrics()
            steps = max((len(v) for v in series.values()), default=0)
            latest = "  ".join(f"{k}={v[-1]['value']:.4g}" for k, v in list(series.items())[:4])
            status = desc["secondary_status"] or desc["training_job_status"]
            progress.update(
                task, completed=min(steps, total) if total else None, metrics=f"{status}  {latest}"
            )
            if desc["training_job_status"] in TERMINAL:
                if desc["training_job_status"] == "Completed" and total:
                    progress.update(task, completed=total)
                return desc


def _rounds(hyperparameters: Mapping[str, Any]) -> int | None:
    for key in _ROUND_KEYS:
        if key in hyperparameters:
            try:
                return int(hyperparameters[key])
            except (TypeError, ValueError):
                return None
    return None
