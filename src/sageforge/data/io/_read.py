"""Reading tables (CSV/TSV, Parquet, JSON Lines) into Polars, with errors people can act on.

A source is a file or a folder of files of one format. Reads go through
Polars' multithreaded readers; any failure is re-examined by `_explain` so the
error names the file, the line and the column. Types are inferred from the
first 10,000 rows; when a later value contradicts the guess (an integer column
with a `3.5` on row 50,000), the read is retried with inference over every row
instead of failing, and a value that fits no type is reported with its line.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import polars as pl

from sageforge.core.errors import ValidationError
from sageforge.data.flow._base import dtype_from_name
from sageforge.data.io._explain import DataReadError, explain, explain_ragged
from sageforge.data.io._options import ReadOptions, infer_format

INFER_ROWS = 10_000
SampleMethod = Literal["first", "random"]


def data_files(source: str | Path, options: ReadOptions) -> list[Path]:
    """The files of a source: the file itself, or the folder's files (hidden ones skipped)."""
    path = Path(source)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ValidationError(f"{path} does not exist", field="source")
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
        and p.stat().st_size > 0
    )
    if not files:
        raise ValidationError(f"no data files under {path}", field="source")
    formats = {infer_format(f.name, options) for f in files}
    if len(formats) > 1:
        raise ValidationError(
            f"{path} mixes formats ({', '.join(sorted(formats))}); give format to pick one",
            field="read_options.format",
        )
    return files


def _overrides(options: ReadOptions) -> dict[str, pl.DataType]:
    return {c: dtype_from_name(t) for c, t in options.schema_overrides.items()}


def _read_csv(
    file: Path, fmt: str, options: ReadOptions, n_rows: int | None, infer: int | None
) -> pl.DataFrame:
    source: Path | io.BytesIO = file
    if not options.is_utf8:  # Polars reads UTF-8 only: decode here (strictly, to report errors)
        source = io.BytesIO(file.read_bytes().decode(options.encoding).encode("utf-8"))
    return pl.read_csv(
        source,
        separator=options.separator(fmt),
        has_header=options.has_header,
        quote_char=options.quote_char or None,
        null_values=list(options.null_values) or None,
        comment_prefix=options.comment_prefix,
        skip_rows=options.skip_rows,
        schema_overrides=_overrides(options) or None,
        infer_schema_length=infer,
        n_rows=n_rows,
        encoding="utf8",
        try_parse_dates=False,
    )


def _read_file(file: Path, fmt: str, options: ReadOptions, n_rows: int | None) -> pl.DataFrame:
    if fmt in ("csv", "tsv"):
        try:
            return _read_csv(file, fmt, options, n_rows, INFER_ROWS)
        except pl.exceptions.ComputeError as exc:
            if "could not parse" not in str(exc):
                raise
            # A late value contradicts the type guessed from the first rows: infer from all.
            return _read_csv(file, fmt, options, n_rows, None)
    if fmt == "parquet":
        df = pl.read_parquet(file, n_rows=n_rows)
    else:
        df = pl.read_ndjson(file, n_rows=n_rows, infer_schema_length=INFER_ROWS)
    return _apply_overrides(df, file, options)


def _apply_overrides(df: pl.DataFrame, file: Path, options: ReadOptions) -> pl.DataFrame:
    """Cast Parquet/JSON columns to the overridden types, naming the first bad row."""
    for col, dtype in _overrides(options).items():
        if col not in df.columns:
            continue
        cast = df[col].cast(dtype, strict=False)
        bad = cast.is_null() & df[col].is_not_null()
        if bad.any():
            row = int(bad.arg_true()[0])
            raise DataReadError(
                f"{file.name}, {'line' if file.suffix != '.parquet' else 'row'} {row + 1}, "
                f"column {col!r}: {df[col][row]!r} is not a valid {dtype}",
                field="source",
            )
        df = df.with_columns(cast)
    return df


@contextmanager
def _explained(file: Path, fmt: str, options: ReadOptions) -> Iterator[None]:
    try:
        yield
    except (ValidationError, MemoryError):
        raise
    except Exception as exc:  # Polars, Arrow and codec errors alike
        raise explain(file, fmt, options, options.separator(fmt), exc) from None


def read_table(
    source: str | Path,
    options: ReadOptions | None = None,
    *,
    limit: int | None = None,
    sample: SampleMethod = "first",
    seed: int = 0,
) -> pl.DataFrame:
    """Read a table (every file of a folder, stacked); `limit` rows, the first or a random
    sample of them. Raises DataReadError naming the file, line and column."""
    options = options or ReadOptions()
    files = data_files(source, options)
    frames: list[pl.DataFrame] = []
    remaining = limit if sample == "first" else None
    for file in files:
        fmt = infer_format(file.name, options)
        with _explained(file, fmt, options):
            df = _read_file(file, fmt, options, remaining)
        if frames and df.columns != frames[0].columns:
            raise DataReadError(
                f"{file.name} has columns {df.columns[:10]} but {files[0].name} has "
                f"{frames[0].columns[:10]}",
                field="source",
            )
        frames.append(df)
        if remaining is not None:
            remaining -= df.height
            if remaining <= 0:
                break
    out = pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]
    if limit is not None and sample == "random" and out.height > limit:
        out = out.with_row_index("__row").sample(limit, seed=seed).sort("__row").drop("__row")
    elif limit is not None:
        out = out.head(limit)
    return out


def scan_table(source: str | Path, options: ReadOptions | None = None) -> pl.LazyFrame:
    """A lazy scan of every file of a source: Polars reads only the columns a plan uses.

    The fast path for whole-table jobs. Errors surface when the plan runs and
    are not explained here: on failure, read again with `read_table`, which
    reports the file, line and column (and widens types inferred too narrowly).
    """
    options = options or ReadOptions()
    files = data_files(source, options)
    fmt = infer_format(files[0].name, options)
    plain = not any(f.name.endswith((".gz", ".zst")) for f in files)
    if fmt in ("csv", "tsv") and options.is_utf8 and plain:
        return pl.scan_csv(
            files,
            separator=options.separator(fmt),
            has_header=options.has_header,
            quote_char=options.quote_char or None,
            null_values=list(options.null_values) or None,
            comment_prefix=options.comment_prefix,
            skip_rows=options.skip_rows,
            schema_overrides=_overrides(options) or None,
            infer_schema_length=INFER_ROWS,
        )
    if fmt == "parquet" and not options.schema_overrides:
        return pl.scan_parquet(files)
    return read_table(source, options).lazy()


def count_rows(source: str | Path, options: ReadOptions | None = None) -> int:
    """Number of rows, without holding the table in memory (Polars counts while scanning)."""
    options = options or ReadOptions()
    total = 0
    for file in data_files(source, options):
        fmt = infer_format(file.name, options)
        with _explained(file, fmt, options):
            if fmt == "parquet":
                total += pl.scan_parquet(file).select(pl.len()).collect().item()
            elif fmt == "jsonl":
                total += pl.scan_ndjson(file).select(pl.len()).collect().item()
            elif options.is_utf8 and not file.name.endswith((".gz", ".zst")):
                total += (
                    pl.scan_csv(
                        file,
                        separator=options.separator(fmt),
                        has_header=options.has_header,
                        quote_char=options.quote_char or None,
                        comment_prefix=options.comment_prefix,
                        skip_rows=options.skip_rows,
                        infer_schema_length=0,  # all text: counting needs no types
                    )
                    .select(pl.len())
                    .collect()
                    .item()
                )
            else:
                total += _read_file(file, fmt, options, None).height
    return int(total)


def check_structure(
    source: str | Path, options: ReadOptions | None = None, rows: int = 100_000
) -> None:
    """Refuse ragged CSV rows among the first `rows` (Polars pads short rows with nulls
    silently; an import should say the file is malformed instead)."""
    options = options or ReadOptions()
    for file in data_files(source, options):
        fmt = infer_format(file.name, options)
        if fmt not in ("csv", "tsv") or file.name.endswith((".gz", ".zst")):
            continue
        problem = explain_ragged(file, options, options.separator(fmt), limit=rows)
        if problem:
            raise DataReadError(problem, field="source")
