"""Turn a reader's failure into "file, line, column: what is wrong, what to do".

Polars reads fast and fails tersely ("found more fields than defined in
'Schema'"). Only after it failed, these functions re-scan the file slowly in
Python to find the first offending line and say what is wrong with it.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sageforge.core.errors import ValidationError
from sageforge.data.io._options import ReadOptions

_SCAN_LIMIT = 200 * 1024 * 1024  # bytes scanned for the culprit before giving up


class DataReadError(ValidationError):
    """A table could not be read; the message names the file, line and column."""


def where(path: Path, line: int | None = None, column: int | str | None = None) -> str:
    """`data.csv, line 12, column 3 ('age')`."""
    out = path.name
    if line is not None:
        out += f", line {line}"
    if column is not None:
        out += f", column {column}"
    return out


def explain_encoding(path: Path, encoding: str) -> str | None:
    """Where the first byte sequence invalid in `encoding` is, or None if there is none."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line, offset, last_newline = 1, 0, -1
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad = offset + exc.start
                head = chunk[: exc.start]
                line += head.count(b"\n")
                nl = head.rfind(b"\n")
                col = exc.start - nl if nl >= 0 else bad - last_newline
                snippet = chunk[exc.start : exc.start + 4].hex(" ")
                return (
                    f"{where(path, line, col)}: bytes {snippet} are not valid {encoding}; "
                    "give the file's encoding (e.g. encoding='latin-1' or 'cp1252')"
                )
            line += chunk.count(b"\n")
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                last_newline = offset + nl
            offset += len(chunk)
            if offset > _SCAN_LIMIT:
                return None
    return None


@contextmanager
def _rows(path: Path, options: ReadOptions, separator: str) -> Iterator[Any]:
    """A csv.reader over the file (undecodable bytes replaced: the encoding is checked apart)."""
    with io.TextIOWrapper(
        path.open("rb"), encoding=options.encoding, errors="replace", newline=""
    ) as text:
        quoting = csv.QUOTE_MINIMAL if options.quote_char else csv.QUOTE_NONE
        yield csv.reader(
            text,
            delimiter=separator,
            quotechar=options.quote_char or '"',
            quoting=quoting,  # type: ignore[arg-type]
        )


def explain_ragged(
    path: Path, options: ReadOptions, separator: str, limit: int | None = None
) -> str | None:
    """The first row whose number of fields differs from the header's (or first row's)."""
    with _rows(path, options, separator) as rows:
        return _first_ragged(rows, options, separator, path, limit)


def _first_ragged(
    rows: Any, options: ReadOptions, separator: str, path: Path, limit: int | None
) -> str | None:
    expected: int | None = None
    for index, row in enumerate(rows):
        if index < options.skip_rows or not row:
            continue
        if options.comment_prefix and row[0].startswith(options.comment_prefix):
            continue
        if expected is None:
            expected = len(row)
            continue
        if len(row) != expected:
            first_bad = expected + 1 if len(row) > expected else len(row) + 1
            kind = "header" if options.has_header else "first row"
            return (
                f"{where(path, rows.line_num, first_bad)}: the row has {len(row)} fields but the "
                f"{kind} has {expected}; fix the row, or check the delimiter "
                f"({separator!r}) and quote character"
            )
        if limit is not None and index >= limit:
            break
    return None


_PARSE = re.compile(
    r"could not parse `(?P<value>.*?)` as dtype `(?P<dtype>[^`]+)` at column '(?P<col>.*?)'"
)


def explain_parse(path: Path, options: ReadOptions, separator: str, message: str) -> str | None:
    """The line of a value Polars could not convert to its column's type."""
    m = _PARSE.search(message)
    if not m:
        return None
    with _rows(path, options, separator) as rows:
        return _find_value(rows, options, path, m["value"], m["dtype"], m["col"])


def _find_value(
    rows: Any, options: ReadOptions, path: Path, value: str, dtype: str, column: str
) -> str:
    header: list[str] | None = None
    for index, row in enumerate(rows):
        if index < options.skip_rows or not row:
            continue
        if header is None:
            header = row if options.has_header else [f"column_{i + 1}" for i in range(len(row))]
            if options.has_header:
                continue
        idx = header.index(column) if column in header else None
        if idx is not None and idx < len(row) and row[idx] == value:
            return (
                f"{where(path, rows.line_num, f'{idx + 1} ({column!r})')}: {value!r} is not "
                f"a valid {dtype}; fix the value, or read the column as another type "
                f"(schema_overrides={{{column!r}: 'string'}})"
            )
    return f"{path.name}, column {column!r}: {value!r} is not a valid {dtype}"


def explain_jsonl(path: Path, encoding: str) -> str | None:
    """The first line that is not a JSON object."""
    with path.open("r", encoding=encoding, errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as exc:
                return f"{where(path, lineno, exc.colno)}: not valid JSON ({exc.msg})"
            if not isinstance(value, dict):
                return f"{where(path, lineno, 1)}: each line must be a JSON object, not {type(value).__name__}"
    return None


def explain(
    path: Path, fmt: str, options: ReadOptions, separator: str, exc: Exception
) -> DataReadError:
    """The most precise explanation we can find for a failed read of `path`."""
    message = str(exc)
    found: str | None = None
    if fmt in ("csv", "tsv"):
        if "utf-8" in message or "utf8" in message or isinstance(exc, UnicodeDecodeError):
            found = explain_encoding(path, options.encoding)
        if found is None and "could not parse" in message:
            found = explain_parse(path, options, separator, message)
        if found is None:
            found = explain_ragged(path, options, separator)
        if found is None:
            found = explain_encoding(path, options.encoding)
    elif fmt == "jsonl":
        found = explain_jsonl(path, options.encoding)
    elif fmt == "parquet":
        found = f"{path.name}: not a readable Parquet file ({message.splitlines()[0]})"
    if found is None:
        found = f"{path.name}: cannot read it as {fmt}: {message.splitlines()[0] if message else type(exc).__name__}"
    return DataReadError(found, field="source")
