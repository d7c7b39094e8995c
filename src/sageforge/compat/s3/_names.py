"""S3's bucket and key rules, and where in a request the bucket and key are.

Buckets are top-level folders of the artifact store and keys are paths below
them, so a key must also be a path the store accepts: S3 allows `a//b`, `./x`
or `dir/`, a file system cannot hold them, and such keys are refused with the
reason rather than silently renamed.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from sageforge.compat.s3._errors import invalid_argument, invalid_bucket_name, s3_error

MAX_KEY_BYTES = 1024
"""S3's limit on a key's UTF-8 length."""

MAX_SEGMENT_BYTES = 255
"""A file name's limit on common file systems: one `/`-separated part of a key."""

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
"""Names an existing store folder may have to be served as a bucket (botocore's own check)."""


def check_new_bucket_name(name: str) -> None:
    """Raise InvalidBucketName unless `name` follows S3's rules for creating a bucket."""
    why = ""
    if not _BUCKET.fullmatch(name):
        why = (
            "3 to 63 characters: lower-case letters, digits, '.' and '-', "
            "beginning and ending with a letter or digit"
        )
    elif ".." in name or ".-" in name or "-." in name:
        why = "no two adjacent periods and no period next to a hyphen"
    elif _is_ip(name):
        why = "must not look like an IP address"
    elif name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        why = "uses a prefix or suffix S3 reserves"
    if why:
        raise invalid_bucket_name(name, why)


def check_bucket_name(name: str) -> None:
    """Raise InvalidBucketName unless `name` can name a top-level folder of the store."""
    if not _FOLDER.fullmatch(name):
        raise invalid_bucket_name(name, "letters, digits, '.', '_' and '-' only")


def check_key(key: str) -> str:
    """Return `key` if S3 and the store both accept it, else raise naming the rule."""
    if not key:
        raise invalid_argument("key", key, "A key must not be empty.")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise s3_error(
            "KeyTooLongError",
            f"Your key is too long: {len(key.encode('utf-8'))} bytes, at most {MAX_KEY_BYTES}.",
            400,
        )
    parts = key.split("/")
    if key.endswith("/"):
        why = "keys ending in '/' (folder markers)"
    elif any(p in ("", ".", "..") for p in parts):
        why = "empty, '.' or '..' parts between slashes"
    elif "\x00" in key or "\\" in key:
        why = "NUL or backslash characters"
    elif any(len(p.encode("utf-8")) > MAX_SEGMENT_BYTES for p in parts):
        why = f"a part between slashes longer than {MAX_SEGMENT_BYTES} bytes"
    else:
        return key
    raise invalid_argument(
        "key",
        key,
        f"sageforge keeps objects as files in its artifact store, which cannot hold {why}.",
    )


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Target:
    """The bucket and key a request addresses (None where it names none)."""

    bucket: str | None
    key: str | None
    virtual_host: bool = False


def bucket_from_host(host: str) -> str | None:
    """The bucket named by a virtual-host-style Host header, else None.

    `bucket.localhost[:port]` and `bucket.s3[.<region>].<domain>` name a bucket;
    an IP address, `localhost` or any other name means a path-style request.
    """
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower()
    if not name or _is_ip(name):
        return None
    if name.endswith(".localhost"):
        return name[: -len(".localhost")] or None
    # Drop the domain after the service label: bucket.s3.us-east-1.amazonaws.com,
    # bucket.s3-us-west-2.amazonaws.com, bucket.s3.example.internal.
    labels = name.split(".")
    for i in range(len(labels) - 1, 0, -1):
        if labels[i] == "s3" or labels[i].startswith("s3-"):
            return ".".join(labels[:i])
    return None


def parse_target(host: str, path: str) -> Target:
    """Bucket and key from a request's Host header and (percent-decoded) path."""
    bucket = bucket_from_host(host)
    if bucket is not None:
        key = path[1:] if path.startswith("/") else path
        return Target(bucket, key or None, virtual_host=True)
    rest = path[1:] if path.startswith("/") else path
    if not rest:
        return Target(None, None)
    bucket, _, key = rest.partition("/")
    return Target(bucket, key or None)
