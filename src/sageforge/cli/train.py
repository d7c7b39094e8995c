"""`sageforge train`: run a training job from a script or a built-in algorithm."""

from __future__ import annotations

from pathlib import Path

import typer

from sageforge.cli._wait import start_and_follow
from sageforge.core.errors import ValidationError
from sageforge.sdk import Session


def _pairs(values: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValidationError(f"{item!r} is not KEY=VALUE", field=what)
        out[key.strip()] = value.strip()
    return out


def train(
    what: str = typer.Argument(
        ..., help="'script' for your own code, or a built-in (e.g. xgboost)."
    ),
    entry_point: str = typer.Argument(None, help="With 'script': the Python file to run."),
    source_dir: Path = typer.Option(
        None, help="Folder with the entry point (default: its folder)."
    ),
    inputs: list[str] = typer.Option([], "--input", "-i", help="CHANNEL=URL_OR_PATH (repeatable)."),
    train_: str = typer.Option(None, "--train", help="Shorthand for --input train=…"),
    validation: str = typer.Option(None, "--validation", help="Shorthand for --input validation=…"),
    content_type: str = typer.Option(None, help="Content type of every channel (e.g. text/csv)."),
    hps: list[str] = typer.Option([], "--hp", help="Hyperparameter NAME=VALUE (repeatable)."),
    metrics: list[str] = typer.Option(
        [], "--metric", help="Metric NAME=REGEX scraped from the log."
    ),
    name: str = typer.Option(None, help="Job name (default: generated)."),
    max_runtime: int = typer.Option(None, help="MaxRuntimeInSeconds."),
    output_path: str = typer.Option(
        None, help="Where model.tar.gz goes (default store://training-jobs)."
    ),
    wait: bool = typer.Option(True, help="Wait for the job and print its result."),
    logs: bool = typer.Option(False, help="Stream the job log while waiting."),
) -> None:
    """Start a training job and (by default) wait for it, showing progress."""
    channels: dict[str, object] = dict(_pairs(inputs, "--input"))
    if train_:
        channels["train"] = train_
    if validation:
        channels["validation"] = validation
    if content_type:
        channels = {k: {"uri": v, "content_type": content_type} for k, v in channels.items()}
    session = Session()
    code: dict[str, object] = {"algorithm": what}
    if what == "script":
        if not entry_point:
            raise ValidationError(
                "give the script to run: sageforge train script train.py", field="entry_point"
            )
        script = Path(entry_point).resolve()
        src = (source_dir or script.parent).resolve()
        code = {"entry_point": str(script.relative_to(src)), "source_dir": src}
    job = session.create_training_job(
        name,
        inputs=channels,  # type: ignore[arg-type]
        hyperparameters=_pairs(hps, "--hp"),
        metric_definitions=[
            {"name": k, "regex": v} for k, v in _pairs(metrics, "--metric").items()
        ],
        max_runtime_s=max_runtime,
        output_path=output_path,
        **code,  # type: ignore[arg-type]
    )
    start_and_follow(session, job, wait=wait, logs=logs)
