"""ArtifactStore conformance: the same promises on every back end."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sageforge.core.errors import ResourceNotFound, ValidationError
from sageforge.core.store import ArtifactStore, check_key


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStore]:
    if request.param == "local":
        yield ArtifactStore((tmp_path / "store").as_uri())
    else:
        root = f"memory://sf-{uuid.uuid4().hex}"
        s = ArtifactStore(root)
        yield s
        s.fs.rm(s.root, recursive=True) if s.fs.exists(s.root) else None


def test_put_get_list_delete(store: ArtifactStore) -> None:
    store.put_bytes("a/b/one.txt", b"1")
    store.put_bytes("a/two.txt", b"22")
    assert store.get_bytes("a/b/one.txt") == b"1"
    assert [(o.key, o.size) for o in store.ls("a")] == [("a/b/one.txt", 1), ("a/two.txt", 2)]
    assert store.exists("a/two.txt") and store.size("a/two.txt") == 2
    store.delete("a/b")
    assert [o.key for o in store.ls("a")] == ["a/two.txt"]
    with pytest.raises(ResourceNotFound):
        store.get_bytes("a/b/one.txt")


def test_failed_write_leaves_nothing(store: ArtifactStore) -> None:
    store.put_bytes("m/model.bin", b"old")
    with pytest.raises(RuntimeError), store.open_write("m/model.bin") as fh:
        fh.write(b"half of the new")
        raise RuntimeError("crash mid-write")
    assert store.get_bytes("m/model.bin") == b"old"
    with pytest.raises(RuntimeError), store.open_write("m/fresh.bin") as fh:
        fh.write(b"partial")
        raise RuntimeError("crash mid-write")
    assert not store.exists("m/fresh.bin")
    assert [o.key for o in store.ls("m")] == ["m/model.bin"]


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "..", "a//b", "./a", "a\\b", "a\x00"])
def test_keys_cannot_escape(store: ArtifactStore, key: str) -> None:
    with pytest.raises(ValidationError):
        store.put_bytes(key, b"x")


def test_store_urls_and_download(store: ArtifactStore, tmp_path: Path) -> None:
    store.put_bytes("d/x/1.csv", b"a")
    store.put_bytes("d/x/sub/2.csv", b"b")
    assert store.key_of("store://d/x") == "d/x"
    assert store.key_of(store.url("d/x")) == "d/x"
    n = store.download("store://d/x", tmp_path / "out")
    assert n == 2
    assert (tmp_path / "out" / "sub" / "2.csv").read_bytes() == b"b"
    assert store.download("store://d/x/1.csv", tmp_path / "one") == 1
    assert (tmp_path / "one" / "1.csv").read_bytes() == b"a"
    with pytest.raises(ResourceNotFound):
        store.download("store://nothing/here", tmp_path / "none")


def test_upload_then_put_dir(store: ArtifactStore, tmp_path: Path) -> None:
    f = tmp_path / "f.bin"
    f.write_bytes(b"payload")
    store.upload(f, "store://up/f.bin")
    assert store.get_bytes("up/f.bin") == b"payload"
    (tmp_path / "dir" / "in").mkdir(parents=True)
    (tmp_path / "dir" / "in" / "z.txt").write_text("z")
    store.put_dir("tree", tmp_path / "dir")
    assert [o.key for o in store.ls("tree")] == ["tree/in/z.txt"]


def test_local_paths_and_bad_urls(tmp_path: Path) -> None:
    store = ArtifactStore((tmp_path / "s").as_uri())
    (tmp_path / "x.csv").write_text("1")
    fs, path = store.resolve(str(tmp_path / "x.csv"))
    assert fs.exists(path)
    with pytest.raises(ValidationError) as err:
        store.resolve("relative/path.csv", field="input")
    assert err.value.field == "input"


def test_check_key_normalises_trailing_slash() -> None:
    assert check_key("a/b/") == "a/b"
