"""`sageforge server`: run the control plane, or manage the background one."""

from __future__ import annotations

import typer

from sageforge.cli._output import console
from sageforge.core.config import DEFAULT_PORT, Settings

app = typer.Typer(help="Run the control plane (foreground), or start/stop/inspect it.")


@app.callback(invoke_without_command=True)
def server(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to bind (127.0.0.1 keeps it private)."),
    port: int = typer.Option(DEFAULT_PORT, help="Port to bind; 0 picks a free one."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
    aws_port: int | None = typer.Option(
        None,
        "--aws-port",
        help="Port of the AWS-compatible API (default: --port + 1, free if --port is 0; "
        "-1: off). Also SAGEFORGE_AWS_PORT.",
    ),
) -> None:
    """Run the server in the foreground until Ctrl-C."""
    if ctx.invoked_subcommand is not None:
        return
    from sageforge.api.server import serve

    serve(host, port, log_level=log_level, aws_port=aws_port)


@app.command()
def start(
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(0, help="Port to bind; 0 picks a free one."),
) -> None:
    """Start the server in the background (if none is running) and print its URL."""
    from sageforge.sdk._local_server import _start_lock, running_server, start_background

    settings = Settings.load()
    with _start_lock(settings):
        info = running_server(settings)
        if info:
            console.print(f"already running at [bold]{info['url']}[/] (pid {info['pid']})")
            return
        with console.status("starting the sageforge server…"):
            url = start_background(settings, host, port)
    console.print(f"started at [bold]{url}[/]; log: {settings.server_log}")


@app.command()
def status() -> None:
    """Say whether the local server runs, and where."""
    from sageforge.sdk._local_server import read_server_file, running_server

    settings = Settings.load()
    info = running_server(settings)
    if info:
        console.print(
            f"[green]running[/] at [bold]{info['url']}[/] (pid {info['pid']}, home {settings.home})"
        )
        return
    stale = read_server_file(settings)
    suffix = f" (stale {settings.server_file} names pid {stale['pid']})" if stale else ""
    console.print(f"[yellow]not running[/] for home {settings.home}{suffix}")
    raise typer.Exit(3)


@app.command()
def stop() -> None:
    """Stop the local background server. Running jobs go on and are re-adopted on next start."""
    from sageforge.sdk._local_server import stop_server

    settings = Settings.load()
    info = stop_server(settings)
    if info is None:
        console.print("no server was running")
    else:
        console.print(f"stopped the server at {info['url']} (pid {info['pid']})")
