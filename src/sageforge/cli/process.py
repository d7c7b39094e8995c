"""`sageforge process`: run a script as a processing job over store data."""

from __future__ import annotations

from pathlib import Path

import typer

from sageforge.cli._wait import start_and_follow
from sageforge.core.errors import ValidationError
from sageforge.sdk import Session


def _split(item: str, what: str) -> tuple[str, str]:
    left, sep, right = item.partition(":/opt/ml") if what == "--input" else item.partition("=")
    if not sep:
        raise ValidationError(
            f"{item!r}: expected {'URL:/opt/ml/processing/…' if what == '--input' else '/opt/ml/processing/…=URL'}",
            field=what,
        )
    return (left, "/opt/ml" + right) if what == "--input" else (left, right)


def process(
    script: Path = typer.Argument(
        ..., help="The Python script to run.", exists=True, dir_okay=False
    ),
    args: list[str] = typer.Argument(None, help="Arguments for the script (after --)."),
    inputs: list[str] = typer.Option(
        [], "--input", "-i", help="URL_OR_PATH:/opt/ml/processing/input/NAME (repeatable)."
    ),
    outputs: list[str] = typer.Option(
        [], "--output", "-o", help="/opt/ml/processing/output/NAME=URL (repeatable)."
    ),
    name: str = typer.Option(None, help="Job name (default: generated)."),
    max_runtime: int = typer.Option(None, help="MaxRuntimeInSeconds."),
    wait: bool = typer.Option(True, help="Wait for the job and print its result."),
    logs: bool = typer.Option(False, help="Stream the job log while waiting."),
) -> None:
    """Start a processing job and (by default) wait for it."""
    session = Session()
    ins = {}
    for i, item in enumerate(inputs):
        src, local = _split(item, "--input")
        ins[Path(local).name or f"input-{i}"] = (src, local)
    outs = {}
    for item in outputs:
        local, url = _split(item, "--output")
        outs[Path(local).name] = (local, url)
    job = session.create_processing_job(
        name,
        script=script,
        arguments=args or [],
        inputs=ins,
        outputs=outs,
        max_runtime_s=max_runtime,
    )
    start_and_follow(session, job, wait=wait, logs=logs)
