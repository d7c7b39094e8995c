"""`sageforge data`: import tables, list and describe them, run the insights report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from sageforge.cli._output import console, when
from sageforge.core.errors import ResourceNotFound, ValidationError
from sageforge.sdk import Session

app = typer.Typer(help="Datasets and the Data Quality and Insights report.", no_args_is_help=True)

_SEVERITY = {"high": "bold red", "medium": "yellow", "low": "dim"}


def parse_types(items: list[str]) -> dict[str, str]:
    """`--type age=int` (repeatable) as {column: type}."""
    out = {}
    for item in items:
        col, sep, kind = item.partition("=")
        if not sep or not col or not kind:
            raise ValidationError(f"{item!r}: expected COLUMN=TYPE (e.g. age=int)", field="--type")
        out[col] = kind
    return out


def read_options(
    format: str | None,
    delimiter: str | None,
    no_header: bool,
    encoding: str | None,
    quote_char: str | None,
    null_values: list[str],
    types: list[str],
) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if format:
        opts["format"] = format
    if delimiter:
        opts["delimiter"] = "\t" if delimiter in ("\\t", "tab") else delimiter
    if no_header:
        opts["has_header"] = False
    if encoding:
        opts["encoding"] = encoding
    if quote_char is not None:
        opts["quote_char"] = quote_char
    if null_values:
        opts["null_values"] = list(null_values)
    if types:
        opts["schema_overrides"] = parse_types(types)
    return opts


FORMAT = typer.Option(None, "--format", help="csv, tsv, parquet or jsonl (default: from the name).")
DELIMITER = typer.Option(None, "--delimiter", "-d", help="CSV field delimiter ('tab' for tabs).")
NO_HEADER = typer.Option(False, "--no-header", help="The CSV has no header row.")
ENCODING = typer.Option(None, "--encoding", help="File encoding (default utf-8), e.g. latin-1.")
QUOTE = typer.Option(None, "--quote-char", help="CSV quote character ('' to disable).")
NULLS = typer.Option([], "--null-value", help="A string read as missing (repeatable).")
TYPES = typer.Option(
    [],
    "--type",
    "-t",
    help="COLUMN=TYPE override: int, float, string, bool, date, datetime (repeatable).",
)


@app.command("import")
def import_(
    source: str = typer.Argument(..., help="A file or folder, store://key or URL."),
    name: str = typer.Option(None, "--name", "-n", help="Dataset name (default: the file's name)."),
    description: str = typer.Option("", help="What the table is."),
    format: str = FORMAT,
    delimiter: str = DELIMITER,
    no_header: bool = NO_HEADER,
    encoding: str = ENCODING,
    quote_char: str = QUOTE,
    null_values: list[str] = NULLS,
    types: list[str] = TYPES,
) -> None:
    """Import a table as a dataset: schema and row count are read now."""
    session = Session()
    name = name or _name_from(source)
    with console.status(f"importing {source}…"):
        desc = session.create_dataset(
            name,
            source,
            description=description,
            options=read_options(
                format, delimiter, no_header, encoding, quote_char, null_values, types
            ),
        )
    console.print(
        f"[green]imported[/] dataset [bold]{name}[/]: {desc['row_count']:,} rows, {len(desc['schema'])} columns"
    )
    console.print(schema_table(desc))


def _name_from(source: str) -> str:
    import re

    stem = Path(source.rstrip("/")).name.split(".")[0]
    return re.sub(r"[^a-zA-Z0-9-]+", "-", stem).strip("-")[:63] or "dataset"


def schema_table(desc: dict[str, Any]) -> Table:
    t = Table(title=f"{desc['dataset_name']} ({desc['format']}, {desc['source_url']})")
    t.add_column("column")
    t.add_column("type")
    t.add_column("inferred", style="dim")
    for col in desc["schema"]:
        t.add_row(
            col["name"],
            col["type"],
            "" if col["inferred_type"] == col["type"] else col["inferred_type"],
        )
    return t


@app.command("list")
def list_() -> None:
    """Datasets, newest first."""
    session = Session()
    t = Table(title=f"datasets on {session.url}")
    for col in ("name", "format", "rows", "columns", "source", "created"):
        t.add_column(col, overflow="fold")
    for d in session.list_datasets():
        t.add_row(
            d["dataset_name"],
            d["format"],
            f"{d['row_count']:,}",
            str(d["column_count"]),
            d["source_url"],
            when(d["creation_time"]),
        )
    console.print(t)


@app.command()
def describe(name: str = typer.Argument(..., help="Dataset name.")) -> None:
    """A dataset's source, options, row count and schema."""
    desc = Session().dataset(name)
    console.print(
        f"[bold]{name}[/]: {desc['row_count']:,} rows, {desc['size_bytes']:,} bytes, options {desc['read_options'] or '{}'}"
    )
    console.print(schema_table(desc))


@app.command()
def report(
    source: str = typer.Argument(..., help="A dataset name, or a file / URL to report on."),
    target: str = typer.Option(
        None, "--target", help="The column to predict (enables leakage and the quick model)."
    ),
    problem_type: str = typer.Option(
        None, help="binary, multiclass or regression (default: inferred)."
    ),
    sample: int = typer.Option(None, help="Analyse only this many rows."),
    random_sample: bool = typer.Option(
        False, "--random", help="A random sample rather than the first rows."
    ),
    format: str = FORMAT,
    delimiter: str = DELIMITER,
    no_header: bool = NO_HEADER,
    encoding: str = ENCODING,
    quote_char: str = QUOTE,
    null_values: list[str] = NULLS,
    types: list[str] = TYPES,
) -> None:
    """Run the Data Quality and Insights report; print its warnings and where the HTML is."""
    session = Session()
    dataset = None
    if not os.path.exists(source) and "://" not in source:
        try:
            session.dataset(source)
            dataset = source
        except ResourceNotFound:
            raise ValidationError(
                f"{source!r} is neither a file nor a dataset", field="source"
            ) from None
    options = read_options(format, delimiter, no_header, encoding, quote_char, null_values, types)
    with console.status(f"insights report on {source} running…"):
        result = session.insights_report(
            dataset,
            source=None if dataset else source,
            target=target,
            problem_type=problem_type,
            sample_size=sample,
            sample_method="random" if random_sample else "first",
            options=options,
        )
    print_report(result)
    console.print(f"report: [bold]{result.html_url}[/]")
    if result.local_html:
        console.print(f"        {result.local_html}")


def print_report(r: dict[str, Any]) -> None:
    """The headline of a report in the terminal."""
    s = r["summary"]
    console.print(
        f"{s['rows']:,} rows × {s['columns']} columns · {100 * s['missing_fraction']:.1f}% cells missing "
        f"· {s['duplicate_rows']:,} duplicate rows"
    )
    model = r.get("quick_model")
    if model and model.get("score") is not None:
        top = ", ".join(
            f"{f['feature']} {f['importance']:.0%}" for f in model["feature_importances"][:3]
        )
        console.print(
            f"quick model ({model['model']}): {model['metric']} {model['score']:.3f}; top features {top}"
        )
    for w in r.get("warnings", []):
        style = _SEVERITY.get(w["severity"], "")
        console.print(f"[{style}]{w['severity']:>6}[/]  {w['message']}")
