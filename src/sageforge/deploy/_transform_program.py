"""The batch transform job's program, run in the job process (never in the server).

The model is loaded once, then every input file under the prefix is cut into
mini-batches — one record each (SingleRecord) or as many whole records as fit
in MaxPayloadInMB (MultiRecord) — which a thread pool sends through the same
handler an endpoint uses. `<file>.out` gets one answer per record, in input
order, joined with the input and filtered as DataProcessing says, and is
written atomically, as SageMaker writes it.

Mini-batches of all the files flow through one bounded window, so the pool
never drains between files, and a file's output is written as soon as its
last mini-batch is answered.

Fast path: a model that scores a feature matrix exactly as its endpoint answers
CSV (XGBoost), over CSV (or Parquet) records, MultiRecord, no filters — pyarrow
parses each mini-batch into a float matrix, the model scores the matrix
directly, and pyarrow writes the scores. pyarrow and the model's C code release
the GIL, so mini-batches really run in parallel. Parsing needs no model, so it
starts on a thread of its own while the model loads (importing XGBoost takes
a second or more): by the time the model is ready, much of the input is parsed.
Start-up is kept to what the job uses: XGBoost without scikit-learn, one
built-in rather than all, and no pandas behind pyarrow's conversions.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import os
import posixpath
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sageforge.core.errors import ValidationError
from sageforge.core.jobs.runner import COMPLETED, STOPPED, JobFailure, JobResult, RunContext
from sageforge.deploy._handler import Handler, ModelError, build_handler
from sageforge.deploy._jsonpath import compile_path

MB = 1024 * 1024
PARSE_AHEAD_BYTES = 512 * MB
"""Input parsed while the model loads: enough to cover a slow import, bounded for huge inputs."""
WINDOW_BYTES = 256 * MB
"""Input in the pool at once (or two mini-batches per worker, if more): memory stays bounded."""
WINDOW_TASKS = 256
"""Tasks in the pool at once: SingleRecord makes one per record."""
_CSV = "text/csv"
_PARQUET = ("application/x-parquet", "application/parquet", "application/vnd.apache.parquet")


def run_transform_job(ctx: RunContext) -> JobResult:
    """Load the model, transform every input file, write `<file>.out`s; see the module docstring."""
    spec = ctx.spec
    ctx.events.status("Downloading", "Loading the model")
    ctx.log(f"Loading model {spec['model_name']}")
    for key, value in (spec.get("environment") or {}).items():
        os.environ.setdefault(key, value)
    files = _input_files(ctx, spec)
    started = time.monotonic()
    plan = _Plan(spec)
    pieces = plan.pieces(ctx, files)
    ahead = (
        _ParseAhead(pieces, ctx, plan.parse_ahead)
        if plan.may_parse_ahead(spec["containers"])
        else None
    )
    try:
        _import_xgboost_alone(spec["containers"])
        handler = build_handler(ctx.store, spec["containers"], ctx.layout.root / "model")
    except Exception as exc:
        raise JobFailure(f"ClientError: could not load model {spec['model_name']}: {exc}") from exc
    finally:
        parsed = ahead.finish() if ahead is not None else []
    plan.use(handler)
    loaded = time.monotonic()
    ahead_mb = sum(len(p.data) for p in parsed if p.data is not None) / MB
    ctx.events.status("Transforming", f"Transforming {len(files)} file(s)")
    ctx.log(
        f"Model loaded in {loaded - started:.2f}s ({ahead_mb:.0f} MB of input read meanwhile); "
        f"transforming {len(files)} file(s)"
    )
    workers = int(spec.get("max_concurrent_transforms") or 0) or (os.cpu_count() or 1)
    out_base = spec["transform_output"]["s3_output_path"].rstrip("/")
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="transform") as pool:
        window = _Window(
            ctx, plan, pool, files, out_base, max(WINDOW_BYTES, 2 * workers * plan.max_payload)
        )
        for piece in itertools.chain(parsed, pieces):
            if ctx.stop.is_set():
                pool.shutdown(wait=True, cancel_futures=True)
                return JobResult(STOPPED, secondary_status=STOPPED)
            window.add(piece)
        window.drain()
    ctx.log(
        f"Transformed {window.records} record(s) in {len(files)} file(s) "
        f"in {time.monotonic() - loaded:.2f}s after the model loaded"
    )
    return JobResult(
        COMPLETED,
        outputs={"output_path": out_base, "files": len(files), "records": window.records},
    )


def _import_xgboost_alone(containers: Sequence[Mapping[str, Any]]) -> None:
    """Import XGBoost without scikit-learn when the model is the built-in XGBoost alone.

    `import xgboost` imports scikit-learn whenever it is installed, for its
    estimator wrappers, and scikit-learn imports SciPy's stats and pandas: 2-3
    seconds of the job's start-up, longer than scoring a million rows. The
    built-in only uses the Booster (a pickled XGBClassifier still loads and
    yields its Booster). scikit-learn stays importable afterwards; only
    XGBoost's wrappers in this process lack it. Nothing here runs user code.
    """
    if not _builtin_xgboost(containers) or "xgboost" in sys.modules or "sklearn" in sys.modules:
        return
    sys.modules["sklearn"] = None  # type: ignore[assignment]  # `import sklearn` now fails
    try:
        import xgboost  # noqa: F401
    except ImportError:
        pass  # loading the model says what is missing
    finally:
        del sys.modules["sklearn"]


def _builtin_xgboost(containers: Sequence[Mapping[str, Any]]) -> bool:
    name = str(containers[0].get("algorithm_name") or "") if len(containers) == 1 else ""
    return name.strip().lower() == "xgboost"


def _input_files(ctx: RunContext, spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(url, path relative to the prefix) of every input file, sorted."""
    src = spec["transform_input"]["data_source"]["s3_data_source"]
    url = src["s3_uri"].rstrip("/")
    fs, path = ctx.store.resolve(url, field="transform_input")
    if src.get("s3_data_type") == "ManifestFile":
        manifest = json.loads(fs.cat_file(path))
        prefix = manifest[0]["prefix"].rstrip("/")
        return [(f"{prefix}/{p}", p) for p in manifest[1:]]
    if fs.isfile(path):
        return [(url, posixpath.basename(path))]
    found = sorted(p for p in fs.find(path) if not posixpath.basename(p).startswith("."))
    if not found:
        raise JobFailure(f"ClientError: no input files under {url}")
    proto = url.split("://", 1)[0] + "://" if "://" in url else ""
    out = []
    for p in found:
        rel = posixpath.relpath(p, path)
        out.append((url + "/" + rel if proto else p, rel))
    return out


def _read(ctx: RunContext, url: str, spec: dict[str, Any]) -> bytes:
    fs, path = ctx.store.resolve(url)
    data = bytes(fs.cat_file(path))
    if spec["transform_input"].get("compression_type") == "Gzip":
        data = gzip.decompress(data)
    return data


def _write(ctx: RunContext, url: str, parts: list[bytes]) -> None:
    key = ctx.store.key_of(url)
    if key is not None:
        with ctx.store.open_write(key) as fh:
            for p in parts:
                fh.write(p)
        return
    with tempfile.NamedTemporaryFile(dir=ctx.layout.root, delete=False) as tmp:
        for p in parts:
            tmp.write(p)
    try:
        ctx.store.upload(tmp.name, url)
    finally:
        Path(tmp.name).unlink(missing_ok=True)


@dataclass(slots=True)
class _Piece:
    """A mini-batch of one file (a whole file if it is not split), or `data=None`: the file ends."""

    file: int
    data: bytes | memoryview | None
    matrix: np.ndarray | None = None
    """Its records as features, when parsed ahead."""
    error: BaseException | None = None
    """Reading the input failed while the model loaded: raised when the job gets here."""


class _ParseAhead:
    """Parses the first mini-batches on a thread of its own while the main thread loads the model.

    It takes pieces from the same iterator the job goes on with, so nothing is
    read twice; it stops when the model is ready, the job is stopped, or
    `PARSE_AHEAD_BYTES` are parsed.
    """

    def __init__(
        self,
        pieces: Iterator[_Piece],
        ctx: RunContext,
        parse: Callable[[bytes | memoryview], np.ndarray | None],
    ) -> None:
        self._pieces = pieces
        self._ctx = ctx
        self._parse = parse
        self._ready = threading.Event()
        self._out: list[_Piece] = []
        self._thread = threading.Thread(target=self._run, name="transform-parse", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        budget = PARSE_AHEAD_BYTES
        try:
            for piece in self._pieces:
                if piece.data is not None:
                    piece.matrix = self._parse(piece.data)
                    budget -= len(piece.data)
                self._out.append(piece)
                if budget <= 0 or self._ready.is_set() or self._ctx.stop.is_set():
                    return
        except Exception as exc:  # raised in the job's own order, once it reaches this point
            self._out.append(_Piece(-1, None, error=exc))

    def finish(self) -> list[_Piece]:
        """The pieces taken so far (parsed); the iterator goes on after them."""
        self._ready.set()
        self._thread.join()
        return self._out


class _Window:
    """Mini-batches in the pool, answered in input order; a file is written when it is complete."""

    def __init__(
        self,
        ctx: RunContext,
        plan: _Plan,
        pool: ThreadPoolExecutor,
        files: Sequence[tuple[str, str]],
        out_base: str,
        max_bytes: int,
    ) -> None:
        self.ctx, self.plan, self.pool, self.files = ctx, plan, pool, files
        self.out_base, self.max_bytes = out_base, max_bytes
        self.queue: deque[tuple[int, Future[tuple[bytes, int]] | None, int]] = deque()
        self.bytes = 0
        self.parts: list[bytes] = []
        self.count = 0
        self.records = 0

    def add(self, piece: _Piece) -> None:
        if piece.error is not None:
            self.drain()
            raise piece.error
        if piece.data is None:
            self.queue.append((piece.file, None, 0))
        else:
            try:
                tasks = self.plan.submit(self.pool, piece)
            except (ValidationError, ModelError) as exc:
                raise self._failure(piece.file, exc) from exc
            for future, size in tasks:
                self.queue.append((piece.file, future, size))
                self.bytes += size
        while self.bytes > self.max_bytes or len(self.queue) > WINDOW_TASKS:
            self._pop()

    def drain(self) -> None:
        while self.queue:
            self._pop()

    def _pop(self) -> None:
        index, future, size = self.queue.popleft()
        self.bytes -= size
        if future is not None:
            try:
                body, n = future.result()
            except (ValidationError, ModelError) as exc:
                raise self._failure(index, exc) from exc
            self.parts.append(body)
            self.count += n
            return
        rel = self.files[index][1]
        out_url = f"{self.out_base}/{rel}.out"
        _write(self.ctx, out_url, self.parts)
        self.records += self.count
        self.ctx.log(f"{rel}: {self.count} record(s) -> {out_url}")
        self.ctx.events.metric("records", float(self.records), index)
        self.parts, self.count = [], 0

    def _failure(self, index: int, exc: ValidationError | ModelError) -> JobFailure:
        detail = exc.message if isinstance(exc, ValidationError) else f"{exc.message}\n{exc.log}"
        return JobFailure(f"ClientError: {self.files[index][1]}: {detail}")


class _Plan:
    """How each file is cut, sent and reassembled (fixed for the whole job)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        ti, to, dp = spec["transform_input"], spec["transform_output"], spec["data_processing"]
        self.spec = spec
        self.content_type = ti.get("content_type") or _CSV
        self.base_type = self.content_type.split(";", 1)[0].strip().lower()
        self.split_line = ti.get("split_type") == "Line" or self.base_type in _PARQUET
        self.accept = to.get("accept") or (
            self.content_type if self.base_type not in _PARQUET else _CSV
        )
        self.line = to.get("assemble_with") == "Line"
        self.single = spec.get("batch_strategy") == "SingleRecord"
        self.max_payload = max(1, int(spec.get("max_payload_in_mb", 6) or 100)) * MB
        self.input_filter = compile_path(
            dp.get("input_filter", "$"), "data_processing.input_filter"
        )
        self.output_filter = compile_path(
            dp.get("output_filter", "$"), "data_processing.output_filter"
        )
        self.join = dp.get("join_source") == "Input"
        self.filtered = dp.get("input_filter", "$") != "$" or dp.get("output_filter", "$") != "$"
        accept_base = self.accept.split(";", 1)[0].strip().lower()
        self.matrix_input = (
            self.split_line
            and not self.single
            and not self.join
            and not self.filtered
            and self.base_type in (_CSV, *_PARQUET)
            and accept_base in (_CSV, "*/*")
        )
        self.handler: Handler | None = None
        self.predict: Any = None
        self.fast = False

    def may_parse_ahead(self, containers: Sequence[Mapping[str, Any]]) -> bool:
        """Whether input parsed before the model is loaded will be used: the built-in XGBoost's.

        Any other model answers through `invoke`, and parsing for nothing would
        only slow its loading down.
        """
        parsable = self.base_type == _CSV or self.base_type in _PARQUET
        return self.matrix_input and parsable and _builtin_xgboost(containers)

    def parse_ahead(self, data: bytes | memoryview) -> np.ndarray | None:
        """A piece's records as the feature matrix the fast path scores."""
        if self.base_type in _PARQUET:
            return _table_matrix(_parquet_table(data))
        return _csv_matrix(data)

    def use(self, handler: Handler) -> None:
        self.handler = handler
        self.predict = handler.features_predictor()
        self.fast = self.matrix_input and self.predict is not None

    def pieces(self, ctx: RunContext, files: Sequence[tuple[str, str]]) -> Iterator[_Piece]:
        """Every file's mini-batches in order, each file followed by its end; read lazily."""
        lines = self.split_line and self.base_type not in _PARQUET
        for index, (url, _) in enumerate(files):
            data = _read(ctx, url, self.spec)
            if lines:
                for chunk in _line_chunks(data, self.max_payload, self.single):
                    yield _Piece(index, chunk)
            else:
                yield _Piece(index, data)
            yield _Piece(index, None)

    def submit(
        self, pool: ThreadPoolExecutor, piece: _Piece
    ) -> list[tuple[Future[tuple[bytes, int]], int]]:
        """The piece's tasks, each with its input size."""
        data = piece.data
        assert data is not None
        if self.base_type in _PARQUET:
            return self._parquet(pool, data, piece.matrix)
        if not self.split_line:
            return [(pool.submit(self._whole, bytes(data)), len(data))]
        if self.fast:
            return [(pool.submit(self._fast_csv, data, piece.matrix), len(data))]
        return [(pool.submit(self._general_chunk, data, self.content_type), len(data))]

    def _parquet(
        self, pool: ThreadPoolExecutor, data: bytes | memoryview, matrix: np.ndarray | None
    ) -> list[tuple[Future[tuple[bytes, int]], int]]:
        if matrix is None:
            table = _parquet_table(data)
            matrix = _table_matrix(table)
            if matrix is None:  # not all numbers: its rows go to the model as CSV records
                text = _table_csv(table)
                return [
                    (pool.submit(self._general_chunk, chunk, _CSV), len(chunk))
                    for chunk in _line_chunks(text, self.max_payload, self.single)
                ]
        rows_per = max(1, self.max_payload // max(1, matrix.shape[1] * 12))
        pieces = [matrix[i : i + rows_per] for i in range(0, len(matrix), rows_per)]
        if self.fast:
            return [(pool.submit(self._fast_rows, p), p.nbytes) for p in pieces]
        return [(pool.submit(self._general_chunk, _csv_rows(p), _CSV), p.nbytes) for p in pieces]

    def _fast_csv(self, chunk: bytes | memoryview, matrix: np.ndarray | None) -> tuple[bytes, int]:
        if matrix is None:
            matrix = _csv_matrix(chunk)
        if matrix is not None:
            try:
                return _scores_csv(self.predict, matrix), len(matrix)
            except Exception:
                pass  # e.g. rows of the wrong width: the handler says so, as the endpoint would
        return self._general_chunk(chunk, self.content_type)  # the codec names the bad row

    def _fast_rows(self, matrix: np.ndarray) -> tuple[bytes, int]:
        try:
            return _scores_csv(self.predict, matrix), len(matrix)
        except Exception:
            return self._general_chunk(_csv_rows(matrix), _CSV)

    # -- the general path -------------------------------------------------------------------

    def _whole(self, data: bytes) -> tuple[bytes, int]:
        return self._general([data], self.content_type), 1

    def _general_chunk(self, chunk: bytes | memoryview, content_type: str) -> tuple[bytes, int]:
        records = [r for r in bytes(chunk).split(b"\n") if r.strip()]
        return self._general(records, content_type), len(records)

    def _general(self, records: list[bytes], content_type: str) -> bytes:
        if not records:
            return b""
        assert self.handler is not None
        csv_in = content_type.split(";", 1)[0].strip().lower() == _CSV
        parsed = [_parse(r, csv_in) for r in records] if (self.filtered or self.join) else None
        if parsed is not None and self.input_filter is not None:
            sent = [_render(self.input_filter(p), csv_in) for p in parsed]
        else:
            sent = records
        out: list[bytes] = []
        if self.single:
            for r in sent:
                body, ctype = self.handler.invoke(r, content_type, self.accept)
                out.append(body.rstrip(b"\n"))
        else:
            body, ctype = self.handler.invoke(b"\n".join(sent), content_type, self.accept)
            out = _split_answers(body, ctype, len(sent))
        if self.join or self.filtered:
            csv_out = ctype.split(";", 1)[0].strip().lower() == _CSV
            joined = []
            for i, answer in enumerate(out):
                value = _parse(answer, csv_out)
                if self.join:
                    assert parsed is not None
                    value = _join(parsed[i], value, csv_in)
                joined.append(_render(self.output_filter(value), csv_in if self.join else csv_out))
            out = joined
        sep = b"\n" if self.line else b""
        return sep.join(out) + sep


def _line_chunks(data: bytes, max_bytes: int, single: bool) -> Iterator[bytes | memoryview]:
    """Whole-line chunks of at most `max_bytes` (one line each when `single`).

    Chunks are views into `data`, not copies: copying a file's worth of fresh
    memory, with the GIL held, cost more than parsing it.
    """
    if single:
        for line in data.split(b"\n"):
            if line.strip():
                yield line
        return
    view = memoryview(data)
    start, n = 0, len(data)
    while start < n:
        end = min(n, start + max_bytes)
        if end < n:
            cut = data.rfind(b"\n", start, end)
            end = cut + 1 if cut >= start else data.find(b"\n", end) + 1 or n
        yield view[start:end]
        start = end


def _csv_matrix(chunk: bytes | memoryview) -> np.ndarray | None:
    """CSV records as a float32 matrix, or None when pyarrow will not read them as numbers.

    Cells are read as float64, then rounded to float32, as the endpoint's codec
    does, so a record scores the same here and there; empty cells are NaN. Only
    numeric columns convert (`true` is not a number to the endpoint either). A
    tensor, unlike `to_numpy`, does not import pandas (a second of start-up for
    nothing); the chunk is parsed as one block, so there is nothing to combine,
    and the column-major tensor is copies of the columns, transposed once by the
    cast to float32.
    """
    import pyarrow as pa
    import pyarrow.csv as pv

    try:
        table = pv.read_csv(
            pa.BufferReader(chunk),
            read_options=pv.ReadOptions(
                autogenerate_column_names=True,
                use_threads=False,
                block_size=min(len(chunk) + 1, 1 << 30),
            ),
        )
        (batch,) = table.combine_chunks().to_batches()
        tensor = batch.to_tensor(null_to_nan=True, row_major=False)
        return np.asarray(tensor).astype(np.float32, order="C")
    except Exception:
        return None  # the general path reads the records again and says which one is wrong


def _parquet_table(data: bytes | memoryview) -> Any:
    """A Parquet file as an Arrow table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_table(pa.BufferReader(data))


def _table_matrix(table: Any) -> np.ndarray | None:
    """A table's columns as one row-major float32 matrix, or None if one is not numeric.

    Each column is converted once, straight into its place in the matrix.
    """
    import pyarrow as pa

    matrix = np.empty((table.num_rows, table.num_columns), dtype=np.float32)
    for j, column in enumerate(table.columns):
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            return None
        matrix[:, j] = column.to_numpy(zero_copy_only=False)
    return matrix


def _table_csv(table: Any) -> bytes:
    """A table's rows as CSV records (no header), for a model that reads them as text."""
    import pyarrow.csv as pv

    out = io.BytesIO()
    pv.write_csv(table, out, write_options=pv.WriteOptions(include_header=False))
    return out.getvalue()


def _csv_rows(matrix: np.ndarray) -> bytes:
    return ("\n".join(",".join(repr(float(v)) for v in row) for row in matrix)).encode() + b"\n"


def _scores_csv(predict: Any, matrix: np.ndarray) -> bytes:
    """The model's scores for the rows, one CSV line per row (several values: comma-separated).

    Float columns go to Arrow as their own buffers: `pa.array` on a NumPy array
    would import pandas, a second of start-up the job does not need.
    """
    import pyarrow as pa
    import pyarrow.csv as pv

    scores = np.asarray(predict(matrix))
    scores = scores.reshape(len(scores), -1) if scores.ndim != 1 else scores[:, None]
    columns = []
    for j in range(scores.shape[1]):
        column = np.ascontiguousarray(scores[:, j])
        if column.dtype.kind == "f":
            kind = pa.from_numpy_dtype(column.dtype)
            columns.append(pa.Array.from_buffers(kind, len(column), [None, pa.py_buffer(column)]))
        else:
            columns.append(pa.array(column))
    batch = pa.RecordBatch.from_arrays(columns, names=[f"c{j}" for j in range(len(columns))])
    buf = io.BytesIO()
    pv.write_csv(
        batch, buf, write_options=pv.WriteOptions(include_header=False, quoting_style="none")
    )
    return buf.getvalue()


def _split_answers(body: bytes, content_type: str, expected: int) -> list[bytes]:
    base = content_type.split(";", 1)[0].strip().lower()
    if base == "application/json":
        doc = json.loads(body)
        items = doc.get("predictions", doc) if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            items = [items]
        answers = [json.dumps(i, separators=(",", ":")).encode() for i in items]
    else:
        answers = [line for line in body.split(b"\n") if line.strip()]
    if len(answers) != expected:
        raise ValidationError(
            f"the model answered {len(answers)} record(s) for a mini-batch of {expected}; "
            "use batch_strategy SingleRecord for a model that answers a batch as one record"
        )
    return answers


def _parse(record: bytes, csv: bool) -> Any:
    if csv:
        return record.decode("utf-8").rstrip("\r").split(",")
    try:
        return json.loads(record)
    except json.JSONDecodeError:
        raise ValidationError(f"not a JSON record: {record[:80]!r}") from None


def _render(value: Any, csv: bool) -> bytes:
    if csv:
        if isinstance(value, list):
            return ",".join(_cell(v) for v in value).encode()
        return _cell(value).encode()
    return json.dumps(value, separators=(",", ":")).encode()


def _cell(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _join(source: Any, answer: Any, csv: bool) -> Any:
    """SageMaker's JoinSource=Input: CSV values appended; JSON gets a SageMakerOutput key."""
    if csv:
        extra = answer if isinstance(answer, list) else [answer]
        return [*source, *extra]
    if isinstance(source, dict):
        return {**source, "SageMakerOutput": answer}
    if isinstance(source, list):
        return [*source, answer]
    return {"SageMakerInput": source, "SageMakerOutput": answer}
