"""Reading a training channel into a feature matrix and labels, fast.

Every built-in reads its channels here, so all of them accept the same layouts
SageMaker's built-ins accept: a channel is a folder of one or more files (in
sub-folders too) in one content type:

- `text/csv`: no header, the label in the first column (`label_size=0`: no label);
- `text/csv;header=present[;target=<column>]`: a header row; the label is the
  `target` column, else the first (sageforge's friendlier option);
- `text/libsvm` (also `libsvm`, `text/x-libsvm`): `label index:value ...`, with `qid:`;
- `application/x-parquet`: the label is the first column, or the `target` column.

CSV goes through pyarrow's multithreaded reader straight into float32 columns,
then into one C-ordered matrix block by block (what XGBoost reads without a
copy). Malformed data raises AlgorithmError naming the file, line and column;
the slow line-by-line scan that finds them runs only after the fast reader failed.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sageforge.core.errors import ValidationError
from sageforge.train.algorithms._base import AlgorithmError
from sageforge.train.algorithms._codecs import NULL_TOKENS, parse_libsvm, split_content_type

if TYPE_CHECKING:
    import pyarrow as pa
    import scipy.sparse

CSV_TYPES = ("text/csv", "csv")
LIBSVM_TYPES = ("text/libsvm", "libsvm", "text/x-libsvm", "application/x-libsvm")
PARQUET_TYPES = ("application/x-parquet", "application/parquet", "parquet")
CONTENT_TYPES = CSV_TYPES + LIBSVM_TYPES + PARQUET_TYPES
"""Training content types `load_channel` reads (base types, before any `;` parameters).

The bare `csv` and `parquet` are there because SageMaker's XGBoost accepts them and its
example notebooks write `TrainingInput(..., content_type="csv")`."""

_BLOCK_ROWS = 65536  # rows per copy into the row-major matrix: a block of columns fits in cache
_MARKER_SUFFIXES = (".crc", ".tmp", ".swp")


@dataclass
class Dataset:
    """One channel's data: float32 features, float32 labels, and column names if known."""

    X: np.ndarray | scipy.sparse.csr_matrix
    y: np.ndarray | None
    feature_names: list[str] | None
    qid: np.ndarray | None = None
    """Query ids per row (LIBSVM `qid:`), which ranking objectives group by."""
    weights: np.ndarray | None = None
    """Per-row weights, when the algorithm finds them in the data (XGBoost's `csv_weights`)."""

    @property
    def num_rows(self) -> int:
        """Number of examples."""
        return int(self.X.shape[0])

    @property
    def num_features(self) -> int:
        """Number of feature columns (the label excluded)."""
        return int(self.X.shape[1])


def load_channel(
    path: Path, content_type: str, *, labelled: bool = True, channel: str | None = None
) -> Dataset:
    """Read every data file under `path` (a folder, or one file) as one dataset.

    `labelled=False` reads features only (a `target=` column, if named, is dropped).
    `channel` names the channel in error messages (default: the folder's name).
    """
    path = Path(path)
    name = channel or path.name
    base, params = split_content_type(content_type)
    files = data_files(path, name)
    if base in CSV_TYPES:
        return _load_csv(files, params, labelled, name)
    if base in LIBSVM_TYPES:
        return _load_libsvm(files, labelled, name)
    if base in PARQUET_TYPES:
        return _load_parquet(files, params, labelled, name)
    raise AlgorithmError(
        f"channel {name!r}: content type {content_type!r} is not supported; "
        f"use one of {', '.join(CONTENT_TYPES)}"
    )


def data_files(path: Path, channel: str) -> list[Path]:
    """The channel's data files in name order, skipping hidden files and job markers."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise AlgorithmError(f"channel {channel!r}: {path} does not exist")
    files = [
        p
        for p in sorted(path.rglob("*"))
        if p.is_file() and not _is_marker(p.relative_to(path)) and p.stat().st_size > 0
    ]
    if not files:
        raise AlgorithmError(f"channel {channel!r} has no data files (looked in {path})")
    return files


def _is_marker(relative: Path) -> bool:
    # `_SUCCESS`, `_committed_*`, `.crc` and dot-files are written by Spark, Hadoop and editors.
    return any(part.startswith((".", "_")) for part in relative.parts) or relative.name.endswith(
        _MARKER_SUFFIXES
    )


def _label_index(
    names: Sequence[str] | None, params: dict[str, str], labelled: bool, where: str
) -> int | None:
    """Which column is the label (dropped from the features): None when there is none."""
    target = params.get("target")
    if target is not None:
        if names is None:
            raise AlgorithmError(f"{where}: target={target} needs a header (use header=present)")
        if target not in names:
            if not labelled:
                return None
            raise AlgorithmError(
                f"{where}: no column named {target!r} for the label; columns are "
                f"{', '.join(names[:20])}{' …' if len(names) > 20 else ''}"
            )
        return list(names).index(target)
    if not labelled or params.get("label_size", "1").strip() == "0":
        return None
    return 0


# -- CSV ---------------------------------------------------------------------------------------


def _load_csv(files: list[Path], params: dict[str, str], labelled: bool, channel: str) -> Dataset:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    header = params.get("header", "absent").lower() == "present"
    tables: list[pa.Table] = []
    names: list[str] | None = None
    label: int | None = None
    for file in files:
        first = _first_line(file)
        if first is None:
            continue
        cells = next(csv.reader([first]))
        file_names = [c.strip() for c in cells] if header else None
        if tables and len(cells) != tables[0].num_columns:
            raise AlgorithmError(
                f"channel {channel!r}: {file.name} has {len(cells)} columns but "
                f"{files[0].name} has {tables[0].num_columns}"
            )
        if header and names is not None and file_names != names:
            raise AlgorithmError(
                f"channel {channel!r}: the header of {file.name} differs from {files[0].name}'s"
            )
        if not tables:  # settle the label before reading: a wrong target fails fast
            names = file_names
            label = _label_index(names, params, labelled, f"channel {channel!r}")
        columns = [f"c{i}" for i in range(len(cells))]
        try:
            table = pacsv.read_csv(
                file,
                read_options=pacsv.ReadOptions(column_names=columns, skip_rows=int(header)),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(columns, pa.float32())
                ),
            )
        except pa.ArrowInvalid as exc:
            raise AlgorithmError(_explain_csv(file, len(cells), header, file_names, exc)) from None
        tables.append(table)
    if not tables or sum(t.num_rows for t in tables) == 0:
        raise AlgorithmError(f"channel {channel!r} has no rows")
    return _assemble(tables, names, label, labelled, channel)


def _first_line(file: Path) -> str | None:
    with file.open("r", encoding="utf-8-sig", newline="") as fh:
        for line in fh:
            if line.strip():
                return line.rstrip("\r\n")
    return None


def _explain_csv(
    file: Path, width: int, header: bool, names: list[str] | None, exc: Exception
) -> str:
    """Find the first bad line of a CSV the fast reader refused, and describe it."""
    with file.open("r", encoding="utf-8-sig", newline="") as fh:
        rows = csv.reader(fh)
        for lineno, row in enumerate(rows, start=1):
            if (header and lineno == 1) or not row:
                continue
            if len(row) != width:
                return (
                    f"{file.name}, line {lineno}: {len(row)} values where the first row has "
                    f"{width} (every row needs the same number of columns)"
                )
            for col, cell in enumerate(row):
                value = cell.strip()
                if value.lower() in NULL_TOKENS:
                    continue
                try:
                    float(value)
                except ValueError:
                    column = f"column {col + 1}" + (f" ({names[col]!r})" if names else "")
                    return (
                        f"{file.name}, line {lineno}, {column}: {value[:40]!r} is not a number "
                        "(built-in algorithms read numeric CSV; encode categories first)"
                    )
    return f"{file.name}: cannot read as CSV: {exc}"


def _assemble(
    tables: list[pa.Table],
    names: list[str] | None,
    label: int | None,
    labelled: bool,
    channel: str,
) -> Dataset:
    """Copy float32 Arrow columns into one row-major matrix plus a label vector.

    The `label` column is left out of the matrix; it becomes `y` only when `labelled`.
    """
    width = tables[0].num_columns
    features = [i for i in range(width) if i != label]
    rows = sum(t.num_rows for t in tables)
    X = np.empty((rows, len(features)), dtype=np.float32)
    y = np.empty(rows, dtype=np.float32) if label is not None and labelled else None
    offset = 0
    for table in tables:
        n = table.num_rows
        columns = [_to_numpy(table.column(i)) for i in features]
        for start in range(0, n, _BLOCK_ROWS):
            stop = min(start + _BLOCK_ROWS, n)
            np.stack(
                [c[start:stop] for c in columns], axis=1, out=X[offset + start : offset + stop]
            )
        if y is not None and label is not None:
            y[offset : offset + n] = _to_numpy(table.column(label))
        offset += n
    if y is not None:
        missing = np.flatnonzero(np.isnan(y))
        if missing.size:
            raise AlgorithmError(
                f"channel {channel!r}: the label is missing in data row {int(missing[0]) + 1} "
                f"({missing.size} rows without a label in all)"
            )
    feature_names = [names[i] for i in features] if names else None
    return Dataset(X=X, y=y, feature_names=feature_names)


def _to_numpy(column: pa.ChunkedArray) -> np.ndarray:
    # Float columns turn nulls into NaN; XGBoost reads NaN as "missing".
    if column.num_chunks == 1:
        return column.chunk(0).to_numpy(zero_copy_only=False)
    return column.to_numpy()


# -- Parquet -----------------------------------------------------------------------------------


def _load_parquet(
    files: list[Path], params: dict[str, str], labelled: bool, channel: str
) -> Dataset:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables: list[pa.Table] = []
    names: list[str] = []
    for file in files:
        try:
            table = pq.read_table(file)
        except (pa.ArrowInvalid, OSError) as exc:
            raise AlgorithmError(
                f"channel {channel!r}: {file.name} is not Parquet: {exc}"
            ) from None
        if names and table.column_names != names:
            raise AlgorithmError(
                f"channel {channel!r}: the columns of {file.name} differ from {files[0].name}'s"
            )
        names = table.column_names
        tables.append(_float32_columns(table, file.name))
    label = _label_index(names, params, labelled, f"channel {channel!r}")
    return _assemble(tables, names, label, labelled, channel)


def _float32_columns(table: pa.Table, file: str) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if not (
            pa.types.is_integer(kind)
            or pa.types.is_floating(kind)
            or pa.types.is_boolean(kind)
            or pa.types.is_decimal(kind)
            or pa.types.is_null(kind)
        ):
            raise AlgorithmError(
                f"{file}: column {name!r} has type {kind}, not a number "
                "(built-in algorithms read numeric columns; encode categories first)"
            )
        columns.append(pc.cast(column, pa.float32()))
    return pa.table(columns, names=[f"c{i}" for i in range(len(columns))])


# -- LIBSVM ------------------------------------------------------------------------------------


def _load_libsvm(files: list[Path], labelled: bool, channel: str) -> Dataset:
    import scipy.sparse

    if labelled:
        try:
            return _load_libsvm_fast(files)
        except (ValueError, RuntimeError):
            pass  # the pure-Python parser below names the line at fault
    parts = []
    for file in files:
        try:
            parts.append(parse_libsvm(file.read_text(encoding="utf-8"), labelled=labelled))
        except ValidationError as exc:
            raise AlgorithmError(f"channel {channel!r}: {file.name}: {exc.message}") from None
    width = max(m.shape[1] for m, _, _ in parts)
    X = scipy.sparse.vstack([_widen(m, width) for m, _, _ in parts], format="csr")
    y = np.concatenate([y for _, y, _ in parts if y is not None]) if labelled else None
    qids = [q for _, _, q in parts if q is not None]
    qid = np.concatenate(qids) if len(qids) == len(parts) else None
    return Dataset(X=X.astype(np.float32), y=y, feature_names=None, qid=qid)


def _load_libsvm_fast(files: list[Path]) -> Dataset:
    """scikit-learn's compiled reader; indices are taken as column numbers, as XGBoost does."""
    import scipy.sparse
    from sklearn.datasets import load_svmlight_files

    loaded = load_svmlight_files(
        [str(f) for f in files], dtype=np.float32, zero_based=True, query_id=True
    )
    matrices, labels, qids = loaded[0::3], loaded[1::3], loaded[2::3]
    X = scipy.sparse.vstack(matrices, format="csr").astype(np.float32)
    qid = np.concatenate(qids)
    has_qid = bool(qid.size) and bool(np.any(qid != 0))
    y = np.concatenate(labels).astype(np.float32)
    return Dataset(X=X, y=y, feature_names=None, qid=qid.astype(np.int64) if has_qid else None)


def _widen(matrix: scipy.sparse.csr_matrix, width: int) -> scipy.sparse.csr_matrix:
    if matrix.shape[1] == width:
        return matrix
    matrix = matrix.copy()
    matrix.resize((matrix.shape[0], width))
    return matrix
