"""The `sageforge` command (Typer + Rich)."""

from __future__ import annotations

import sys

import typer

from sageforge.cli import data, endpoints, flow, jobs, keys, server
from sageforge.cli._output import fail
from sageforge.cli.aws_env import aws_env
from sageforge.cli.config_cmd import config
from sageforge.cli.evaluate import evaluate
from sageforge.cli.process import process
from sageforge.cli.train import train
from sageforge.cli.transform import transform
from sageforge.cli.tune import tune, tuning_app
from sageforge.core.errors import SageforgeError

app = typer.Typer(
    name="sageforge",
    help="sageforge: SageMaker's workflow on your own machine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(server.app, name="server")
app.add_typer(jobs.app, name="jobs")
app.add_typer(endpoints.app, name="endpoints")
app.add_typer(data.app, name="data")
app.add_typer(flow.app, name="flow")
app.command()(config)
app.command()(train)
app.command()(process)
app.command()(evaluate)
app.command()(transform)
app.command()(tune)
app.add_typer(tuning_app, name="tuning")
app.add_typer(keys.app, name="keys")
app.command("aws-env")(aws_env)


def main() -> None:
    """Console entry point: errors are one readable line and exit code 1."""
    try:
        app()
    except SageforgeError as exc:
        fail(str(exc))
        sys.exit(1)
    except KeyboardInterrupt:
        fail("interrupted")
        sys.exit(130)


__all__ = ["app", "main"]
