"""What every SageMaker operation here does alike: native requests, lists, tags, URLs.

The translation of one request is: AWS params → snake_case (`to_native`, with
`s3://` URLs turned into store URLs) → only what the native spec knows (`fit`)
→ the native pydantic model, whose errors come back as ValidationException
naming the member the way the caller spelt it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import pydantic
import sqlalchemy as sa
from botocore import xform_name
from botocore.model import ListShape, Shape, StructureShape

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import validation
from sageforge.compat.sagemaker import _shapes, _urls
from sageforge.core.store import ArtifactStore

M = TypeVar("M", bound=pydantic.BaseModel)

SAGEFORGE_ROLE = "arn:aws:iam::{account}:role/sageforge"
"""The role reported for resources made through sageforge's own API (they have none)."""


def store(ctx: AwsContext) -> ArtifactStore:
    return ctx.platform.store


def url_in(ctx: AwsContext) -> Callable[[str], str]:
    """`s3://` → the store URL naming the same object."""
    st = store(ctx)
    return lambda url: _urls.to_store(st, url)


def url_out(ctx: AwsContext) -> Callable[[str], str]:
    """A store URL → the `s3://` URL the caller knows it by."""
    st = store(ctx)
    return lambda url: _urls.to_s3(st, url)


def native(model: type[M], data: dict[str, Any], op: str) -> M:
    """The native request; its validation errors as ValidationException naming AWS's member."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        shape = _shapes.input_shape(op)
        problems = []
        for err in exc.errors()[:5]:
            where = aws_path(shape, err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {msg}" if where else msg)
        raise validation("; ".join(problems)) from None


def aws_path(shape: Shape, loc: Sequence[Any]) -> str:
    """A pydantic error location (snake_case) spelt with AWS's member names."""
    parts: list[str] = []
    current: Shape | None = shape
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
            current = current.member if isinstance(current, ListShape) else None
            continue
        name = str(item)
        if isinstance(current, StructureShape):
            match = next((m for m in current.members if xform_name(m) == name), None)
            if match is not None:
                parts.append(match)
                current = current.members[match]
                continue
        parts.append(name)
        current = None
    return ".".join(parts)


def tags_in(tags: Iterable[dict[str, Any]] | None) -> list[dict[str, str]]:
    return [{"key": t["Key"], "value": t.get("Value", "")} for t in tags or []]


def role(ctx: AwsContext, request: dict[str, Any], member: str = "RoleArn") -> str:
    value = request.get(member)
    return str(value) if value else SAGEFORGE_ROLE.format(account=ctx.account)


# -- lists ---------------------------------------------------------------------------------------


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["o"])
    except (ValueError, KeyError, TypeError):
        raise validation("NextToken: not a token this server issued") from None


def page(
    rows: list[dict[str, Any]],
    params: dict[str, Any],
    *,
    name: str,
    status: str | None = None,
    sort_keys: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """SageMaker's List* filters, sort and paging over rows in the AWS output shape."""
    if params.get("NameContains"):
        needle = str(params["NameContains"])
        rows = [r for r in rows if needle in r[name]]
    if status and params.get("StatusEquals"):
        rows = [r for r in rows if r.get(status) == params["StatusEquals"]]
    for key, field, after in (
        ("CreationTimeAfter", "CreationTime", True),
        ("CreationTimeBefore", "CreationTime", False),
        ("LastModifiedTimeAfter", "LastModifiedTime", True),
        ("LastModifiedTimeBefore", "LastModifiedTime", False),
    ):
        bound = params.get(key)
        if isinstance(bound, datetime):
            rows = [r for r in rows if _compare(r.get(field), bound, after)]
    keys = {"Name": name, "CreationTime": "CreationTime"} | (sort_keys or {})
    if status:
        keys.setdefault("Status", status)
    sort_by = params.get("SortBy") or "CreationTime"
    if sort_by not in keys:
        raise validation(f"SortBy: must be one of {', '.join(sorted(keys))}")
    descending = (params.get("SortOrder") or "Descending") == "Descending"
    rows = sorted(rows, key=lambda r: _sort_value(r.get(keys[sort_by])), reverse=descending)
    limit = max(1, min(int(params.get("MaxResults") or 10), 100))
    offset = decode_token(params.get("NextToken"))
    chunk = rows[offset : offset + limit]
    token = encode_token(offset + limit) if offset + limit < len(rows) else None
    return chunk, token


def list_named(
    ctx: AwsContext, params: dict[str, Any], table: Any, noun: str, arn_type: str
) -> dict[str, Any]:
    """List<noun>s over a table of named resources (models, endpoint configs): each one's
    name, ARN and creation time, filtered, sorted and paged as `page` does."""
    with ctx.platform.db.session() as s:
        rows = [
            {
                f"{noun}Name": r.name,
                f"{noun}Arn": ctx.arn(arn_type, r.name),
                "CreationTime": r.creation_time,
            }
            for r in s.scalars(sa.select(table))
        ]
    chunk, token = page(rows, params, name=f"{noun}Name")
    return listed(f"{noun}s", chunk, token)


def _compare(value: Any, bound: datetime, after: bool) -> bool:
    """Compared at the millisecond precision the answers carry, so a time read back from a
    listing and passed as a bound filters as the caller expects."""
    if not isinstance(value, datetime):
        return False
    ms, bound_ms = round(value.timestamp(), 3), round(bound.timestamp(), 3)
    return ms > bound_ms if after else ms < bound_ms


def _sort_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return (0, value.timestamp(), "")
    if isinstance(value, int | float):
        return (0, float(value), "")
    return (1, 0.0, str(value or ""))


def listed(key: str, rows: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {key: rows}
    if token:
        out["NextToken"] = token
    return out


def overlay(base: Any, over: Any) -> Any:
    """`over` on top of `base`: dicts merged key by key, lists item by item, else `over`.

    Describe answers start from the native resource (every default filled in)
    and lay the caller's own request over it (every member as it was sent).
    """
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = overlay(base.get(key), value) if key in base else value
        return out
    if isinstance(base, list) and isinstance(over, list) and len(base) == len(over):
        return [overlay(b, o) for b, o in zip(base, over, strict=True)]
    return over


def drop_tags(request: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in request.items() if k != "Tags"}
