"""Object operations: PutObject, GetObject, HeadObject, DeleteObject(s), CopyObject.

Bodies stream both ways: uploads go through `_body.receive` into a pending
object that is published only when every check passed; downloads are read a
chunk at a time in a worker thread (`StreamingResponse` over a sync iterator).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from sageforge.compat._errors import AwsError
from sageforge.compat.s3._backend import (
    ObjectInfo,
    ObjectMeta,
    PendingObject,
    S3Store,
    iter_chunks,
)
from sageforge.compat.s3._body import receive
from sageforge.compat.s3._errors import (
    invalid_argument,
    invalid_request,
    malformed_xml,
    not_implemented,
    precondition_failed,
)
from sageforge.compat.s3._headers import (
    check_conditions,
    metadata_from,
    object_headers,
    parse_range,
)
from sageforge.compat.s3._keepalive import keepalive_xml
from sageforge.compat.s3._names import check_key
from sageforge.compat.s3._xml import (
    MAX_XML_BYTES,
    Node,
    child_text,
    http_date,
    iso_time,
    parse,
    xml_response,
)

T = TypeVar("T")
MAX_DELETE_KEYS = 1000


def request_id(request: Request) -> str:
    """The id `handle` gave this request (also sent as `x-amz-request-id`)."""
    return str(request.scope.get("sageforge.s3.request_id", ""))


async def run(fn: Callable[..., T], *args: Any) -> T:
    """Run blocking file-system work in a worker thread."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args))


async def read_small_body(request: Request) -> bytes:
    """A request document (XML), verified like any body and bounded in size."""
    chunks: list[bytes] = []
    total = 0

    def keep(block: bytes) -> None:
        nonlocal total
        total += len(block)
        if total > MAX_XML_BYTES:
            raise malformed_xml()
        chunks.append(block)

    await receive(request, keep)
    return b"".join(chunks)


async def receive_into(
    s3: S3Store, request: Request, bucket: str, key: str, meta: ObjectMeta
) -> ObjectInfo:
    """Stream the request body to `bucket/key`; publish it only if it arrived whole and intact."""
    pending = await run(s3.begin_write, bucket, key)
    try:
        received = await receive(request, pending.write)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await run(pending.abort)
        raise
    meta.etag = received.md5_hex
    meta.checksums = received.checksums
    return await run(pending.commit, meta)


async def put_object(s3: S3Store, request: Request, bucket: str, key: str) -> Response:
    """PutObject (and If-None-Match: * to write only a new key)."""
    await run(s3.require_bucket, bucket)
    check_key(key)
    content_type, user, stored = metadata_from(request.headers)
    await run(s3.check_writable, bucket, key)
    if request.headers.get("if-none-match", "").strip() == "*" and await run(
        _exists, s3, bucket, key
    ):
        raise precondition_failed("If-None-Match")
    meta = ObjectMeta(etag="", content_type=content_type, user=user, headers=stored)
    info = await receive_into(s3, request, bucket, key, meta)
    headers = {"etag": info.etag}
    for algorithm, value in info.meta.checksums.items():
        headers[f"x-amz-checksum-{algorithm}"] = value
    return Response(status_code=200, headers=headers)


def _exists(s3: S3Store, bucket: str, key: str) -> bool:
    return bool(s3.fs.isfile(s3.path(bucket, key)))


async def get_object(
    s3: S3Store, request: Request, bucket: str, key: str, *, head: bool
) -> Response:
    """GetObject / HeadObject, with Range and conditional headers."""
    query = dict(request.query_params)
    if "partNumber" in query:
        raise not_implemented("partNumber on GetObject/HeadObject")
    info = await run(s3.stat, bucket, key)
    if not check_conditions(request.headers, info):
        return Response(
            status_code=304,
            headers={"etag": info.etag, "last-modified": http_date(info.mtime)},
        )
    span = parse_range(request.headers.get("range"), info.size)
    full = span is None
    checksums = full and request.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED"
    headers = object_headers(info, query, checksums=checksums)
    first, last = span if span is not None else (0, info.size - 1)
    length = last - first + 1 if info.size else 0
    headers["content-length"] = str(length)
    status = 200
    if not full:
        status = 206
        headers["content-range"] = f"bytes {first}-{last}/{info.size}"
    if head or length == 0:
        return Response(status_code=status, headers=headers)
    fh = await run(s3.open_read, bucket, key)
    return StreamingResponse(iter_chunks(fh, first, length), status_code=status, headers=headers)


async def delete_object(s3: S3Store, bucket: str, key: str) -> Response:
    """DeleteObject: 204 whether or not the key existed, as S3 answers."""
    await run(s3.require_bucket, bucket)
    if _representable(key):
        await run(s3.delete_object, bucket, key)
    return Response(status_code=204)


def _representable(key: str) -> bool:
    """Whether a key could name a stored object (others cannot exist, so delete is a no-op)."""
    try:
        check_key(key)
    except AwsError as err:
        if err.code == "KeyTooLongError":
            raise
        return False
    return True


async def delete_objects(s3: S3Store, request: Request, bucket: str, account: str) -> Response:
    """DeleteObjects: up to 1,000 keys; `Quiet` reports only the failures."""
    await run(s3.require_bucket, bucket)
    root = parse(await read_small_body(request), "Delete")
    quiet = (child_text(root, "Quiet") or "").strip().lower() == "true"
    objects = root.findall("Object")
    if not objects or len(objects) > MAX_DELETE_KEYS:
        raise malformed_xml()
    keys = []
    for obj in objects:
        key = child_text(obj, "Key")
        if not key:
            raise malformed_xml()
        keys.append(key)
    return await run(_delete_many, s3, bucket, keys, quiet)


def _delete_many(s3: S3Store, bucket: str, keys: list[str], quiet: bool) -> Response:
    nodes: list[Node] = []
    for key in keys:
        try:
            if _representable(key):
                s3.delete_object(bucket, key)
        except AwsError as err:
            nodes.append(("Error", [("Key", key), ("Code", err.code), ("Message", err.message)]))
            continue
        except OSError as exc:
            nodes.append(
                ("Error", [("Key", key), ("Code", "InternalError"), ("Message", str(exc))])
            )
            continue
        if not quiet:
            nodes.append(("Deleted", [("Key", key)]))
    return xml_response("DeleteResult", nodes)


def parse_copy_source(value: str) -> tuple[str, str]:
    """(bucket, key) of `x-amz-copy-source: [/]bucket/key[?versionId=…]` (URL-encoded)."""
    source, _, version = value.partition("?")
    if version and version not in ("versionId=null", "versionId="):
        raise invalid_argument(
            "x-amz-copy-source", value, "Object versions are not kept here; only 'null' exists."
        )
    bucket, _, key = unquote(source).lstrip("/").partition("/")
    if not bucket or not key:
        raise invalid_argument(
            "x-amz-copy-source",
            value,
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )
    return bucket, key


async def copy_object(s3: S3Store, request: Request, bucket: str, key: str) -> Response:
    """CopyObject: the source's bytes under a new key, metadata copied or replaced."""
    headers = request.headers
    src_bucket, src_key = parse_copy_source(headers["x-amz-copy-source"])
    directive = headers.get("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise invalid_argument("x-amz-metadata-directive", directive, "Unknown metadata directive.")
    await run(s3.require_bucket, bucket)
    check_key(key)
    source = await run(s3.stat, src_bucket, src_key)
    check_conditions(headers, source, prefix="x-amz-copy-source-if-")
    if (src_bucket, src_key) == (bucket, key) and directive == "COPY":
        raise invalid_request(
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata, storage class, website redirect location "
            "or encryption attributes."
        )
    if directive == "REPLACE":
        content_type, user, stored = metadata_from(headers)
        meta = ObjectMeta(etag="", content_type=content_type, user=user, headers=stored)
    else:
        meta = ObjectMeta(
            etag="",
            content_type=source.meta.content_type,
            user=dict(source.meta.user),
            headers=dict(source.meta.headers),
        )
    meta.checksums = dict(source.meta.checksums)
    await run(s3.check_writable, bucket, key)

    def work() -> tuple[str, list[Node]]:
        info = _copy(s3, (src_bucket, src_key), source.size, (bucket, key), meta)
        return "CopyObjectResult", [("ETag", info.etag), ("LastModified", iso_time(info.mtime))]

    return keepalive_xml(work, request_id(request))


def stream_copy(
    s3: S3Store, source: tuple[str, str], pending: PendingObject, start: int, length: int
) -> str:
    """Copy `length` bytes of `source` from `start` into `pending`; returns their MD5 hex.

    `pending` is aborted if the copy fails; publishing it is the caller's.
    """
    md5 = hashlib.md5(usedforsecurity=False)
    try:
        for block in iter_chunks(s3.open_read(*source), start, length):
            md5.update(block)
            pending.write(block)
    except BaseException:
        pending.abort()
        raise
    return md5.hexdigest()


def _copy(
    s3: S3Store, source: tuple[str, str], size: int, dest: tuple[str, str], meta: ObjectMeta
) -> ObjectInfo:
    pending = s3.begin_write(*dest)
    meta.etag = stream_copy(s3, source, pending, 0, size)
    return pending.commit(meta)
