"""`sageforge keys`: the access keys AWS-style clients (boto3, the SageMaker SDK) sign with."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from sageforge.cli._output import console
from sageforge.core.config import Settings

if TYPE_CHECKING:
    from sageforge.core.db import Database

app = typer.Typer(
    help="Manage access keys for the AWS-compatible API (SigV4).", no_args_is_help=True
)


def _db() -> Database:
    """The metadata DB of the current home (keys live there, server running or not)."""
    from sageforge.core.db import Database

    settings = Settings.load()
    settings.home.mkdir(parents=True, exist_ok=True)
    return Database(settings.db_url)


@app.command()
def create(
    description: str = typer.Option("", "--description", "-d", help="What the key is for."),
) -> None:
    """Create a key pair and print it (the secret is shown here, and by `list --show-secrets`)."""
    from sageforge.compat._keys import create_key

    db = _db()
    try:
        key = create_key(db, description)
    finally:
        db.dispose()
    console.print(f"AWS_ACCESS_KEY_ID={key.access_key_id}")
    console.print(f"AWS_SECRET_ACCESS_KEY={key.secret_access_key}")


@app.command("list")
def list_(
    show_secrets: bool = typer.Option(False, "--show-secrets", help="Print secrets in full."),
) -> None:
    """List every key, revoked ones included."""
    from sageforge.compat._keys import ensure_default_key, list_keys

    db = _db()
    try:
        ensure_default_key(db)
        keys = list_keys(db)
    finally:
        db.dispose()
    table = Table()
    table.add_column("access key id", no_wrap=True)  # copied by hand: never wrapped
    for title in ("secret", "status", "default", "description", "created", "last used"):
        table.add_column(title)
    for k in keys:
        secret = k.secret_access_key if show_secrets else k.secret_access_key[:4] + "…"
        status = "[green]Active[/]" if k.status == "Active" else "[red]Inactive[/]"
        table.add_row(
            k.access_key_id,
            secret,
            status,
            "yes" if k.is_default else "",
            k.description,
            k.creation_time.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
            k.last_used_time.astimezone().strftime("%Y-%m-%d %H:%M:%S") if k.last_used_time else "",
        )
    console.print(table)


@app.command()
def revoke(access_key_id: str = typer.Argument(..., help="The key to revoke.")) -> None:
    """Revoke a key: requests signed with it are refused from now on."""
    from sageforge.compat._keys import revoke_key

    db = _db()
    try:
        key = revoke_key(db, access_key_id)
    finally:
        db.dispose()
    console.print(f"revoked {key.access_key_id}")
