"""HTTP headers of objects: metadata in, metadata out, ranges and conditions.

S3 keeps Content-Type, a few representation headers and `x-amz-meta-*` with
an object and sends them back on GET and HEAD; `response-*` query parameters
override them for one response (presigned download links use these).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from sageforge.compat.s3._backend import DEFAULT_CONTENT_TYPE, ObjectInfo
from sageforge.compat.s3._errors import precondition_failed, s3_error
from sageforge.compat.s3._xml import http_date, parse_http_date

STORED_HEADERS = (
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
)
"""Representation headers S3 stores with an object and returns unchanged."""

MAX_USER_METADATA = 2048
"""S3's limit on the size of `x-amz-meta-*` names and values together."""

_OVERRIDES = {
    "response-content-type": "content-type",
    "response-content-language": "content-language",
    "response-expires": "expires",
    "response-cache-control": "cache-control",
    "response-content-disposition": "content-disposition",
    "response-content-encoding": "content-encoding",
}


def metadata_from(headers: Mapping[str, str]) -> tuple[str, dict[str, str], dict[str, str]]:
    """(content type, user metadata, stored headers) of an upload request."""
    content_type = headers.get("content-type") or DEFAULT_CONTENT_TYPE
    user = {
        name[len("x-amz-meta-") :]: value
        for name, value in headers.items()
        if name.lower().startswith("x-amz-meta-")
    }
    if sum(len(k) + len(v) for k, v in user.items()) > MAX_USER_METADATA:
        raise s3_error(
            "MetadataTooLarge",
            f"Your metadata headers exceed the maximum allowed metadata size "
            f"({MAX_USER_METADATA} bytes).",
            400,
        )
    stored = {name: headers[name] for name in STORED_HEADERS if headers.get(name)}
    if "content-encoding" in stored:
        # aws-chunked describes this request's framing, not the object.
        codings = [c.strip() for c in stored["content-encoding"].split(",")]
        kept = ", ".join(c for c in codings if c and c != "aws-chunked")
        if kept:
            stored["content-encoding"] = kept
        else:
            del stored["content-encoding"]
    return content_type, {k.lower(): v for k, v in user.items()}, stored


def object_headers(
    info: ObjectInfo, query: Mapping[str, str], *, checksums: bool
) -> dict[str, str]:
    """Headers of a GET or HEAD answer for `info` (without Content-Length)."""
    headers = {
        "etag": info.etag,
        "last-modified": http_date(info.mtime),
        "content-type": info.meta.content_type,
        "accept-ranges": "bytes",
        **info.meta.headers,
    }
    for name, value in info.meta.user.items():
        headers[f"x-amz-meta-{name}"] = value
    if checksums:
        for algorithm, value in info.meta.checksums.items():
            headers[f"x-amz-checksum-{algorithm}"] = value
    for param, header in _OVERRIDES.items():
        if query.get(param):
            headers[header] = query[param]
    return headers


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def parse_range(value: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a `Range: bytes=…` header; None means the whole object.

    A header S3 cannot parse (several ranges, other units) is ignored, as S3
    does; one that starts past the end is answered 416 InvalidRange.
    """
    if not value:
        return None
    match = _RANGE.fullmatch(value.strip())
    if not match or not (match.group(1) or match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _invalid_range(value, size)
        return max(0, size - suffix), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise _invalid_range(value, size)
    return start, min(end, size - 1)


def _invalid_range(value: str, size: int) -> Exception:
    return s3_error(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        RangeRequested=value,
        ActualObjectSize=size,
    )


def _etag_matches(header: str, etag: str) -> bool:
    for candidate in header.split(","):
        tag = candidate.strip().removeprefix("W/").strip('"')
        if tag == "*" or tag == etag:
            return True
    return False


def _seconds(ts: float) -> int:
    return math.floor(ts)  # HTTP dates carry whole seconds


def check_conditions(headers: Mapping[str, str], info: ObjectInfo, prefix: str = "if-") -> bool:
    """Apply If-Match/If-None-Match/If-(Un)Modified-Since: False means 304 Not Modified.

    With `prefix="x-amz-copy-source-if-"` the same rules guard a copy's source,
    where S3 answers 412 instead of 304.
    """
    name = prefix.title().rstrip("-")
    if_match = headers.get(f"{prefix}match")
    if if_match and not _etag_matches(if_match, info.meta.etag):
        raise precondition_failed(f"{name}-Match")
    since = headers.get(f"{prefix}unmodified-since")
    when = parse_http_date(since) if since and not if_match else None
    if when is not None and _seconds(info.mtime) > when:
        raise precondition_failed(f"{name}-Unmodified-Since")
    if_none = headers.get(f"{prefix}none-match")
    if if_none:
        if _etag_matches(if_none, info.meta.etag):
            if prefix != "if-":
                raise precondition_failed(f"{name}-None-Match")
            return False
        return True
    modified = headers.get(f"{prefix}modified-since")
    when = parse_http_date(modified) if modified else None
    if when is not None and _seconds(info.mtime) <= when:
        if prefix != "if-":
            raise precondition_failed(f"{name}-Modified-Since")
        return False
    return True
