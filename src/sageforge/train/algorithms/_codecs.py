"""Inference payloads of the built-in algorithms: request bodies in, predictions out.

Endpoints and batch transform hand a built-in the raw request body and its
content type; every built-in decodes it here, so all of them accept the same
forms SageMaker's built-ins accept (CSV rows, JSON `instances`, JSON Lines,
LIBSVM) and answer in the same shapes. A payload that cannot be parsed raises
`ValidationError` naming the row at fault: the endpoint answers 4xx and keeps
serving.

This module is on the endpoint's hot path: the common cases (one or a few CSV
or JSON rows) go through numpy's C parsers, and the slow per-value walk runs
only to explain what is wrong with a payload that failed.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sageforge.core.errors import ValidationError

if TYPE_CHECKING:
    import scipy.sparse

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
LIBSVM = "text/libsvm"

REQUEST_TYPES = (CSV, JSON, JSONLINES, LIBSVM, "text/x-libsvm")
"""Request content types `decode_features` understands."""
RESPONSE_TYPES = (CSV, JSON, JSONLINES)
"""Response content types `encode_predictions` writes."""

_LIBSVM_ALIASES = {"text/libsvm", "text/x-libsvm", "libsvm", "application/x-libsvm"}
_JSONLINES_ALIASES = {"application/jsonlines", "application/jsonl", "application/x-jsonlines"}
# Strings CSV writers use for a missing value; read as NaN (XGBoost's "missing").
NULL_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none", "#n/a", "-nan", "+nan", "?"})


def split_content_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """`"text/csv; Header=present"` → `("text/csv", {"header": "present"})`.

    Types and parameter names are case-insensitive; parameter values keep their
    case because a `target=` column name is case-sensitive.
    """
    if not content_type:
        return "", {}
    base, *rest = content_type.split(";")
    params: dict[str, str] = {}
    for part in rest:
        key, sep, value = part.partition("=")
        if sep:
            params[key.strip().lower()] = value.strip().strip('"')
    return base.strip().lower(), params


def decode_features(body: bytes, content_type: str) -> np.ndarray | scipy.sparse.csr_matrix:
    """Feature rows (float32, 2-D) from a request body; missing values are NaN.

    `text/libsvm` gives a CSR matrix (absent features are missing); the other
    types give a dense array.
    """
    base, _ = split_content_type(content_type)
    if base in ("", CSV, "text/plain"):
        return _decode_csv(_text(body))
    if base == JSON:
        return _decode_json(_text(body))
    if base in _JSONLINES_ALIASES:
        return _decode_jsonlines(_text(body))
    if base in _LIBSVM_ALIASES:
        matrix, _, _ = parse_libsvm(_text(body), labelled=None)
        return matrix
    raise ValidationError(
        f"content type {content_type!r} is not supported; send one of {', '.join(REQUEST_TYPES)}",
        field="ContentType",
    )


def _text(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"the payload is not UTF-8 text (byte {exc.start})") from None


# -- CSV ---------------------------------------------------------------------------------------


def _decode_csv(text: str) -> np.ndarray:
    lines = text.splitlines()
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    if not numbered:
        raise ValidationError("the CSV payload has no rows")
    width = numbered[0][1].count(",") + 1
    for lineno, line in numbered:
        if line.count(",") + 1 != width:
            raise ValidationError(
                f"CSV row {lineno} has {line.count(',') + 1} values; row "
                f"{numbered[0][0]} has {width} (every row needs the same number of features)"
            )
    cells = ",".join(line for _, line in numbered).split(",")
    try:
        flat = np.array(cells, dtype=np.float32)
    except ValueError:
        flat = np.array([_csv_cell(c, lineno, col) for lineno, col, c in _cells(numbered)])
    return flat.astype(np.float32, copy=False).reshape(len(numbered), width)


def _cells(numbered: list[tuple[int, str]]) -> Any:
    for lineno, line in numbered:
        for col, cell in enumerate(line.split(","), start=1):
            yield lineno, col, cell


def _csv_cell(cell: str, lineno: int, col: int) -> float:
    """Slow path: one cell at a time, so a bad value is reported where it is."""
    value = cell.strip().strip('"').strip()
    if value.lower() in NULL_TOKENS:
        return math.nan
    try:
        return float(value)
    except ValueError:
        raise ValidationError(
            f"CSV row {lineno}, column {col}: {cell.strip()!r} is not a number"
        ) from None


# -- JSON and JSON Lines -----------------------------------------------------------------------


def _decode_json(text: str) -> np.ndarray:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"the JSON payload is malformed at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    if isinstance(payload, dict):
        if "instances" in payload:
            records = payload["instances"]
            if not isinstance(records, list):
                raise ValidationError('"instances" must be a list of records')
        elif "features" in payload:
            records = [payload]
        else:
            raise ValidationError(
                'a JSON object payload needs "instances" (a list of records) or "features"'
            )
    elif isinstance(payload, list):
        records = [payload] if payload and _is_scalar(payload[0]) else payload
    else:
        raise ValidationError("the JSON payload must be an object or a list")
    return _rows_to_array([_record_features(r, i) for i, r in enumerate(records, 1)], "instance")


def _decode_jsonlines(text: str) -> np.ndarray:
    rows: list[list[Any]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"JSON Lines line {lineno} is not valid JSON: {exc.msg}"
            ) from None
        rows.append(_record_features(record, lineno, "line"))
    return _rows_to_array(rows, "line")


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (int, float, str))


def _record_features(record: Any, index: int, noun: str = "instance") -> list[Any]:
    if isinstance(record, dict):
        record = record.get("features")
        if record is None:
            raise ValidationError(f'{noun} {index} has no "features" list')
    if not isinstance(record, list):
        raise ValidationError(f'{noun} {index} must be a list of numbers or {{"features": [...]}}')
    return record


def _rows_to_array(rows: list[list[Any]], noun: str) -> np.ndarray:
    if not rows:
        raise ValidationError("the payload has no instances")
    try:
        array = np.asarray(rows, dtype=np.float32)
        if array.ndim == 2:
            return array
    except (ValueError, TypeError):
        pass
    # Slow path: find the record that broke the fast conversion and say why.
    width = len(rows[0])
    for i, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ValidationError(
                f"{noun} {i} has {len(row)} features; {noun} 1 has {width} "
                "(every instance needs the same number of features)"
            )
        for j, value in enumerate(row, start=1):
            if value is None or isinstance(value, bool | int | float):
                continue
            if isinstance(value, str):
                try:
                    float(value)
                    continue
                except ValueError:
                    pass
            raise ValidationError(f"{noun} {i}, feature {j}: {value!r} is not a number")
    raise ValidationError("the instances are not a table of numbers")  # pragma: no cover


# -- LIBSVM ------------------------------------------------------------------------------------


def parse_libsvm(
    text: str, *, labelled: bool | None
) -> tuple[scipy.sparse.csr_matrix, np.ndarray | None, np.ndarray | None]:
    """Parse LIBSVM text into (features, labels, query ids); indices are column numbers.

    `labelled=None` takes a leading label when a row has one (inference payloads
    come both ways) and drops it. Raises ValidationError naming the line at fault.
    """
    import scipy.sparse

    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    labels: list[float] = []
    qids: list[int] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        tokens = line.split()
        if ":" not in tokens[0]:
            if labelled is False:
                raise ValidationError(f"LIBSVM line {lineno} starts with a label; expected none")
            labels.append(_libsvm_number(tokens[0], lineno, "label"))
            tokens = tokens[1:]
        elif labelled:
            raise ValidationError(f"LIBSVM line {lineno} has no label (a number before the pairs)")
        for token in tokens:
            key, sep, value = token.partition(":")
            if not sep:
                raise ValidationError(f"LIBSVM line {lineno}: {token!r} is not index:value")
            if key == "qid":
                qids.append(int(_libsvm_number(value, lineno, "qid")))
                continue
            if not key.isdigit():
                raise ValidationError(
                    f"LIBSVM line {lineno}: feature index {key!r} is not a non-negative integer"
                )
            indices.append(int(key))
            values.append(_libsvm_number(value, lineno, f"feature {key}"))
        indptr.append(len(indices))
    rows = len(indptr) - 1
    if rows == 0:
        raise ValidationError("the LIBSVM payload has no rows")
    width = max(indices) + 1 if indices else 0
    matrix = scipy.sparse.csr_matrix(
        (np.asarray(values, np.float32), np.asarray(indices, np.int64), np.asarray(indptr)),
        shape=(rows, width),
    )
    matrix.sort_indices()
    y = np.asarray(labels, np.float32) if labelled and labels else None
    qid = np.asarray(qids, np.int64) if len(qids) == rows else None
    return matrix, y, qid


def _libsvm_number(text: str, lineno: int, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValidationError(f"LIBSVM line {lineno}: {what} {text!r} is not a number") from None


# -- responses ---------------------------------------------------------------------------------


def choose_accept(accept: str | None) -> str:
    """The response type for an Accept header: its first supported type; CSV for `*/*`."""
    if not accept:
        return CSV
    for candidate in accept.split(","):
        base, _ = split_content_type(candidate)
        if base in ("*/*", "text/*", CSV):
            return CSV
        if base in (JSON, "application/*"):
            return JSON
        if base in _JSONLINES_ALIASES:
            return JSONLINES
    raise ValidationError(
        f"cannot answer in {accept!r}; accept one of {', '.join(RESPONSE_TYPES)}", field="Accept"
    )


def encode_predictions(
    predictions: np.ndarray, accept: str, *, key: str = "score"
) -> tuple[bytes, str]:
    """Serialize one prediction per row: (body, content type).

    A 2-D array is one multi-valued prediction per row (class probabilities,
    say). Floats are written in their shortest round-tripping form for their
    dtype, so float32 scores read back bit for bit.
    """
    kind = choose_accept(accept)
    preds = np.asarray(predictions)
    if preds.ndim == 0:
        preds = preds.reshape(1)
    if preds.ndim > 2:
        preds = preds.reshape(len(preds), -1)
    text = _number_strings(preds)
    if kind == CSV:
        lines = text if preds.ndim == 1 else [",".join(row) for row in text]
        return "\n".join(lines).encode(), CSV
    values = _json_values(text, preds.ndim)
    quoted_key = json.dumps(key)
    if kind == JSON:
        records = ",".join(f"{{{quoted_key}:{v}}}" for v in values)
        return f'{{"predictions":[{records}]}}'.encode(), JSON
    return "\n".join(f"{{{quoted_key}:{v}}}" for v in values).encode(), JSONLINES


def _number_strings(preds: np.ndarray) -> Any:
    if preds.dtype.kind == "f":
        return preds.astype(str).tolist()
    if preds.dtype.kind in "iub":
        return preds.astype(np.int64).astype(str).tolist()
    return preds.astype(np.float64).astype(str).tolist()


def _json_values(text: Any, ndim: int) -> list[str]:
    def fix(value: str) -> str:
        # JSON has no NaN or Infinity; a missing score is null.
        return "null" if value in ("nan", "inf", "-inf") else value

    if ndim == 1:
        return [fix(v) for v in text]
    return ["[" + ",".join(fix(v) for v in row) + "]" for row in text]
