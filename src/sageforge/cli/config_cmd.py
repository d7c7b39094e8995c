"""`sageforge config`: the effective settings and where each came from."""

from __future__ import annotations

from rich.table import Table

from sageforge.cli._output import console
from sageforge.core.config import Settings


def config() -> None:
    """Print the effective configuration and the source of each value."""
    settings = Settings.load()
    table = Table("setting", "value", "from", title="sageforge configuration")
    for name, value, source in settings.as_rows():
        table.add_row(name, value, source)
    console.print(table)
    console.print(
        "[dim]override with SAGEFORGE_HOME, SAGEFORGE_URL, SAGEFORGE_DB_URL, SAGEFORGE_STORE_URL "
        f"or {settings.home / 'config.toml'}[/]"
    )
