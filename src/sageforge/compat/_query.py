"""The AWS query protocol, driven by botocore's shapes: form fields in, XML out.

Older botocore releases speak it to CloudWatch, and STS still does. Input is
flattened (`Dimensions.member.1.Name=…`); this turns it back into the nested
params `_botocore.validate_input` checks, and writes a result dict as
`<OpResponse><OpResult>…</OpResult><ResponseMetadata>…</ResponseMetadata>`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import OperationModel, Shape


def decode(shape: Shape | None, flat: dict[str, str]) -> dict[str, Any]:
    """Nested params from the flat form fields (values still need validation)."""
    if shape is None:
        return {}
    return _decode(shape, flat, "") or {}


def _decode(shape: Shape, flat: dict[str, str], prefix: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():
            key = member.serialization.get("name", name)
            value = _decode(member, flat, f"{prefix}.{key}" if prefix else key)
            if value is not None:
                out[name] = value
        return out or None
    if kind == "list":
        member = shape.member  # type: ignore[attr-defined]
        if shape.serialization.get("flattened"):
            base = prefix
        else:
            base = f"{prefix}.{member.serialization.get('name', 'member')}"
        items: list[Any] = []
        while (item := _decode(member, flat, f"{base}.{len(items) + 1}")) is not None:
            items.append(item)
        return items or ([] if flat.get(prefix) == "" else None)
    if kind == "map":
        entries = {}
        index = 1
        while f"{prefix}.entry.{index}.key" in flat:
            key = flat[f"{prefix}.entry.{index}.key"]
            entries[key] = _decode(shape.value, flat, f"{prefix}.entry.{index}.value")  # type: ignore[attr-defined]
            index += 1
        return entries or None
    raw = flat.get(prefix)
    if raw is None:
        return None
    try:
        if kind in ("integer", "long"):
            return int(raw)
        if kind in ("float", "double"):
            return float(raw)
    except ValueError:
        return raw  # left as text: validation names the member and the type
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw.lower(), raw)
    return raw


def encode_response(
    op: OperationModel, result: dict[str, Any], namespace: str, request_id: str
) -> str:
    """The XML document a query-protocol client parses for `op`'s output."""
    shape = op.output_shape
    inner = _encode_members(shape, result) if shape is not None else ""
    wrapper = shape.serialization.get("resultWrapper") if shape is not None else None
    body = f"<{wrapper}>{inner}</{wrapper}>" if wrapper else inner
    return (
        f'<{op.name}Response xmlns="{namespace}">{body}'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{op.name}Response>"
    )


def _encode_members(shape: Shape, value: dict[str, Any]) -> str:
    parts: list[str] = []
    for name, member in shape.members.items():  # type: ignore[attr-defined]
        if value.get(name) is None:
            continue
        tag = member.serialization.get("name", name)
        if member.type_name == "list" and member.serialization.get("flattened"):
            parts.extend(f"<{tag}>{_encode(member.member, v)}</{tag}>" for v in value[name])
        else:
            parts.append(f"<{tag}>{_encode(member, value[name])}</{tag}>")
    return "".join(parts)


def _encode(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "structure":
        return _encode_members(shape, value)
    if kind == "list":
        member = shape.member  # type: ignore[attr-defined]
        tag = member.serialization.get("name", "member")
        return "".join(f"<{tag}>{_encode(member, v)}</{tag}>" for v in value)
    if kind == "map":
        return "".join(
            f"<entry><key>{escape(str(k))}</key><value>{_encode(shape.value, v)}</value></entry>"  # type: ignore[attr-defined]
            for k, v in value.items()
        )
    if kind == "timestamp":
        stamp = value if isinstance(value, datetime) else datetime.fromtimestamp(value, tz=UTC)
        return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if kind == "boolean":
        return "true" if value else "false"
    return escape(str(value))
