"""The batch transform job's program, run in the job process (never in the server).

The model is loaded once, then every input file under the prefix is cut into
mini-batches — one record each (SingleRecord) or as many whole records as fit
in MaxPayloadInMB (MultiRecord) — which a thread pool sends through the same
handler an endpoint uses. `<file>.out` gets one answer per record, in input
order, joined with the input and filtered as DataProcessing says, and is
written atomically, as SageMaker writes it.

Fast path: a built-in over CSV (or Parquet) records, MultiRecord, no filters —
pyarrow parses each mini-batch into a float matrix, the model scores the
matrix directly, and pyarrow writes the scores. The model's C code and
pyarrow release the GIL, so mini-batches really run in parallel.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import posixpath
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from sageforge.core.errors import ValidationError
from sageforge.core.jobs.runner import COMPLETED, STOPPED, JobFailure, JobResult, RunContext
from sageforge.deploy._handler import Handler, ModelError, build_handler
from sageforge.deploy._jsonpath import compile_path

MB = 1024 * 1024
_CSV = "text/csv"
_PARQUET = ("application/x-parquet", "application/parquet", "application/vnd.apache.parquet")


def run_transform_job(ctx: RunContext) -> JobResult:
    """Load the model, transform every input file, write `<file>.out`s; see the module docstring."""
    spec = ctx.spec
    ctx.events.status("Downloading", "Loading the model")
    ctx.log(f"Loading model {spec['model_name']}")
    for key, value in (spec.get("environment") or {}).items():
        os.environ.setdefault(key, value)
    try:
        handler = build_handler(ctx.store, spec["containers"], ctx.layout.root / "model")
    except Exception as exc:
        raise JobFailure(f"ClientError: could not load model {spec['model_name']}: {exc}") from exc
    files = _input_files(ctx, spec)
    ctx.events.status("Transforming", f"Transforming {len(files)} file(s)")
    ctx.log(f"Transforming {len(files)} file(s)")
    out_base = spec["transform_output"]["s3_output_path"].rstrip("/")
    workers = int(spec.get("max_concurrent_transforms") or 0) or (os.cpu_count() or 1)
    plan = _Plan(spec, handler)
    records = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="transform") as pool:
        for step, (url, rel) in enumerate(files):
            if ctx.stop.is_set():
                return JobResult(STOPPED, secondary_status=STOPPED)
            try:
                data = _read(ctx, url, spec)
                parts = plan.run_file(pool, data, rel)
                out_url = f"{out_base}/{rel}.out"
                _write(ctx, out_url, parts)
            except (ValidationError, ModelError) as exc:
                detail = (
                    exc.message if isinstance(exc, ValidationError) else f"{exc.message}\n{exc.log}"
                )
                raise JobFailure(f"ClientError: {rel}: {detail}") from exc
            records += plan.last_count
            ctx.log(f"{rel}: {plan.last_count} record(s) -> {out_url}")
            ctx.events.metric("records", float(records), step)
    ctx.log(f"Transformed {records} record(s) in {len(files)} file(s)")
    return JobResult(
        COMPLETED, outputs={"output_path": out_base, "files": len(files), "records": records}
    )


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


class _Plan:
    """How each file is cut, sent and reassembled (fixed for the whole job)."""

    def __init__(self, spec: dict[str, Any], handler: Handler) -> None:
        ti, to, dp = spec["transform_input"], spec["transform_output"], spec["data_processing"]
        self.handler = handler
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
        self.predict = handler.features_predictor()
        accept_base = self.accept.split(";", 1)[0].strip().lower()
        self.fast = (
            self.predict is not None
            and self.split_line
            and not self.single
            and not self.join
            and not self.filtered
            and self.base_type in (_CSV, *_PARQUET)
            and accept_base in (_CSV, "*/*")
        )
        self.last_count = 0

    # -- one file ---------------------------------------------------------------------------

    def run_file(self, pool: ThreadPoolExecutor, data: bytes, rel: str) -> list[bytes]:
        if self.base_type in _PARQUET:
            return self._parquet(pool, data)
        if not self.split_line:
            self.last_count = 1
            return [self._general([data])]
        chunks = list(_line_chunks(data, 1 if self.single else self.max_payload, self.single))
        task = self._fast_csv if self.fast else self._general_chunk
        futures: list[Future[tuple[bytes, int]]] = [pool.submit(task, c) for c in chunks]
        parts, count = [], 0
        for f in futures:
            body, n = f.result()
            parts.append(body)
            count += n
        self.last_count = count
        return parts

    def _parquet(self, pool: ThreadPoolExecutor, data: bytes) -> list[bytes]:
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(data))
        matrix = np.column_stack([c.to_numpy(zero_copy_only=False) for c in table.columns]).astype(
            np.float32
        )
        self.last_count = len(matrix)
        rows_per = (
            max(1, self.max_payload // max(1, matrix.shape[1] * 12)) if not self.single else 1
        )
        pieces = [matrix[i : i + rows_per] for i in range(0, len(matrix), rows_per)]
        if self.fast:
            assert self.predict is not None
            return [f.result() for f in [pool.submit(_scores_csv, self.predict, p) for p in pieces]]
        csv_chunks = [
            ("\n".join(",".join(repr(float(v)) for v in row) for row in p)).encode() + b"\n"
            for p in pieces
        ]
        saved, self.content_type = self.content_type, _CSV
        try:
            return [
                f.result()[0] for f in [pool.submit(self._general_chunk, c) for c in csv_chunks]
            ]
        finally:
            self.content_type = saved

    def _fast_csv(self, chunk: bytes) -> tuple[bytes, int]:
        import pyarrow.csv as pv

        assert self.predict is not None
        try:
            table = pv.read_csv(
                io.BytesIO(chunk),
                read_options=pv.ReadOptions(autogenerate_column_names=True, use_threads=False),
            )
            matrix = np.column_stack(
                [c.to_numpy(zero_copy_only=False) for c in table.columns]
            ).astype(np.float32, copy=False)
        except Exception:
            return self._general_chunk(chunk)  # let the codec say which row is wrong
        return _scores_csv(self.predict, matrix), len(matrix)

    # -- the general path -------------------------------------------------------------------

    def _general_chunk(self, chunk: bytes) -> tuple[bytes, int]:
        records = [r for r in chunk.split(b"\n") if r.strip()]
        return self._general(records), len(records)

    def _general(self, records: list[bytes]) -> bytes:
        if not records:
            return b""
        csv_in = self.base_type == _CSV
        parsed = [_parse(r, csv_in) for r in records] if (self.filtered or self.join) else None
        if parsed is not None and self.input_filter is not None:
            sent = [_render(self.input_filter(p), csv_in) for p in parsed]
        else:
            sent = records
        out: list[bytes] = []
        if self.single:
            for r in sent:
                body, ctype = self.handler.invoke(r, self.content_type, self.accept)
                out.append(body.rstrip(b"\n"))
        else:
            body, ctype = self.handler.invoke(b"\n".join(sent), self.content_type, self.accept)
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


def _line_chunks(data: bytes, max_bytes: int, single: bool) -> Any:
    """Whole-line chunks of at most `max_bytes` (one line each when `single`)."""
    if single:
        for line in data.split(b"\n"):
            if line.strip():
                yield line
        return
    start, n = 0, len(data)
    while start < n:
        end = min(n, start + max_bytes)
        if end < n:
            cut = data.rfind(b"\n", start, end)
            end = cut + 1 if cut >= start else data.find(b"\n", end) + 1 or n
        yield data[start:end]
        start = end


def _scores_csv(predict: Any, matrix: np.ndarray) -> bytes:
    import pyarrow as pa
    import pyarrow.csv as pv

    scores = np.asarray(predict(matrix))
    cols = [scores] if scores.ndim == 1 else [scores[:, j] for j in range(scores.shape[1])]
    table = pa.table([pa.array(c) for c in cols], names=[f"c{j}" for j in range(len(cols))])
    buf = io.BytesIO()
    pv.write_csv(
        table, buf, write_options=pv.WriteOptions(include_header=False, quoting_style="none")
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
