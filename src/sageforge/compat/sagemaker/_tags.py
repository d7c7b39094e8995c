"""AddTags, ListTags, DeleteTags by ARN.

An ARN handed out here carries the region and account of the request that
read it, and AWS lower-cases the name in it, so a tag call finds its resource
by type and name (case-insensitively) and tags the resource's own ARN.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import not_found, validation
from sageforge.compat._json_protocol import operation
from sageforge.compat.sagemaker._common import decode_token, encode_token
from sageforge.core.db import Job, Tag
from sageforge.core.names import validate_tags

_JOB_KINDS = {
    "training-job": "training",
    "processing-job": "processing",
    "transform-job": "transform",
    "hyper-parameter-tuning-job": "tuning",
}


def _native_arn(ctx: AwsContext, arn: str) -> str:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sagemaker" or "/" not in parts[5]:
        raise validation(f"ResourceArn: {arn!r} is not a SageMaker resource ARN")
    kind, _, name = parts[5].partition("/")
    name = name.lower()
    from sageforge.deploy._models import DeployModel, Endpoint, EndpointConfig

    tables: dict[str, Any] = {
        "model": DeployModel,
        "endpoint-config": EndpointConfig,
        "endpoint": Endpoint,
    }
    with ctx.platform.db.session() as s:
        if kind in _JOB_KINDS:
            q = sa.select(Job.arn).where(
                Job.kind == _JOB_KINDS[kind], sa.func.lower(Job.name) == name
            )
        elif kind in tables:
            table = tables[kind]
            q = sa.select(table.arn).where(sa.func.lower(table.name) == name)
        else:
            raise validation(f"ResourceArn: tags on {kind} resources are not supported here")
        found = s.scalar(q.limit(1))
    if found is None:
        raise not_found(f"Resource {arn} not found.")
    return str(found)


@operation("SageMaker", "AddTags")
def add_tags(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    target = _native_arn(ctx, params["ResourceArn"])
    try:
        tags = validate_tags(params.get("Tags") or [], "Tags")
    except Exception as exc:
        raise validation(str(exc)) from None
    with ctx.platform.db.session() as s:
        existing = {t.key: t for t in s.scalars(sa.select(Tag).where(Tag.resource_arn == target))}
        if len(set(existing) | set(tags)) > 50:
            raise validation("Tags: a resource has at most 50 tags")
        for key, value in tags.items():
            if key in existing:
                existing[key].value = value
            else:
                s.add(Tag(resource_arn=target, key=key, value=value))
        s.commit()
    return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}


@operation("SageMaker", "ListTags")
def list_tags(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    target = _native_arn(ctx, params["ResourceArn"])
    with ctx.platform.db.session() as s:
        rows = [
            {"Key": t.key, "Value": t.value}
            for t in s.scalars(sa.select(Tag).where(Tag.resource_arn == target).order_by(Tag.key))
        ]
    offset = decode_token(params.get("NextToken"))
    limit = max(1, min(int(params.get("MaxResults") or 50), 100))
    out: dict[str, Any] = {"Tags": rows[offset : offset + limit]}
    if offset + limit < len(rows):
        out["NextToken"] = encode_token(offset + limit)
    return out


@operation("SageMaker", "DeleteTags")
def delete_tags(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    target = _native_arn(ctx, params["ResourceArn"])
    keys = list(params.get("TagKeys") or [])
    with ctx.platform.db.session() as s:
        s.execute(sa.delete(Tag).where(Tag.resource_arn == target, Tag.key.in_(keys)))
        s.commit()
    return {}
