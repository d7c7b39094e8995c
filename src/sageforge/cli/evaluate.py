"""`sageforge evaluate`: score a model on labelled data; metrics table and an HTML report."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from sageforge.cli._output import console
from sageforge.core.errors import ValidationError
from sageforge.sdk import Session

_SECTIONS = (
    "binary_classification_metrics",
    "multiclass_classification_metrics",
    "regression_metrics",
)


def evaluate(
    data: str = typer.Option(
        ..., "--data", help="Labelled data (URL or path), label in the first column."
    ),
    training_job: str = typer.Option(
        None, "--training-job", "-j", help="Evaluate this job's model."
    ),
    model: str = typer.Option(None, help="A model.tar.gz URL (with --algorithm) instead of a job."),
    algorithm: str = typer.Option(None, help="Built-in algorithm that made --model."),
    content_type: str = typer.Option("text/csv", help="Content type of --data."),
    problem_type: str = typer.Option(
        None, help="binary, multiclass or regression (default: inferred)."
    ),
    full: bool = typer.Option(
        False, "--all", help="Show every metric, not only the headline ones."
    ),
) -> None:
    """Run an evaluation job and print its metrics and where the report is."""
    session = Session()
    if training_job:
        job = session.training_job(training_job)
        with console.status(f"evaluating the model of {training_job}…"):
            result = job.evaluate(data, content_type=content_type, problem_type=problem_type)
    elif model and algorithm:
        eval_job = session.create_evaluation_job(
            model=model,
            algorithm=algorithm,
            data=data,
            content_type=content_type,
            problem_type=problem_type,
        )
        with console.status(f"evaluation job {eval_job.name} running…"):
            result = eval_job.evaluation_result()
    else:
        raise ValidationError(
            "give --training-job, or --model with --algorithm", field="training_job"
        )
    console.print(metrics_table(result, full=full))
    console.print(f"report: [bold]{result['report_url']}[/]")
    store_root = session.api.get("/info")["store_url"]
    if store_root.startswith("file://"):
        console.print(f"        {store_root}/{result['report_url'].removeprefix('store://')}")


HEADLINE = (
    "accuracy", "balanced_accuracy", "precision", "recall", "f1", "auc", "pr_auc", "log_loss",
    "weighted_f1", "macro_f1", "mae", "mse", "rmse", "r2", "mape",
)  # fmt: skip
_BASELINE = "_best_constant_classifier"


def metrics_table(result: dict[str, Any], *, full: bool = False) -> Table:
    """The metrics of an evaluation.json, with the best constant classifier beside them."""
    table = Table(
        title=f"{result.get('problem_type', '')} evaluation on {result.get('n_rows')} rows"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("constant baseline", justify="right", style="dim")
    for section in _SECTIONS:
        cells = result.get(section) or {}
        for name, cell in cells.items():
            value = cell.get("value") if isinstance(cell, dict) else None
            if name.endswith(_BASELINE) or not isinstance(value, (int, float)):
                continue
            if not full and name not in HEADLINE:
                continue
            base = (cells.get(name + _BASELINE) or {}).get("value")
            table.add_row(name, f"{value:.4f}", "" if base is None else f"{base:.4f}")
    return table
