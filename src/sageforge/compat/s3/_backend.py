"""Buckets and objects on the artifact store: the file-system side of the S3 API.

Bucket `b` is the store's top-level folder `b`, object `b/k` the store key
`b/k`, so `s3://b/k` and `store://b/k` name the same bytes (see the package
docstring). What S3 keeps beside the bytes (ETag, Content-Type, `x-amz-meta-*`,
checksums) lives in a sidecar under `.s3/meta/` at the store root: a folder that
is not a valid bucket name and that the store's own listings skip, so no
sidecar ever shows up as an object. A sidecar records the size and
modification time of the bytes it describes; when sageforge itself rewrites an
object (a training job's model.tar.gz), the sidecar no longer matches and the
object is served as one sageforge wrote (default type, an ETag derived from its
size and time: computing MD5s of large artifacts on every listing would cost
more than it is worth).

All methods block (file I/O); the async handlers call them in worker threads.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import IO, Any

from fsspec.implementations.local import LocalFileSystem

from sageforge.compat._errors import AwsError
from sageforge.compat.s3._errors import key_conflict, no_such_bucket, no_such_key, s3_error
from sageforge.compat.s3._names import check_bucket_name, check_key
from sageforge.compat.s3._walk import Cursor, Entry, scan_any, scan_local
from sageforge.core.errors import ResourceNotFound
from sageforge.core.store import ArtifactStore

META_DIR = ".s3"
"""The S3 layer's own folder at the store root (sidecars, bucket records, multipart parts)."""

DEFAULT_CONTENT_TYPE = "binary/octet-stream"
"""What S3 answers for an object stored without a Content-Type."""

_LOCKS = [threading.Lock() for _ in range(64)]


def _lock(bucket: str, key: str) -> threading.Lock:
    """Serialises publishing an object and recording its sidecar (per key, striped)."""
    return _LOCKS[hash((bucket, key)) % len(_LOCKS)]


def _mtime(info: dict[str, Any]) -> float:
    """Modification time from an fsspec `info` dict, whatever the file system calls it."""
    for name in ("mtime", "LastModified", "last_modified", "created"):
        value = info.get(name)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
    return 0.0


@dataclass
class ObjectMeta:
    """What S3 keeps beside an object's bytes."""

    etag: str
    """Without quotes: the MD5 hex of the bytes, or `<md5 of part md5s>-<n>` after multipart."""
    content_type: str = DEFAULT_CONTENT_TYPE
    user: dict[str, str] = field(default_factory=dict)
    """`x-amz-meta-<name>` values by lower-case name."""
    headers: dict[str, str] = field(default_factory=dict)
    """Content-Encoding, Content-Disposition, Cache-Control … as given at upload."""
    checksums: dict[str, str] = field(default_factory=dict)
    """Verified `x-amz-checksum-<algorithm>` values (base64), echoed on full reads."""


@dataclass(frozen=True)
class ObjectInfo:
    """One object: its key, size, time and metadata."""

    key: str
    size: int
    mtime: float
    meta: ObjectMeta

    @property
    def etag(self) -> str:
        """The ETag as S3 sends it, in double quotes."""
        return f'"{self.meta.etag}"'


class S3Store:
    """Buckets and objects over one `ArtifactStore`; see the module docstring."""

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store
        self.fs = store.fs
        self.root = store.root
        self._local = isinstance(store.fs, LocalFileSystem)

    # -- addressing ---------------------------------------------------------

    def path(self, bucket: str, key: str | None = None) -> str:
        """The file-system path of a bucket folder or an object."""
        return f"{self.root}/{bucket}" if key is None else f"{self.root}/{bucket}/{key}"

    def _sidecar_key(self, bucket: str, key: str) -> str:
        # Hashed names: a sidecar never collides with another key, nor outgrows a name limit.
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
        return f"{META_DIR}/meta/{bucket}/{digest[:2]}/{digest}.json"

    def _bucket_record_key(self, bucket: str) -> str:
        return f"{META_DIR}/buckets/{bucket}.json"

    # -- buckets --------------------------------------------------------------

    def _bucket_record(self, bucket: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self.store.get_bytes(self._bucket_record_key(bucket)))
        except (ResourceNotFound, ValueError):
            return None
        return data

    def bucket_exists(self, bucket: str) -> bool:
        """A top-level folder, or a bucket created here whose folder an object store dropped."""
        check_bucket_name(bucket)
        if self.fs.isdir(self.path(bucket)):
            return True
        return self._bucket_record(bucket) is not None

    def require_bucket(self, bucket: str) -> None:
        """Raise NoSuchBucket unless the bucket exists."""
        if not self.bucket_exists(bucket):
            raise no_such_bucket(bucket)

    def bucket_region(self, bucket: str, default: str) -> str:
        """The region a bucket was created for (folders sageforge made: `default`)."""
        record = self._bucket_record(bucket)
        return str(record.get("region") or default) if record else default

    def list_buckets(self) -> list[tuple[str, float]]:
        """(name, creation time) of every bucket, sorted by name."""
        found: dict[str, float] = {}
        with contextlib.suppress(FileNotFoundError):
            for entry in self.fs.ls(self.root, detail=True):
                name = posixpath.basename(str(entry["name"]).rstrip("/"))
                if entry.get("type") == "directory" and _is_bucket_name(name):
                    found[name] = _mtime(entry) or time.time()
        with contextlib.suppress(FileNotFoundError):
            for name in self.fs.ls(f"{self.root}/{META_DIR}/buckets", detail=False):
                bucket = posixpath.basename(str(name)).removesuffix(".json")
                record = self._bucket_record(bucket)
                if record is not None:
                    found[bucket] = float(record.get("created") or found.get(bucket) or 0)
        return sorted(found.items())

    def create_bucket(self, bucket: str, region: str) -> None:
        """Make the folder and record when and for which region it was made."""
        self.fs.makedirs(self.path(bucket), exist_ok=True)
        record = {"created": time.time(), "region": region}
        self.store.put_bytes(self._bucket_record_key(bucket), json.dumps(record).encode())

    def delete_bucket(self, bucket: str) -> None:
        """Remove an empty bucket; BucketNotEmpty while it holds any object."""
        self.require_bucket(bucket)
        if next(self.scan(bucket, ""), None) is not None:
            raise s3_error(
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
                409,
                BucketName=bucket,
            )
        for key in (bucket, f"{META_DIR}/meta/{bucket}", self._bucket_record_key(bucket)):
            self.store.delete(key)

    # -- objects ---------------------------------------------------------------

    def stat(self, bucket: str, key: str) -> ObjectInfo:
        """The object's size, time and metadata; NoSuchKey when there is none."""
        info = None
        if _storable(key):  # else the path could normalise to another key (`a//b` → `a/b`)
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                info = self.fs.info(self.path(bucket, key))
        if info is None or info.get("type") != "file":
            self.require_bucket(bucket)
            raise no_such_key(key)
        return self.describe(bucket, key, int(info.get("size") or 0), _mtime(info))

    def describe(self, bucket: str, key: str, size: int, mtime: float) -> ObjectInfo:
        """ObjectInfo for bytes of this size and time: from the sidecar if it still matches."""
        record = self._read_sidecar(bucket, key)
        # Times are compared with a tolerance: some file systems report them as floats in
        # listings and as datetimes in `info`, which need not round-trip exactly.
        recorded = record.get("mtime") if record else None
        if record and record.get("size") == size and abs(float(recorded or 0) - mtime) < 1e-5:
            meta = ObjectMeta(**{k: v for k, v in record.items() if k in _META_FIELDS})
        else:
            tag = hashlib.md5(f"{key}:{size}:{mtime!r}".encode(), usedforsecurity=False)
            meta = ObjectMeta(etag=tag.hexdigest())
        return ObjectInfo(key, size, mtime, meta)

    def _read_sidecar(self, bucket: str, key: str) -> dict[str, Any] | None:
        path = f"{self.root}/{self._sidecar_key(bucket, key)}"
        try:
            if self._local:  # a listing reads one per key: skip fsspec's overhead
                with open(path, "rb") as fh:
                    raw = fh.read()
            else:
                raw = self.fs.cat_file(path)
            record: dict[str, Any] = json.loads(raw)
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return None
        return record if record.get("key") == key else None

    def open_read(self, bucket: str, key: str) -> IO[bytes]:
        """A binary reader over the object (the caller closes it)."""
        try:
            return self.fs.open(self.path(bucket, key), "rb")  # type: ignore[no-any-return]
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise no_such_key(key) from None

    def check_writable(self, bucket: str, key: str) -> None:
        """KeyConflict when `key` is a folder of other objects, or lies below an object."""
        if self.fs.isdir(self.path(bucket, key)):
            raise key_conflict(
                key,
                f"Objects exist under '{key}/'; the artifact store keeps objects as files, "
                "so a key cannot also be a prefix of other keys.",
            )
        parts = key.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if self.fs.isfile(self.path(bucket, parent)):
                raise key_conflict(
                    key,
                    f"'{parent}' is an object; the artifact store keeps objects as files, "
                    "so it cannot also be a prefix of other keys.",
                )

    def begin_write(self, bucket: str, key: str) -> PendingObject:
        """An object being written: invisible until `commit`, discarded on `abort`."""
        return PendingObject(self, bucket, key)

    def delete_object(self, bucket: str, key: str) -> None:
        """Delete one object and its sidecar; a missing key is not an error (as in S3)."""
        path = self.path(bucket, key)
        with _lock(bucket, key):
            if self.fs.isfile(path):
                self.fs.rm_file(path)
                self._prune(bucket, key)
            self.store.delete(self._sidecar_key(bucket, key))

    def _prune(self, bucket: str, key: str) -> None:
        """Remove folders the delete left empty, so a later key may take their name."""
        if not self._local:
            return  # object stores have no folders to leave behind
        top = self.path(bucket)
        parent = posixpath.dirname(self.path(bucket, key))
        while parent.startswith(top + "/"):
            try:
                os.rmdir(parent)
            except OSError:
                return
            parent = posixpath.dirname(parent)

    def scan(self, bucket: str, prefix: str, cursor: Cursor | None = None) -> Iterator[Entry]:
        """(key, size, mtime) of objects whose keys start with `prefix`, in S3's order,
        lazily and from `cursor` on (see `_walk`)."""
        cursor = cursor or Cursor()
        if self._local:
            return scan_local(self.path(bucket), prefix, cursor)
        return scan_any(self.fs, self.path(bucket), prefix, cursor, _mtime)

    # -- recording a published object --------------------------------------------

    def record(self, bucket: str, key: str, meta: ObjectMeta) -> ObjectInfo:
        """Write the sidecar for the bytes now under `key` (caller holds the key's lock)."""
        info = self.fs.info(self.path(bucket, key))
        size, mtime = int(info.get("size") or 0), _mtime(info)
        record = {"key": key, "size": size, "mtime": mtime, **asdict(meta)}
        self.store.put_bytes(self._sidecar_key(bucket, key), json.dumps(record).encode())
        return ObjectInfo(key, size, mtime, meta)


_META_FIELDS = {f for f in ObjectMeta.__dataclass_fields__}


def _storable(key: str) -> bool:
    try:
        check_key(key)
    except AwsError:
        return False
    return True


def _is_bucket_name(name: str) -> bool:
    try:
        check_bucket_name(name)
    except Exception:
        return False
    return True


class PendingObject:
    """Bytes on their way to `bucket/key`, under a temporary name until `commit`."""

    def __init__(self, s3: S3Store, bucket: str, key: str) -> None:
        self.s3, self.bucket, self.key = s3, bucket, key
        self._stack = contextlib.ExitStack()
        for attempt in range(3):
            try:
                self._fh = self._stack.enter_context(s3.store.open_write(f"{bucket}/{key}"))
                break
            except FileNotFoundError:
                # A concurrent delete pruned the folder between makedirs and open: retry.
                if attempt == 2:
                    raise
            except (NotADirectoryError, FileExistsError):
                s3.check_writable(bucket, key)
                raise
        self.size = 0

    def write(self, data: bytes) -> None:
        self._fh.write(data)
        self.size += len(data)

    def publish(self) -> None:
        """Make the bytes appear under the key (no S3 metadata: multipart parts)."""
        try:
            self._stack.close()
        except (IsADirectoryError, NotADirectoryError, FileExistsError):
            self.s3.check_writable(self.bucket, self.key)
            raise

    def commit(self, meta: ObjectMeta) -> ObjectInfo:
        """Publish the bytes under the key and record their metadata."""
        with _lock(self.bucket, self.key):
            self.publish()
            return self.s3.record(self.bucket, self.key, meta)

    def abort(self) -> None:
        """Discard the bytes: nothing appears under the key."""
        err = RuntimeError("upload abandoned")
        with contextlib.suppress(RuntimeError):
            self._stack.__exit__(RuntimeError, err, None)


def iter_chunks(
    fh: IO[bytes], start: int, length: int, chunk: int = 1024 * 1024
) -> Iterator[bytes]:
    """`length` bytes from `start`, a chunk at a time; closes `fh` when done."""
    try:
        if start:
            fh.seek(start)
        remaining = length
        while remaining > 0:
            data = fh.read(min(chunk, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        fh.close()
