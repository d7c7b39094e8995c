"""`sageforge transform`: run a model over files (SageMaker's batch transform)."""

from __future__ import annotations

import typer

from sageforge.cli._output import console
from sageforge.cli._wait import follow
from sageforge.core.errors import ValidationError
from sageforge.sdk import Session, Transformer


def transform(
    data: str = typer.Argument(..., help="Input file or prefix (URL or local path)."),
    model: str = typer.Option(None, help="An existing model's name."),
    training_job: str = typer.Option(None, "--training-job", "-j", help="Use this job's model."),
    output: str = typer.Option(
        None, help="Where <file>.out goes (default store://transform-jobs/<job>/output)."
    ),
    content_type: str = typer.Option("text/csv", help="Content type of the input."),
    split_type: str = typer.Option("Line", help="Line or None."),
    strategy: str = typer.Option("MultiRecord", help="MultiRecord or SingleRecord."),
    max_payload: int = typer.Option(6, help="MaxPayloadInMB of a mini-batch."),
    accept: str = typer.Option(None, help="Content type of the output."),
    input_filter: str = typer.Option(
        None, help="JSONPath applied to each input record (e.g. '$[1:]')."
    ),
    output_filter: str = typer.Option(None, help="JSONPath applied to each output record."),
    join_source: str = typer.Option(None, help="'Input' to join each input record to its answer."),
    name: str = typer.Option(None, help="Job name (default: generated)."),
    wait: bool = typer.Option(True, help="Wait for the job and print its result."),
) -> None:
    """Start a batch transform job and (by default) wait for it."""
    session = Session()
    if training_job:
        model = session.training_job(training_job).model().create()
    if not model:
        raise ValidationError("give --model or --training-job", field="model")
    transformer = Transformer(model, strategy=strategy, output_path=output, accept=accept,
                              max_payload=max_payload, session=session)  # fmt: skip
    job = transformer.transform(
        data, content_type=content_type, split_type=split_type, input_filter=input_filter,
        output_filter=output_filter, join_source=join_source, job_name=name, wait=False,
    )  # fmt: skip
    console.print(f"started transform job [bold]{job.name}[/] on {session.url}")
    if not wait:
        return
    desc = follow(job, logs=False)
    colour = "green" if desc["transform_job_status"] == "Completed" else "red"
    console.print(f"[{colour}]{desc['transform_job_status']}[/] {job.name}")
    if desc.get("failure_reason"):
        console.print(f"[red]{desc['failure_reason']}[/]")
        raise typer.Exit(1)
    outputs = desc.get("outputs") or {}
    console.print(
        f"{outputs.get('records')} record(s) from {outputs.get('files')} file(s) -> {outputs.get('output_path')}"
    )
