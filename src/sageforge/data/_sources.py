"""Reading a source from the server: local files in place, remote ones via a temporary copy,
and recent samples kept in memory so repeated previews of a flow do not re-read a file."""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import polars as pl
from fsspec.implementations.local import LocalFileSystem

from sageforge.core.errors import ValidationError
from sageforge.core.store import ArtifactStore
from sageforge.data.io import ReadOptions, read_table

_CACHE_SIZE = 8


@contextlib.contextmanager
def local_source(store: ArtifactStore, url: str, field: str = "source_url") -> Iterator[Path]:
    """A local path for `url` for the duration of the block."""
    fs, path = store.resolve(url, field=field)
    if isinstance(fs, LocalFileSystem):
        if not Path(path).exists():
            raise ValidationError(f"nothing found at {url}", field=field)
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix="sageforge-source-") as tmp:
        store.download(url, tmp, field=field)
        entries = list(Path(tmp).iterdir())
        yield entries[0] if len(entries) == 1 and entries[0].is_file() else Path(tmp)


def _fingerprint(path: Path) -> tuple[float, int]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return (
        max((f.stat().st_mtime for f in files), default=0.0),
        sum(f.stat().st_size for f in files),
    )


class SampleCache:
    """The last few samples read, keyed by source, options, size and the files' state."""

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store
        self._items: OrderedDict[tuple[object, ...], pl.DataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def sample(
        self,
        url: str,
        options: ReadOptions,
        size: int,
        method: str = "first",
        seed: int = 0,
        field: str = "source_url",
    ) -> pl.DataFrame:
        """`size` rows of the source (first or random), from memory when unchanged."""
        with local_source(self.store, url, field) as path:
            key = (url, options.model_dump_json(), size, method, seed, _fingerprint(path))
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
            df = read_table(path, options, limit=size, sample=method, seed=seed)  # type: ignore[arg-type]
        with self._lock:
            self._items[key] = df
            while len(self._items) > _CACHE_SIZE:
                self._items.popitem(last=False)
        return df


def rows_json(df: pl.DataFrame) -> dict[str, object]:
    """A frame as {schema, rows} for the API (dates and other objects as text)."""
    from sageforge.data.flow import dtype_name

    rows = [
        {
            k: (v if v is None or isinstance(v, bool | int | float | str) else str(v))
            for k, v in r.items()
        }
        for r in df.iter_rows(named=True)
    ]
    for r in rows:  # JSON has no NaN
        for k, v in r.items():
            if isinstance(v, float) and v != v:
                r[k] = None
    schema = {name: dtype_name(dtype) for name, dtype in df.schema.items()}
    return {"schema": schema, "columns": df.columns, "rows": rows}
