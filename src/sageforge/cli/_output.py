"""How the CLI talks: Rich tables, one-line errors, spinners while waiting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

STATUS_STYLE = {
    "Completed": "green",
    "InProgress": "cyan",
    "Stopping": "yellow",
    "Stopped": "yellow",
    "Failed": "red",
}


def styled_status(status: str | None) -> str:
    """A status word in its colour."""
    if not status:
        return ""
    return f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]"


def when(value: Any) -> str:
    """An ISO timestamp as local 'YYYY-MM-DD HH:MM:SS'."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(value)


def fail(message: str) -> None:
    """Print one readable error line (no traceback)."""
    err_console.print(f"[bold red]error:[/] {message}")
