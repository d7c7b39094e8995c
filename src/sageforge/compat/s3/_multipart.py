"""Multipart uploads: parts in a temporary area, one object when the upload completes.

An upload lives in `.s3/uploads/<id>/` at the store root: `upload.json` (the
target key and its metadata), each part's bytes under its number and a small
record of its ETag beside it. Completing streams the chosen parts, in order,
into one pending object that is published atomically; the ETag is S3's
`<md5 of the parts' binary md5s>-<number of parts>`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
import zlib
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response

from sageforge.compat.s3._backend import META_DIR, ObjectInfo, ObjectMeta, S3Store
from sageforge.compat.s3._body import checksum_algorithm, receive
from sageforge.compat.s3._errors import (
    invalid_argument,
    malformed_xml,
    no_such_upload,
    s3_error,
)
from sageforge.compat.s3._headers import check_conditions, metadata_from, parse_range
from sageforge.compat.s3._keepalive import keepalive_xml
from sageforge.compat.s3._listing import owner
from sageforge.compat.s3._names import check_key
from sageforge.compat.s3._objects import (
    parse_copy_source,
    read_small_body,
    request_id,
    run,
    stream_copy,
)
from sageforge.compat.s3._xml import Node, child_text, iso_time, parse, xml_response

MAX_PARTS = 10_000
MIN_PART_SIZE = 5 * 1024 * 1024
"""Every part but the last must be at least this large (S3's rule)."""

_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


def _area(upload_id: str) -> str:
    return f"uploads/{upload_id}"


def _load(s3: S3Store, bucket: str, key: str, upload_id: str) -> dict[str, Any]:
    """The upload's record; NoSuchUpload unless it exists for this bucket and key."""
    if not _UPLOAD_ID.fullmatch(upload_id):
        raise no_such_upload(upload_id)
    try:
        record: dict[str, Any] = json.loads(
            s3.store.get_bytes(f"{META_DIR}/{_area(upload_id)}/upload.json")
        )
    except Exception:
        raise no_such_upload(upload_id) from None
    if record.get("bucket") != bucket or record.get("key") != key:
        raise no_such_upload(upload_id)
    return record


def _part_number(value: str | None) -> int:
    try:
        number = int(value or "")
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_PARTS:
        raise invalid_argument(
            "partNumber",
            value or "",
            f"Part number must be an integer between 1 and {MAX_PARTS}, inclusive",
        )
    return number


async def create(s3: S3Store, request: Request, bucket: str, key: str) -> Response:
    """CreateMultipartUpload."""
    await run(s3.require_bucket, bucket)
    check_key(key)
    await run(s3.check_writable, bucket, key)
    content_type, user, stored = metadata_from(request.headers)
    upload_id = uuid.uuid4().hex
    algorithm = checksum_algorithm(request.headers)
    record = {
        "bucket": bucket,
        "key": key,
        "initiated": time.time(),
        "content_type": content_type,
        "user": user,
        "headers": stored,
        "checksum_algorithm": algorithm,
        "checksum_type": request.headers.get("x-amz-checksum-type", "COMPOSITE").upper(),
    }
    data = json.dumps(record).encode()
    await run(s3.store.put_bytes, f"{META_DIR}/{_area(upload_id)}/upload.json", data)
    headers = {"x-amz-checksum-algorithm": algorithm.upper()} if algorithm else None
    return xml_response(
        "InitiateMultipartUploadResult",
        [("Bucket", bucket), ("Key", key), ("UploadId", upload_id)],
        headers=headers,
    )


def _save_part(
    s3: S3Store, upload_id: str, number: int, etag: str, size: int, sums: dict[str, str]
) -> None:
    record = {"etag": etag, "size": size, "checksums": sums, "time": time.time()}
    key = f"{META_DIR}/{_area(upload_id)}/{number:05d}.json"
    s3.store.put_bytes(key, json.dumps(record).encode())


async def upload_part(s3: S3Store, request: Request, bucket: str, key: str) -> Response:
    """UploadPart, or UploadPartCopy when `x-amz-copy-source` names a source object."""
    query = request.query_params
    number = _part_number(query.get("partNumber"))
    upload_id = query.get("uploadId", "")
    await run(_load, s3, bucket, key, upload_id)
    if request.headers.get("x-amz-copy-source"):
        return await _upload_part_copy(s3, request, upload_id, number)
    pending = await run(s3.begin_write, META_DIR, f"{_area(upload_id)}/{number:05d}")
    try:
        received = await receive(request, pending.write)
        await run(pending.publish)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await run(pending.abort)
        raise
    await run(
        _save_part, s3, upload_id, number, received.md5_hex, received.size, received.checksums
    )
    headers = {"etag": f'"{received.md5_hex}"'}
    for algorithm, value in received.checksums.items():
        headers[f"x-amz-checksum-{algorithm}"] = value
    return Response(status_code=200, headers=headers)


async def _upload_part_copy(s3: S3Store, request: Request, upload_id: str, number: int) -> Response:
    src_bucket, src_key = parse_copy_source(request.headers["x-amz-copy-source"])
    source = await run(s3.stat, src_bucket, src_key)
    check_conditions(request.headers, source, prefix="x-amz-copy-source-if-")
    range_header = request.headers.get("x-amz-copy-source-range")
    span = parse_range(range_header, source.size) if range_header else None
    if range_header and span is None:
        raise invalid_argument(
            "x-amz-copy-source-range",
            range_header,
            "The x-amz-copy-source-range value must be of the form bytes=first-last",
        )
    first, last = span if span else (0, source.size - 1)
    length = max(0, last - first + 1)

    def copy() -> str:
        pending = s3.begin_write(META_DIR, f"{_area(upload_id)}/{number:05d}")
        etag = stream_copy(s3, (src_bucket, src_key), pending, first, length)
        pending.publish()
        _save_part(s3, upload_id, number, etag, length, {})
        return etag

    etag = await run(copy)
    return xml_response(
        "CopyPartResult", [("ETag", f'"{etag}"'), ("LastModified", iso_time(time.time()))]
    )


def _parts(s3: S3Store, upload_id: str) -> dict[int, dict[str, Any]]:
    """Every uploaded part's record, by part number."""
    base = f"{s3.root}/{META_DIR}/{_area(upload_id)}"
    out: dict[int, dict[str, Any]] = {}
    try:
        names = s3.fs.ls(base, detail=False)
    except FileNotFoundError:
        return out
    for name in names:
        leaf = str(name).rsplit("/", 1)[-1]
        if leaf.endswith(".json") and leaf[:-5].isdigit():
            try:
                out[int(leaf[:-5])] = json.loads(s3.fs.cat_file(str(name)))
            except (FileNotFoundError, ValueError):
                continue
    return out


async def complete(s3: S3Store, request: Request, bucket: str, key: str) -> Response:
    """CompleteMultipartUpload: check the part list, assemble, publish, clean up."""
    upload_id = request.query_params.get("uploadId", "")
    upload = await run(_load, s3, bucket, key, upload_id)
    root = parse(await read_small_body(request), "CompleteMultipartUpload")
    chosen: list[tuple[int, str, dict[str, str]]] = []
    for part in root.findall("Part"):
        number_text, etag = child_text(part, "PartNumber"), child_text(part, "ETag")
        if not number_text or etag is None:
            raise malformed_xml()
        sums = {
            child.tag[len("Checksum") :].lower(): (child.text or "").strip()
            for child in part
            if child.tag.startswith("Checksum")
        }
        chosen.append((_part_number(number_text), etag.strip().strip('"'), sums))
    if not chosen:
        raise malformed_xml()
    stored = await run(_check_parts, s3, upload_id, chosen)
    location = f"{request.base_url}{bucket}/{key}"

    def work() -> tuple[str, list[Node]]:
        info = _assemble(s3, upload_id, upload, chosen, stored)
        nodes: list[Node] = [
            ("Location", location),
            ("Bucket", bucket),
            ("Key", key),
            ("ETag", info.etag),
        ]
        for algorithm, value in info.meta.checksums.items():
            nodes.append((f"Checksum{algorithm.upper()}", value))
        return "CompleteMultipartUploadResult", nodes

    return keepalive_xml(work, request_id(request))


def _invalid_part(number: int) -> Exception:
    return s3_error(
        "InvalidPart",
        "One or more of the specified parts could not be found. The part may not have been "
        "uploaded, or the specified entity tag may not match the part's entity tag.",
        400,
        PartNumber=number,
    )


def _check_parts(
    s3: S3Store, upload_id: str, chosen: list[tuple[int, str, dict[str, str]]]
) -> dict[int, dict[str, Any]]:
    """The records of the chosen parts, if the list is one S3 would accept."""
    numbers = [n for n, _, _ in chosen]
    if numbers != sorted(set(numbers)):
        raise s3_error(
            "InvalidPartOrder",
            "The list of parts was not in ascending order. Parts must be ordered by part number.",
            400,
        )
    stored = _parts(s3, upload_id)
    for i, (number, etag, sums) in enumerate(chosen):
        part = stored.get(number)
        if part is None or part["etag"] != etag:
            raise _invalid_part(number)
        for algorithm, value in sums.items():
            if part["checksums"].get(algorithm) not in (None, value):
                raise _invalid_part(number)
        if i < len(chosen) - 1 and part["size"] < MIN_PART_SIZE:
            raise s3_error(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed object size.",
                400,
                PartNumber=number,
                ProposedSize=part["size"],
                MinSizeAllowed=MIN_PART_SIZE,
            )
    return stored


def _assemble(
    s3: S3Store,
    upload_id: str,
    upload: dict[str, Any],
    chosen: list[tuple[int, str, dict[str, str]]],
    stored: dict[int, dict[str, Any]],
) -> ObjectInfo:
    """The parts, in order, published as one object; the upload's area is then removed."""
    numbers = [n for n, _, _ in chosen]
    bucket, key = upload["bucket"], upload["key"]
    s3.check_writable(bucket, key)
    pending = s3.begin_write(bucket, key)
    crc = 0
    try:
        for number, _, _ in chosen:
            part_source = (META_DIR, f"{_area(upload_id)}/{number:05d}")
            with s3.open_read(*part_source) as fh:
                while block := fh.read(1024 * 1024):
                    crc = zlib.crc32(block, crc)
                    pending.write(block)
    except BaseException:
        pending.abort()
        raise
    digests = b"".join(bytes.fromhex(stored[n]["etag"]) for n in numbers)
    etag = f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(numbers)}"
    meta = ObjectMeta(
        etag=etag,
        content_type=upload.get("content_type") or "binary/octet-stream",
        user=upload.get("user") or {},
        headers=upload.get("headers") or {},
        checksums=_whole_checksums(upload, [stored[n] for n in numbers], crc),
    )
    info = pending.commit(meta)
    s3.store.delete(f"{META_DIR}/{_area(upload_id)}")
    return info


def _whole_checksums(
    upload: dict[str, Any], parts: list[dict[str, Any]], crc: int
) -> dict[str, str]:
    """The object's checksum: S3's composite `<checksum of part checksums>-<n>`, or the
    full-object CRC32 (computed while assembling) when the upload asked for FULL_OBJECT."""
    algorithm = upload.get("checksum_algorithm")
    if not algorithm:
        return {}
    if upload.get("checksum_type") == "FULL_OBJECT":
        if algorithm == "crc32":
            return {"crc32": base64.b64encode(crc.to_bytes(4, "big")).decode()}
        return {}
    values = [p["checksums"].get(algorithm) for p in parts]
    if not all(values):
        return {}
    joined = b"".join(base64.b64decode(v) for v in values if v)
    if algorithm == "crc32":
        digest = zlib.crc32(joined).to_bytes(4, "big")
    elif algorithm in ("sha1", "sha256"):
        digest = hashlib.new(algorithm, joined).digest()
    else:
        return {}
    return {algorithm: f"{base64.b64encode(digest).decode()}-{len(parts)}"}


async def abort(s3: S3Store, request: Request, bucket: str, key: str) -> Response:
    """AbortMultipartUpload: the parts are deleted."""
    upload_id = request.query_params.get("uploadId", "")
    await run(_load, s3, bucket, key, upload_id)
    await run(s3.store.delete, f"{META_DIR}/{_area(upload_id)}")
    return Response(status_code=204)


async def list_parts(
    s3: S3Store, request: Request, bucket: str, key: str, account: str
) -> Response:
    """ListParts, paged by `part-number-marker` and `max-parts`."""
    query = request.query_params
    upload_id = query.get("uploadId", "")
    upload = await run(_load, s3, bucket, key, upload_id)
    try:
        max_parts = min(int(query.get("max-parts", "1000")), 1000)
        marker = int(query.get("part-number-marker", "0") or 0)
    except ValueError:
        raise invalid_argument(
            "max-parts", query.get("max-parts", ""), "must be an integer"
        ) from None
    parts = sorted((n, p) for n, p in (await run(_parts, s3, upload_id)).items() if n > marker)
    page, truncated = parts[:max_parts], len(parts) > max_parts
    nodes: list[Node] = [
        ("Bucket", bucket),
        ("Key", key),
        ("UploadId", upload_id),
        ("PartNumberMarker", marker),
        ("NextPartNumberMarker", page[-1][0] if page else marker),
        ("MaxParts", max_parts),
        ("IsTruncated", truncated),
    ]
    for number, part in page:
        entry: list[Node] = [
            ("PartNumber", number),
            ("LastModified", iso_time(part.get("time") or 0)),
            ("ETag", f'"{part["etag"]}"'),
            ("Size", part["size"]),
        ]
        entry += [(f"Checksum{a.upper()}", v) for a, v in part.get("checksums", {}).items()]
        nodes.append(("Part", entry))
    nodes += [
        ("Initiator", owner(account)),
        ("Owner", owner(account)),
        ("StorageClass", "STANDARD"),
    ]
    if upload.get("checksum_algorithm"):
        nodes.append(("ChecksumAlgorithm", str(upload["checksum_algorithm"]).upper()))
    return xml_response("ListPartsResult", nodes)


def _uploads(s3: S3Store, bucket: str, prefix: str) -> list[dict[str, Any]]:
    base = f"{s3.root}/{META_DIR}/uploads"
    out: list[dict[str, Any]] = []
    try:
        folders = s3.fs.ls(base, detail=False)
    except FileNotFoundError:
        return out
    for folder in folders:
        upload_id = str(folder).rstrip("/").rsplit("/", 1)[-1]
        try:
            record = json.loads(s3.fs.cat_file(f"{base}/{upload_id}/upload.json"))
        except (FileNotFoundError, ValueError):
            continue
        if record.get("bucket") == bucket and str(record.get("key", "")).startswith(prefix):
            out.append({**record, "upload_id": upload_id})
    out.sort(key=lambda r: (r["key"].encode("utf-8"), r["initiated"]))
    return out


async def list_uploads(s3: S3Store, request: Request, bucket: str, account: str) -> Response:
    """ListMultipartUploads (by prefix; one page of up to `max-uploads`)."""
    await run(s3.require_bucket, bucket)
    query = request.query_params
    prefix = query.get("prefix", "")
    try:
        max_uploads = min(int(query.get("max-uploads", "1000")), 1000)
    except ValueError:
        raise invalid_argument(
            "max-uploads", query.get("max-uploads", ""), "must be an integer"
        ) from None
    uploads = await run(_uploads, s3, bucket, prefix)
    page = uploads[:max_uploads]
    nodes: list[Node] = [
        ("Bucket", bucket),
        ("KeyMarker", ""),
        ("UploadIdMarker", ""),
        ("Prefix", prefix),
        ("MaxUploads", max_uploads),
        ("IsTruncated", len(uploads) > max_uploads),
    ]
    if len(uploads) > max_uploads and page:
        nodes += [("NextKeyMarker", page[-1]["key"]), ("NextUploadIdMarker", page[-1]["upload_id"])]
    for upload in page:
        nodes.append(
            (
                "Upload",
                [
                    ("Key", upload["key"]),
                    ("UploadId", upload["upload_id"]),
                    ("Initiator", owner(account)),
                    ("Owner", owner(account)),
                    ("StorageClass", "STANDARD"),
                    ("Initiated", iso_time(upload["initiated"])),
                ],
            )
        )
    return xml_response("ListMultipartUploadsResult", nodes)
