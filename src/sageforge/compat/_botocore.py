"""botocore's service models as the server's reference: parse, validate, serialize.

The same JSON models boto3 ships describe every operation's input and output;
the server reads them (once, cached) to check a request the way AWS does and
to name the member at fault in AWS's own words, e.g. "1 validation error
detected: Value null at 'trainingJobName' failed to satisfy constraint: Member
must not be null". Members the model does not know are dropped rather than
refused: a client with a newer botocore may send members this one lacks.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from sageforge.compat._errors import AwsError, validation

_MAX_PATTERN_INPUT = 4096
"""Longer strings skip the pattern check: the models' regexes are not meant for megabytes."""


@functools.cache
def _session() -> Any:
    import botocore.session

    return botocore.session.get_session()


@functools.cache
def service_model(name: str) -> ServiceModel:
    """botocore's model of a service ("sagemaker", "logs", "cloudwatch", …), loaded once."""
    return _session().get_service_model(name)  # type: ignore[no-any-return]


def operation_model(service: str, name: str) -> OperationModel:
    """The operation's model, or AWS's `UnknownOperationException`."""
    model = service_model(service)
    if name not in model.operation_names:
        raise AwsError(
            "UnknownOperationException",
            f"Unknown operation {name!r} for service {model.service_name}",
        )
    return model.operation_model(name)


def parse_json_input(op: OperationModel, body: bytes) -> dict[str, Any]:
    """Decode a JSON body and validate it against the operation's input shape.

    Returns the params with timestamps as aware datetimes and blobs as bytes.
    """
    if body.strip():
        try:
            raw = json.loads(body)
        except ValueError as exc:
            raise AwsError(
                "SerializationException", f"the request body is not JSON: {exc}"
            ) from exc
    else:
        raw = {}
    if not isinstance(raw, dict):
        raise AwsError("SerializationException", "the request body must be a JSON object")
    shape = op.input_shape
    if shape is None:
        return {}
    return validate_input(shape, raw)


def validate_input(shape: StructureShape, params: dict[str, Any]) -> dict[str, Any]:
    """Check `params` against `shape`; raise one ValidationException listing every fault."""
    errors: list[str] = []
    value = _check(shape, params, "", errors)
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        raise validation(f"{count} validation {noun} detected: " + "; ".join(errors))
    return value  # type: ignore[no-any-return]


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _show(value: Any) -> str:
    """A value as AWS quotes it in messages (strings in quotes, null for absent)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        shown = value if len(value) <= 100 else value[:100] + "…"
        return f"'{shown}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = json.dumps(value, default=str)
    return text if len(text) <= 100 else text[:100] + "…"


def _fail(errors: list[str], value: Any, path: str, constraint: str) -> None:
    errors.append(
        f"Value {_show(value)} at '{path}' failed to satisfy constraint: Member must {constraint}"
    )


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _check_structure(shape, value, path, errors)  # type: ignore[arg-type]
    if kind == "list":
        if not isinstance(value, list):
            _fail(errors, value, path, "be a list")
            return value
        _check_size(shape, value, len(value), path, errors, "length")
        return [
            _check(shape.member, item, f"{path}.{i}.member", errors)  # type: ignore[attr-defined]
            for i, item in enumerate(value, 1)
        ]
    if kind == "map":
        if not isinstance(value, dict):
            _fail(errors, value, path, "be a map")
            return value
        _check_size(shape, value, len(value), path, errors, "length")
        out = {}
        for key, item in value.items():
            _check(shape.key, key, f"{path}.key", errors)  # type: ignore[attr-defined]
            out[key] = _check(shape.value, item, f"{path}.{key}", errors)  # type: ignore[attr-defined]
        return out
    if kind == "string":
        if not isinstance(value, str):
            _fail(errors, value, path, "be of type string")
            return value
        _check_size(shape, value, len(value), path, errors, "length")
        if shape.enum and value not in shape.enum:
            _fail(errors, value, path, f"satisfy enum value set: [{', '.join(shape.enum)}]")
        pattern = shape.metadata.get("pattern")
        if pattern and len(value) <= _MAX_PATTERN_INPUT:
            regex = _compiled(pattern)
            if regex is not None and regex.fullmatch(value) is None:
                _fail(errors, value, path, f"satisfy regular expression pattern: {pattern}")
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                _fail(errors, value, path, f"be of type {kind}")
                return value
        _check_size(shape, value, value, path, errors, "value")
        return value
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            _fail(errors, value, path, f"be of type {kind}")
            return value
        _check_size(shape, value, value, path, errors, "value")
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            _fail(errors, value, path, "be of type boolean")
        return value
    if kind == "timestamp":
        parsed = _parse_timestamp(value)
        if parsed is None:
            _fail(errors, value, path, "be a timestamp (epoch seconds or ISO 8601)")
            return value
        return parsed
    if kind == "blob":
        if not isinstance(value, str):
            _fail(errors, value, path, "be base64-encoded binary data")
            return value
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            _fail(errors, value, path, "be base64-encoded binary data")
            return value
    return value  # document types and anything newer: passed through unchecked


def _check_structure(
    shape: StructureShape, value: Any, path: str, errors: list[str]
) -> dict[str, Any] | Any:
    if getattr(shape, "is_document_type", False):
        return value
    if not isinstance(value, dict):
        _fail(errors, value, path or "input", "be a structure")
        return value
    out: dict[str, Any] = {}
    prefix = f"{path}." if path else ""
    for name in shape.required_members:
        if value.get(name) is None:
            _fail(errors, None, prefix + _lower_camel(name), "not be null")
    for name, member in shape.members.items():
        if name not in value or value[name] is None:
            continue
        out[name] = _check(member, value[name], prefix + _lower_camel(name), errors)
    return out


def _check_size(
    shape: Shape, value: Any, size: float, path: str, errors: list[str], what: str
) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        _fail(errors, value, path, f"have {what} greater than or equal to {_num(low)}")
    if high is not None and size > high:
        _fail(errors, value, path, f"have {what} less than or equal to {_num(high)}")


def _num(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    """The model's (Java-flavoured) regex in Python, or None when Python cannot read it."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _parse_timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):  # CBOR's tag 1 arrives decoded
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                return datetime.fromtimestamp(float(value), tz=UTC)
            except (ValueError, OverflowError, OSError):
                return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def to_wire(value: Any) -> Any:
    """A handler's output in JSON 1.1 wire form: epoch-second timestamps, base64 blobs, no nulls."""
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    if isinstance(value, datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=UTC)
        return round(stamp.timestamp(), 3)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value
