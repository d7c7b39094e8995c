"""The artifact store: one fsspec URL for datasets, models and job outputs.

A local folder by default; any fsspec URL (`s3://bucket/prefix` through s3fs,
`memory://` in tests) by configuration. Everything inside it is addressed by a
*key* relative to the root, and users may write `store://<key>` anywhere a URL
is expected. URLs outside the store (another bucket, a local path) are read
through fsspec too, so a job can take its input from wherever it lives.

Two promises:
- writes are atomic: a reader sees the old object or the whole new one, never a
  half-written file under its final name (local: temp file + rename; S3-like
  object stores publish an object only when its upload completes, and an
  upload that raises is discarded; any other file system: temp key + move);
- a key cannot escape the root (`..`, absolute paths and empty segments are refused).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from sageforge.core.errors import ResourceNotFound, ValidationError

STORE_SCHEME = "store://"
S3_SCHEME = "s3://"
_OBJECT_STORES = {"s3", "s3a", "gs", "gcs", "abfs", "az"}
"""Object stores publish an object only when its upload completes, so writing in place is atomic."""
_CHUNK = 8 * 1024 * 1024


def check_key(key: str, field: str = "key") -> str:
    """Return a normalised key, or raise if it is empty or escapes the store root."""
    if not isinstance(key, str) or not key.strip("/"):
        raise ValidationError("a store key must not be empty", field=field)
    if "\x00" in key or "\\" in key:
        raise ValidationError(f"{key!r}: NUL and backslash are not allowed in keys", field=field)
    if key.startswith("/"):
        raise ValidationError(f"{key!r}: keys are relative to the store root", field=field)
    parts = key.rstrip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ValidationError(
            f"{key!r}: '.', '..' and empty path segments are not allowed in keys", field=field
        )
    return "/".join(parts)


@dataclass(frozen=True)
class StoreObject:
    """One object under a prefix, as `ls` reports it."""

    key: str
    size: int


class ArtifactStore:
    """An fsspec file system rooted at `root_url`; see the module docstring."""

    def __init__(self, root_url: str, **storage_options: Any) -> None:
        self.root_url = root_url.rstrip("/")
        fs, root = fsspec.core.url_to_fs(self.root_url, **storage_options)
        self.fs: fsspec.AbstractFileSystem = fs
        self.root: str = root.rstrip("/")
        self._local = isinstance(fs, LocalFileSystem)
        protocols = {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)
        self._publishes_on_close = bool(protocols & _OBJECT_STORES)
        if self._local:
            Path(self.root).mkdir(parents=True, exist_ok=True)

    # -- addressing --------------------------------------------------------

    def url(self, key: str) -> str:
        """The full URL of a key, e.g. `file:///home/u/.sageforge/store/models/a.tar.gz`."""
        return f"{self.root_url}/{check_key(key)}"

    def _path(self, key: str) -> str:
        return f"{self.root}/{check_key(key)}"

    def key_of(self, url: str) -> str | None:
        """The key of a URL that points inside this store, else None.

        `s3://bucket/key` is the key `bucket/key`: sageforge's S3 API serves the
        store's top-level folders as buckets (`sageforge.compat.s3`), so user code's
        S3 URLs name store objects. In a store that is itself on S3, URLs into its
        own bucket but outside its root pass through to that bucket.
        """
        if url.startswith(STORE_SCHEME):
            return check_key(url[len(STORE_SCHEME) :], field="url")
        for prefix in (self.root_url + "/", self.root + "/"):
            if url.startswith(prefix):
                return check_key(url[len(prefix) :], field="url")
        if url.startswith(S3_SCHEME):
            rest = url[len(S3_SCHEME) :]
            protocol = self.fs.protocol
            on_s3 = (protocol if isinstance(protocol, str) else protocol[0]) in ("s3", "s3a")
            if not (on_s3 and rest.split("/", 1)[0] == self.root.split("/", 1)[0]):
                return check_key(rest, field="url")
        return None

    def resolve(self, url: str, field: str = "url") -> tuple[fsspec.AbstractFileSystem, str]:
        """(file system, path) for a store key URL, any fsspec URL or an absolute local path."""
        if not isinstance(url, str) or not url:
            raise ValidationError("a URL is required", field=field)
        key = self.key_of(url)
        if key is not None:
            return self.fs, self._path(key)
        if url.startswith("/"):
            return fsspec.filesystem("file"), os.path.normpath(url)
        if "://" not in url:
            raise ValidationError(
                f"{url!r} is neither a URL (scheme://...), a store key (store://...) "
                "nor an absolute path",
                field=field,
            )
        try:
            fs, path = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as exc:
            raise ValidationError(f"cannot open {url!r}: {exc}", field=field) from None
        return fs, path

    # -- writing -----------------------------------------------------------

    @contextlib.contextmanager
    def open_write(self, key: str) -> Iterator[IO[bytes]]:
        """A binary file that appears under `key` only if the block exits cleanly."""
        path = self._path(key)
        if self._local:
            directory = os.path.dirname(path)
            os.makedirs(directory, exist_ok=True)
            tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{uuid.uuid4().hex}")
            try:
                with open(tmp, "wb") as fh:
                    yield fh
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
            return
        if self._publishes_on_close:
            fh = self.fs.open(path, "wb")
            try:
                yield fh
            except BaseException:
                fh.discard()  # abort the upload: nothing is published
                raise
            fh.close()
            return
        # Any other file system: write a hidden temporary key, then move it in place.
        directory, base = posixpath.split(path)
        tmp = f"{directory}/.{base}.tmp-{uuid.uuid4().hex}"
        try:
            with self.fs.open(tmp, "wb") as fh:
                yield fh
            self.fs.mv(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(tmp)
            raise

    def put_bytes(self, key: str, data: bytes) -> str:
        """Write `data` under `key` atomically; returns the object's URL."""
        with self.open_write(key) as fh:
            fh.write(data)
        return self.url(key)

    def put_file(self, key: str, local_path: str | Path) -> str:
        """Copy a local file under `key` atomically; returns the object's URL."""
        with open(local_path, "rb") as src, self.open_write(key) as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
        return self.url(key)

    def put_dir(self, prefix: str, local_dir: str | Path) -> list[str]:
        """Upload every file below `local_dir` under `prefix/`, each atomically."""
        base = Path(local_dir)
        urls = []
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            rel = path.relative_to(base).as_posix()
            urls.append(self.put_file(f"{check_key(prefix)}/{rel}", path))
        return urls

    # -- reading -----------------------------------------------------------

    def exists(self, key: str) -> bool:
        """Whether an object (or a prefix with objects) exists under `key`."""
        return bool(self.fs.exists(self._path(key)))

    def get_bytes(self, key: str) -> bytes:
        """The whole object; raise ResourceNotFound if there is none."""
        try:
            return bytes(self.fs.cat_file(self._path(key)))
        except (FileNotFoundError, IsADirectoryError):
            raise ResourceNotFound(f"no object at {self.url(key)}", field="key") from None

    def open_read(self, key: str) -> IO[bytes]:
        """A binary reader over the object; raise ResourceNotFound if there is none."""
        path = self._path(key)
        if not self.fs.isfile(path):
            raise ResourceNotFound(f"no object at {self.url(key)}", field="key")
        return self.fs.open(path, "rb")  # type: ignore[no-any-return]

    def size(self, key: str) -> int:
        """Size in bytes of one object."""
        path = self._path(key)
        if not self.fs.isfile(path):
            raise ResourceNotFound(f"no object at {self.url(key)}", field="key")
        return int(self.fs.size(path))

    def ls(self, prefix: str = "", recursive: bool = True) -> list[StoreObject]:
        """Objects under a prefix (the whole store for ""), sorted by key."""
        base = self._path(prefix) if prefix.strip("/") else self.root
        if not self.fs.exists(base):
            return []
        if self.fs.isfile(base):
            return [StoreObject(check_key(prefix), int(self.fs.size(base)))]
        if recursive:
            found = self.fs.find(base, detail=True)
        else:
            found = {e["name"]: e for e in self.fs.ls(base, detail=True)}
        out = []
        for name, info in found.items():
            rel = posixpath.relpath(name, self.root)
            if rel.startswith(".") or "/." in rel:  # temp files of writes in flight
                continue
            size = int(info.get("size") or 0) if info.get("type") != "directory" else 0
            out.append(StoreObject(rel + ("/" if info.get("type") == "directory" else ""), size))
        return sorted(out, key=lambda o: o.key)

    def delete(self, key: str) -> None:
        """Delete an object or everything under a prefix; missing keys are not an error."""
        path = self._path(key)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)

    # -- moving data to and from job folders --------------------------------

    def download(
        self, url: str, local_dir: str | Path, *, link: bool = False, field: str = "url"
    ) -> int:
        """Copy the object or every object under the prefix at `url` into `local_dir`.

        With `link=True`, files on the local file system are symlinked instead of
        copied (SageMaker's FastFile mode: no copy, read in place). Returns the
        number of files placed; raises ResourceNotFound when there is nothing there.
        """
        fs, path = self.resolve(url, field=field)
        dest = Path(local_dir)
        dest.mkdir(parents=True, exist_ok=True)
        path = path.rstrip("/")
        if not fs.exists(path):
            raise ResourceNotFound(f"nothing found at {url}", field=field)
        files = [path] if fs.isfile(path) else sorted(fs.find(path))
        base = posixpath.dirname(path) if fs.isfile(path) else path
        local = isinstance(fs, LocalFileSystem)
        count = 0
        for src in files:
            rel = posixpath.relpath(src, base)
            if any(part.startswith(".") for part in rel.split("/")):
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if local and link:
                os.symlink(src, target)
            elif local:
                shutil.copyfile(src, target)
            else:
                fs.get_file(src, str(target))
            count += 1
        if count == 0:
            raise ResourceNotFound(f"no files found under {url}", field=field)
        return count

    def upload(self, local_path: str | Path, url: str, field: str = "url") -> str:
        """Upload a local file to a URL (store key URL or any fsspec URL), atomically."""
        key = self.key_of(url)
        if key is not None:
            return self.put_file(key, local_path)
        fs, path = self.resolve(url, field=field)
        if isinstance(fs, LocalFileSystem):
            other = ArtifactStore(os.path.dirname(path))
            return other.put_file(os.path.basename(path), local_path)
        fs.put_file(str(local_path), path)
        return url
