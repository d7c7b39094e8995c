"""Resource names, ARNs and tags, by SageMaker's rules.

Names follow SageMaker's pattern so that anything a user creates here could be
created in SageMaker under the same name, and ARNs take SageMaker's form so the
SageMaker-compatible API can hand them out unchanged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sageforge.core.errors import ValidationError

NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
"""SageMaker's resource-name pattern: 1–63 letters, digits and inner hyphens."""

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"

# AWS allows letters, digits, white space and `_ . : / = + - @` in tag keys.
_TAG_KEY_RE = re.compile(r"^[\w\s.:/=+\-@]*$")
MAX_TAGS = 50


def validate_name(name: object, field: str) -> str:
    """Return `name` if it is a valid resource name, else raise naming `field`."""
    if not isinstance(name, str) or not name:
        raise ValidationError("a name is required", field=field)
    if len(name) > 63:
        raise ValidationError(f"{name!r} is {len(name)} characters; at most 63", field=field)
    if not NAME_RE.match(name):
        raise ValidationError(
            f"{name!r} is not a valid name: use letters, digits and hyphens, starting and "
            "ending with a letter or digit (pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})",
            field=field,
        )
    return name


def region() -> str:
    """The region ARNs are minted in (`SAGEFORGE_REGION`)."""
    return os.environ.get("SAGEFORGE_REGION", DEFAULT_REGION)


def account() -> str:
    """The account id ARNs are minted in (`SAGEFORGE_ACCOUNT_ID`)."""
    return os.environ.get("SAGEFORGE_ACCOUNT_ID", DEFAULT_ACCOUNT)


def make_arn(resource_type: str, name: str) -> str:
    """SageMaker's ARN for a resource, e.g. `...:training-job/my-job` (name lower-cased, as AWS)."""
    return f"arn:aws:sagemaker:{region()}:{account()}:{resource_type}/{name.lower()}"


def unique_name(base: str) -> str:
    """A fresh valid name from a base, the way the SageMaker SDK names jobs (base + timestamp)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H-%M-%S-%f")[:-3]
    base = re.sub(r"[^a-zA-Z0-9-]+", "-", base).strip("-") or "job"
    return f"{base[: 62 - len(stamp)].rstrip('-')}-{stamp}"


def validate_tags(tags: Iterable[Mapping[str, Any]] | None, field: str = "tags") -> dict[str, str]:
    """Turn `[{"key"|"Key": k, "value"|"Value": v}]` into a dict, by SageMaker's tag rules."""
    out: dict[str, str] = {}
    for i, tag in enumerate(tags or []):
        key = tag.get("key", tag.get("Key"))
        value = tag.get("value", tag.get("Value", ""))
        where = f"{field}[{i}]"
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise ValidationError("tag key must be 1–128 characters", field=f"{where}.key")
        if key.lower().startswith("aws:"):
            raise ValidationError(
                "tag keys starting with 'aws:' are reserved", field=f"{where}.key"
            )
        if not isinstance(value, str) or len(value) > 256:
            raise ValidationError(
                "tag value must be a string of at most 256", field=f"{where}.value"
            )
        if not _TAG_KEY_RE.match(key):
            raise ValidationError(
                f"tag key {key!r} has characters not allowed", field=f"{where}.key"
            )
        out[key] = value
    if len(out) > MAX_TAGS:
        raise ValidationError(f"at most {MAX_TAGS} tags per resource", field=field)
    return out
