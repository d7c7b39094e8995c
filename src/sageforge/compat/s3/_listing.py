"""ListObjects (v1, `marker`) and ListObjectsV2 (`list-type=2`, continuation tokens).

Both walk the same sorted key sequence: keys after the marker, each either
listed or rolled up into a common prefix (the part up to the first delimiter
after the prefix), until `max-keys` items (keys and prefixes alike) are out.
The continuation token is the last item returned, base64-encoded; a common
prefix as a marker skips every key under it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from starlette.responses import Response

from sageforge.compat.s3._backend import S3Store
from sageforge.compat.s3._errors import invalid_argument
from sageforge.compat.s3._walk import PAST, Cursor
from sageforge.compat.s3._xml import Node, iso_time, xml_response

MAX_KEYS = 1000
"""The most items S3 returns in one page."""


def owner(account: str) -> list[Node]:
    """The bucket owner as S3 describes it: a canonical id (64 hex) and a display name."""
    return [
        ("ID", hashlib.sha256(f"sageforge:{account}".encode()).hexdigest()),
        ("DisplayName", "sageforge"),
    ]


@dataclass
class Page:
    """One page of a listing."""

    contents: list[tuple[str, int, float]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str | None = None
    """The last key or common prefix returned: where the next page starts."""


def paginate(
    s3: S3Store, bucket: str, prefix: str, delimiter: str, after: str, max_keys: int
) -> Page:
    """Up to `max_keys` keys and common prefixes after `after`, in key order."""
    page = Page()
    cursor = Cursor(after.encode("utf-8"))
    count = 0
    for key, size, mtime in s3.scan(bucket, prefix, cursor):
        if delimiter:
            idx = key.find(delimiter, len(prefix))
            if idx >= 0:
                common = key[: idx + len(delimiter)]
                if cursor.skip(common):
                    # The marker lies inside this prefix: it was listed already.
                    cursor.after = common.encode("utf-8") + PAST
                    continue
                if count == max_keys:
                    page.truncated = True
                    break
                page.prefixes.append(common)
                page.last = common
                count += 1
                cursor.after = common.encode("utf-8") + PAST  # nothing under it again
                continue
        if count == max_keys:
            page.truncated = True
            break
        page.contents.append((key, size, mtime))
        page.last = key
        count += 1
    return page


@dataclass(frozen=True)
class ListParams:
    """The query parameters both versions share, validated."""

    prefix: str
    delimiter: str
    max_keys: int
    url_encoded: bool

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> ListParams:
        raw_max = query.get("max-keys", str(MAX_KEYS))
        try:
            max_keys = int(raw_max)
        except ValueError:
            max_keys = -1
        if max_keys < 0:
            raise invalid_argument(
                "max-keys", raw_max, "Provided max-keys not an integer or within integer range"
            )
        encoding = query.get("encoding-type")
        if encoding not in (None, "url"):
            raise invalid_argument(
                "encoding-type", encoding, "Invalid Encoding Method specified in Request"
            )
        return cls(
            prefix=query.get("prefix", ""),
            delimiter=query.get("delimiter", ""),
            max_keys=min(max_keys, MAX_KEYS),
            url_encoded=encoding == "url",
        )

    def enc(self, value: str | None) -> str | None:
        """A key-like value as the response carries it (percent-encoded with encoding-type=url)."""
        if value is None or not self.url_encoded:
            return value
        return quote(value, safe="/")


def _contents(
    s3: S3Store, bucket: str, page: Page, params: ListParams, owner_nodes: list[Node] | None
) -> list[Node]:
    nodes: list[Node] = []
    for key, size, mtime in page.contents:
        info = s3.describe(bucket, key, size, mtime)
        nodes.append(
            (
                "Contents",
                [
                    ("Key", params.enc(key)),
                    ("LastModified", iso_time(mtime)),
                    ("ETag", info.etag),
                    ("Size", size),
                    ("Owner", owner_nodes),
                    ("StorageClass", "STANDARD"),
                ],
            )
        )
    nodes.extend(("CommonPrefixes", [("Prefix", params.enc(p))]) for p in page.prefixes)
    return nodes


def list_objects_v2(s3: S3Store, bucket: str, query: Mapping[str, str], account: str) -> Response:
    """ListObjectsV2."""
    params = ListParams.parse(query)
    s3.require_bucket(bucket)
    token = query.get("continuation-token")
    start_after = query.get("start-after", "")
    after = start_after
    if token is not None:
        try:
            after = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
        except (binascii.Error, UnicodeError, ValueError):
            raise invalid_argument(
                "continuation-token", token, "The continuation token provided is incorrect"
            ) from None
        if not after:
            raise invalid_argument(
                "continuation-token", token, "The continuation token provided is incorrect"
            )
    page = paginate(s3, bucket, params.prefix, params.delimiter, after, params.max_keys)
    next_token = None
    if page.truncated and page.last is not None:
        next_token = base64.urlsafe_b64encode(page.last.encode("utf-8")).decode("ascii")
    fetch_owner = query.get("fetch-owner", "").lower() == "true"
    nodes: list[Node] = [
        ("Name", bucket),
        ("Prefix", params.enc(params.prefix)),
        ("Delimiter", params.enc(params.delimiter) or None),
        ("MaxKeys", params.max_keys),
        ("EncodingType", "url" if params.url_encoded else None),
        ("KeyCount", len(page.contents) + len(page.prefixes)),
        ("IsTruncated", page.truncated),
        ("ContinuationToken", token),
        ("NextContinuationToken", next_token),
        ("StartAfter", params.enc(start_after) or None),
        *_contents(s3, bucket, page, params, owner(account) if fetch_owner else None),
    ]
    return xml_response("ListBucketResult", nodes)


def list_objects_v1(s3: S3Store, bucket: str, query: Mapping[str, str], account: str) -> Response:
    """ListObjects (v1): `marker`, and `NextMarker` when a delimiter is given."""
    params = ListParams.parse(query)
    s3.require_bucket(bucket)
    marker = query.get("marker", "")
    page = paginate(s3, bucket, params.prefix, params.delimiter, marker, params.max_keys)
    next_marker = page.last if page.truncated and params.delimiter else None
    nodes: list[Node] = [
        ("Name", bucket),
        ("Prefix", params.enc(params.prefix)),
        ("Marker", params.enc(marker)),
        ("NextMarker", params.enc(next_marker)),
        ("MaxKeys", params.max_keys),
        ("Delimiter", params.enc(params.delimiter) or None),
        ("EncodingType", "url" if params.url_encoded else None),
        ("IsTruncated", page.truncated),
        *_contents(s3, bucket, page, params, owner(account)),
    ]
    return xml_response("ListBucketResult", nodes)
