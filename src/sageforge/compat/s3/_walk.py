"""Keys of a bucket in S3's order, lazily, from a movable starting point.

S3 orders keys by their UTF-8 bytes. On a local folder the walk visits
directories in that same order (an entry sorts by its name, plus "/" for a
folder: `a.txt` < `a/…` < `a0`), so a page of a listing costs what the page
holds, not the size of the bucket: subtrees wholly before the cursor are
skipped, and the consumer may move the cursor forward while walking (a listing
that rolled keys up into a common prefix jumps past that prefix's subtree).
Other file systems (object stores list flat anyway) are listed once and sorted.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Entry = tuple[str, int, float]
"""(key, size, modification time) of one object."""

TEMP = re.compile(r"^\..*\.tmp-[0-9a-f]{32}$")
"""The store's names for writes in flight (`ArtifactStore.open_write`): never objects."""

PAST = b"\xff"
"""Sorts after any UTF-8 byte: `prefix + PAST` is past every key under `prefix`."""


@dataclass
class Cursor:
    """Keys at or before `after` (UTF-8 bytes) are not wanted; the consumer may raise it."""

    after: bytes = b""

    def skip(self, key: str) -> bool:
        return bool(self.after) and key.encode("utf-8") <= self.after

    def skip_tree(self, folder_key: str) -> bool:
        """Whether every key under `folder_key` (ending in "/") is at or before `after`."""
        encoded = folder_key.encode("utf-8")
        return bool(self.after) and encoded < self.after and not self.after.startswith(encoded)


def _search_root(prefix: str) -> str | None:
    """The folder (relative to the bucket) that the prefix names fully, None if none can."""
    folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
    if folder and any(p in ("", ".", "..") for p in folder.split("/")):
        return None  # no stored key has such a prefix
    return folder


def scan_local(top: str, prefix: str, cursor: Cursor) -> Iterator[Entry]:
    """Objects under the local folder `top` whose keys start with `prefix`, in order."""
    folder = _search_root(prefix)
    if folder is None:
        return
    yield from _scan_dir(os.path.join(top, folder) if folder else top, folder, prefix, cursor)


def _scan_dir(path: str, rel: str, prefix: str, cursor: Cursor) -> Iterator[Entry]:
    try:
        with os.scandir(path) as it:
            entries = [(e.name + "/" if e.is_dir() else e.name, e) for e in it if _utf8(e.name)]
    except (FileNotFoundError, NotADirectoryError):
        return
    entries.sort(key=lambda pair: pair[0].encode("utf-8"))
    base = f"{rel}/" if rel else ""
    for name, entry in entries:
        key = base + name
        if name.endswith("/"):
            if not (key.startswith(prefix) or prefix.startswith(key)) or cursor.skip_tree(key):
                continue
            yield from _scan_dir(entry.path, key[:-1], prefix, cursor)
            continue
        if TEMP.match(name) or not key.startswith(prefix) or cursor.skip(key):
            continue
        try:
            st = entry.stat()
        except FileNotFoundError:
            continue  # deleted while we walked
        yield key, st.st_size, st.st_mtime


def _utf8(name: str) -> bool:
    """File names that are not UTF-8 cannot be S3 keys; they are left out."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def scan_any(fs: Any, top: str, prefix: str, cursor: Cursor, mtime: Any) -> Iterator[Entry]:
    """The same for any fsspec file system: one flat listing, sorted."""
    folder = _search_root(prefix)
    if folder is None:
        return
    try:
        found = fs.find(f"{top}/{folder}" if folder else top, detail=True)
    except (FileNotFoundError, NotADirectoryError):
        return
    out = []
    for name, info in found.items():
        if info.get("type") != "file" or TEMP.match(posixpath.basename(name)):
            continue
        key = posixpath.relpath(name, top)
        if key.startswith(prefix) and not key.startswith("../"):
            out.append((key, int(info.get("size") or 0), mtime(info)))
    out.sort(key=lambda entry: entry[0].encode("utf-8"))
    for entry in out:
        if not cursor.skip(entry[0]):
            yield entry
