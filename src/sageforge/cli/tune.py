"""`sageforge tune` starts a tuning job; `sageforge tuning …` inspects and stops them."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from sageforge.cli._output import console, styled_status, when
from sageforge.cli.train import _pairs
from sageforge.core.errors import ValidationError
from sageforge.sdk import Estimator, Session, TrainingInput, Tuner, TuningJob
from sageforge.sdk._tuning_progress import leaderboard

tuning_app = typer.Typer(help="List, inspect and stop hyperparameter tuning jobs.")


def tune(
    what: str = typer.Argument(
        ..., help="'script' for your own code, or a built-in (e.g. xgboost)."
    ),
    entry_point: str = typer.Argument(None, help="With 'script': the Python file to run."),
    objective: str = typer.Option(
        ..., "--objective", help="Metric to optimise, e.g. validation:auc."
    ),
    minimize: bool = typer.Option(False, help="Minimise the objective (default: maximise)."),
    ranges: list[str] = typer.Option(
        [],
        "--range",
        "-r",
        help="NAME=LOW..HIGH[:log|linear|reverselog] or NAME=A|B|C (repeatable).",
    ),
    hps: list[str] = typer.Option(
        [], "--hp", help="Static hyperparameter NAME=VALUE (repeatable)."
    ),
    train_: str = typer.Option(None, "--train", help="The train channel (URL or path)."),
    validation: str = typer.Option(None, "--validation", help="The validation channel."),
    content_type: str = typer.Option(None, help="Content type of the channels (e.g. text/csv)."),
    metrics: list[str] = typer.Option([], "--metric", help="Metric NAME=REGEX (script mode)."),
    strategy: str = typer.Option("Bayesian", help="Bayesian, Random, Grid or Hyperband."),
    max_jobs: int = typer.Option(None, help="MaxNumberOfTrainingJobs (Grid: the grid size)."),
    max_parallel: int = typer.Option(1, help="MaxParallelTrainingJobs."),
    early_stopping: str = typer.Option("Off", help="Off or Auto (median rule)."),
    hyperband_max_resource: int = typer.Option(None, help="Hyperband: rounds of a full trial."),
    seed: int = typer.Option(None, help="Random seed of the search."),
    warm_start: list[str] = typer.Option([], help="Parent tuning job names (repeatable)."),
    warm_start_type: str = typer.Option("IdenticalDataAndAlgorithm", help="or TransferLearning."),
    name: str = typer.Option(None, help="Tuning job name (at most 32 characters)."),
    wait: bool = typer.Option(True, help="Wait, showing a live leaderboard."),
) -> None:
    """Start a hyperparameter tuning job whose trials are training jobs."""
    if not ranges:
        raise ValidationError("give at least one --range", field="--range")
    session = Session()
    if what == "script":
        if not entry_point:
            raise ValidationError(
                "give the script: sageforge tune script train.py …", field="entry_point"
            )
        script = Path(entry_point).resolve()
        est = Estimator(entry_point=script.name, source_dir=script.parent, session=session)
    else:
        est = Estimator(what, session=session)
    est.hyperparameters = dict(_pairs(hps, "--hp"))
    est.metric_definitions = [
        {"name": k, "regex": v} for k, v in _pairs(metrics, "--metric").items()
    ]
    parsed = {}
    for text in ranges:
        key, _, spec = text.partition("=")
        parsed[key.strip()] = spec
    tuner = Tuner(
        est,
        objective,
        parsed,
        objective_type="Minimize" if minimize else "Maximize",
        max_jobs=max_jobs,
        max_parallel_jobs=max_parallel,
        strategy=strategy,
        early_stopping_type=early_stopping,
        hyperband_max_resource=hyperband_max_resource,
        random_seed=seed,
        warm_start_parents=warm_start,
        warm_start_type=warm_start_type,
    )
    channels = {}
    for channel, value in (("train", train_), ("validation", validation)):
        if value:
            channels[channel] = TrainingInput(value, content_type)
    job = tuner.fit(channels, job_name=name, wait=wait)
    if not wait:
        console.print(f"started tuning job [bold]{job.name}[/] on {session.url}")
        return
    _print_result(job)


def _print_result(job: TuningJob) -> None:
    desc = job.describe()
    best = desc.get("best_training_job")
    console.print(f"{job.name}: {styled_status(desc['hyper_parameter_tuning_job_status'])}")
    if desc.get("failure_reason"):
        console.print(f"[red]{desc['failure_reason']}[/]")
    if best:
        metric = best["final_hyper_parameter_tuning_job_objective_metric"]
        console.print(
            f"best: [bold]{best['training_job_name']}[/] {metric['metric_name']}={metric['value']:.6g} "
            f"{json.dumps(best['tuned_hyper_parameters'])}"
        )
    if desc.get("analysis_report"):
        console.print(f"analysis report: {desc['analysis_report']}")
    if desc["hyper_parameter_tuning_job_status"] == "Failed":
        raise typer.Exit(1)


@tuning_app.command("list")
def list_tuning(limit: int = typer.Option(20, help="How many (newest first).")) -> None:
    """Tuning jobs, newest first."""
    session = Session()
    rows = session.api.get("/tuning-jobs", max_results=limit)[
        "hyper_parameter_tuning_job_summaries"
    ]
    table = Table(title=f"tuning jobs on {session.url}")
    for col in ("name", "strategy", "status", "completed", "running", "failed", "created"):
        table.add_column(col)
    for r in rows:
        c = r["training_job_status_counters"]
        table.add_row(
            r["hyper_parameter_tuning_job_name"], r["strategy"], styled_status(r["hyper_parameter_tuning_job_status"]),
            str(c["completed"]), str(c["in_progress"]), str(c["non_retryable_error"]), when(r["creation_time"]),
        )  # fmt: skip
    console.print(table)


@tuning_app.command()
def describe(name: str, top: int = typer.Option(10, help="Trials to show.")) -> None:
    """Status, counters, the best trial and the leaderboard."""
    job = TuningJob(Session(), name)
    desc = job.describe()
    console.print(leaderboard(desc, job.trials(), top=top))
    _print_result(job)


@tuning_app.command()
def stop(name: str) -> None:
    """Stop a tuning job and every trial it runs."""
    desc = TuningJob(Session(), name).stop()
    console.print(f"{name}: {styled_status(desc['hyper_parameter_tuning_job_status'])}")
