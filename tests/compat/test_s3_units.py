"""The S3 layer's engines without a server: aws-chunked, names, ranges, listing order."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from sageforge.compat._errors import AwsError
from sageforge.compat.s3._backend import S3Store
from sageforge.compat.s3._body import AwsChunkedDecoder
from sageforge.compat.s3._headers import parse_range
from sageforge.compat.s3._listing import paginate
from sageforge.compat.s3._names import (
    bucket_from_host,
    check_key,
    check_new_bucket_name,
    parse_target,
)
from sageforge.core.store import ArtifactStore


def encode_chunked(payload: bytes, sizes: list[int], signed: bool = False) -> bytes:
    out, pos = b"", 0
    for size in sizes:
        piece = payload[pos : pos + size]
        pos += size
        ext = ";chunk-signature=" + "0" * 64 if signed else ""
        out += f"{len(piece):x}{ext}\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"


@pytest.mark.parametrize("signed", [False, True])
def test_aws_chunked_decoding_survives_any_split(signed: bool) -> None:
    rng = random.Random(1)
    payload = rng.randbytes(5000)
    body = encode_chunked(payload, [1024, 1024, 2000, 952], signed)
    for _ in range(50):
        decoder = AwsChunkedDecoder()
        out, pos = b"", 0
        while pos < len(body):
            step = rng.randint(1, 300)
            out += b"".join(decoder.feed(body[pos : pos + step]))
            pos += step
        decoder.finish()
        assert out == payload
        assert decoder.trailers == {"x-amz-checksum-crc32": "AAAAAA=="}


def test_aws_chunked_truncated_or_malformed() -> None:
    body = encode_chunked(b"x" * 100, [100])
    decoder = AwsChunkedDecoder()
    decoder.feed(body[:50])
    with pytest.raises(AwsError) as exc:
        decoder.finish()
    assert exc.value.code == "IncompleteBody"
    with pytest.raises(AwsError):
        AwsChunkedDecoder().feed(b"zz\r\n")
    with pytest.raises(AwsError):
        AwsChunkedDecoder().feed(b"2\r\nabXX")


def test_virtual_host_and_path_style_addressing() -> None:
    assert bucket_from_host("127.0.0.1:7071") is None
    assert bucket_from_host("localhost:7071") is None
    assert bucket_from_host("[::1]:7071") is None
    assert bucket_from_host("my-bucket.localhost:7071") == "my-bucket"
    assert bucket_from_host("my.dotted.bucket.s3.us-east-1.amazonaws.com") == "my.dotted.bucket"
    assert bucket_from_host("b1.s3.amazonaws.com") == "b1"
    assert bucket_from_host("b1.s3-us-west-2.amazonaws.com") == "b1"
    assert bucket_from_host("s3.amazonaws.com") is None
    assert bucket_from_host("sageforge.example.com") is None
    assert parse_target("127.0.0.1", "/") == parse_target("127.0.0.1", "")
    assert parse_target("127.0.0.1", "/b/").bucket == "b"
    assert parse_target("127.0.0.1", "/b/").key is None
    assert parse_target("127.0.0.1", "/b/k/x y").key == "k/x y"
    vhost = parse_target("b.localhost:1", "/k/x")
    assert (vhost.bucket, vhost.key, vhost.virtual_host) == ("b", "k/x", True)


def test_bucket_name_rules() -> None:
    for good in ("abc", "my-bucket", "a.b.c", "sagemaker-us-east-1-000000000000", "1" * 63):
        check_new_bucket_name(good)
    for bad in (
        "ab",
        "a" * 64,
        "Upper",
        "under_score",
        "a..b",
        "a.-b",
        "-ab",
        "ab-",
        "10.0.0.1",
        "xn--abc",
        "abc-s3alias",
    ):
        with pytest.raises(AwsError) as exc:
            check_new_bucket_name(bad)
        assert exc.value.code == "InvalidBucketName", bad


def test_key_rules() -> None:
    assert check_key("a/b c/ü.txt") == "a/b c/ü.txt"
    for bad in ("", "/abs", "a//b", "a/./b", "../x", "dir/", "a\\b", ("x" * 256) + "/y"):
        with pytest.raises(AwsError) as exc:
            check_key(bad)
        assert exc.value.code == "InvalidArgument", bad
    with pytest.raises(AwsError) as exc:
        check_key("é" * 513)
    assert exc.value.code == "KeyTooLongError"


def test_ranges() -> None:
    assert parse_range(None, 10) is None
    assert parse_range("bytes=0-0", 10) == (0, 0)
    assert parse_range("bytes=2-", 10) == (2, 9)
    assert parse_range("bytes=-4", 10) == (6, 9)
    assert parse_range("bytes=-40", 10) == (0, 9)
    assert parse_range("bytes=5-100", 10) == (5, 9)
    assert parse_range("bytes=5-2", 10) is None  # invalid: ignored, as S3 does
    assert parse_range("bytes=0-1,3-4", 10) is None  # several ranges: whole object
    for unsatisfiable in ("bytes=10-", "bytes=-0"):
        with pytest.raises(AwsError) as exc:
            parse_range(unsatisfiable, 10)
        assert exc.value.status == 416


def reference(keys: list[str], prefix: str, delimiter: str, after: str) -> list[str]:
    """What S3 lists, written the obvious way: every item in order, then cut at the marker."""
    items: list[str] = []
    for key in sorted(keys, key=lambda k: k.encode()):
        if not key.startswith(prefix):
            continue
        idx = key.find(delimiter, len(prefix)) if delimiter else -1
        item = key[: idx + len(delimiter)] if idx >= 0 else key
        if not items or items[-1] != item:
            items.append(item)
    return [i for i in items if i.encode() > after.encode()]


@pytest.mark.parametrize("root", ["local", "memory"])
def test_listing_matches_s3_order_and_pages(root: str, tmp_path: Path) -> None:
    url = tmp_path.as_uri() if root == "local" else f"memory://s3-units-{random.random()}"
    store = ArtifactStore(url)
    s3 = S3Store(store)
    rng = random.Random(7)
    alphabet = ["a", "b", "/", "-", ".", "ü", "0", "z", "A"]
    keys: list[str] = []
    while len(keys) < 160:
        key = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7)))
        try:
            check_key(key)
        except AwsError:
            continue
        # a file store cannot hold a key that is also a folder of other keys
        if any(k == key or k.startswith(key + "/") or key.startswith(k + "/") for k in keys):
            continue
        store.put_bytes(f"bkt/{key}", b"x")
        keys.append(key)
    for prefix in ("", "a", "a/", "b-", "ü", "zz"):
        for delimiter in ("", "/", "-"):
            for after in ("", "a", "a/b", "b", "ü/"):
                expected = reference(keys, prefix, delimiter, after)
                got: list[str] = []
                marker = after
                for _ in range(len(expected) + 2):
                    page = paginate(s3, "bkt", prefix, delimiter, marker, 5)
                    # a page carries keys and prefixes in two lists; merged, they are in order
                    got += sorted([k for k, _, _ in page.contents] + page.prefixes, key=str.encode)
                    if not page.truncated:
                        break
                    assert page.last is not None
                    marker = page.last
                assert got == expected, (prefix, delimiter, after)


def test_s3_urls_are_store_keys(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path.as_uri())
    assert store.key_of("s3://bucket/a/b.csv") == "bucket/a/b.csv"
    assert store.key_of("s3://bucket/prefix/") == "bucket/prefix"
    store.put_bytes("bucket/a/b.csv", b"1,2")
    fs, path = store.resolve("s3://bucket/a/b.csv")
    assert fs.cat_file(path) == b"1,2"


def test_long_operations_keep_the_connection_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import time
    import xml.etree.ElementTree as ET

    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Route

    from sageforge.compat.s3 import _keepalive
    from sageforge.compat.s3._errors import s3_error

    monkeypatch.setattr(_keepalive, "KEEPALIVE_SECONDS", 0.05)

    def slow() -> tuple[str, list[tuple[str, object]]]:
        time.sleep(0.3)
        return "CopyObjectResult", [("ETag", '"abc"')]

    def failing() -> tuple[str, list[tuple[str, object]]]:
        time.sleep(0.2)
        raise s3_error("KeyConflict", "no", 409, Key="k")

    async def ok(request: Request) -> Any:
        return _keepalive.keepalive_xml(slow, "RID")

    async def bad(request: Request) -> Any:
        return _keepalive.keepalive_xml(failing, "RID")

    app = Starlette(routes=[Route("/ok", ok), Route("/bad", bad)])

    async def call(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get(path)

    done = asyncio.run(call("/ok"))
    assert done.status_code == 200
    assert b"\n " in done.content  # spaces were sent while waiting
    assert ET.fromstring(done.content).findtext("{*}ETag") == '"abc"'
    failed = asyncio.run(call("/bad"))
    assert failed.status_code == 200  # already sent; the body says what went wrong
    error = ET.fromstring(failed.content)
    assert error.tag == "Error" and error.findtext("Code") == "KeyConflict"
    assert error.findtext("Key") == "k" and error.findtext("RequestId") == "RID"
