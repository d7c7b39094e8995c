"""The S3 subset end to end: real boto3 against a running server's AWS listener."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zlib
from pathlib import Path
from typing import Any

import boto3
import httpx
import numpy as np
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from sageforge.compat._keys import default_credentials
from sageforge.core.config import Settings

pytestmark = pytest.mark.e2e

REGION = "us-east-1"


class Aws:
    """The AWS side of the module's server: its address and the default key."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.url = json.loads((home / "server.json").read_text())["aws_url"]
        self.key, self.secret = default_credentials(Settings.load({"SAGEFORGE_HOME": str(home)}))

    def client(self, region: str = REGION, **config: Any) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            region_name=region,
            config=Config(retries={"max_attempts": 1}, **config),
        )

    def signed(
        self,
        method: str,
        path: str,
        *,
        host: str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> httpx.Response:
        """A request signed by botocore's own SigV4 signer, sent as given (raw body)."""
        port = self.url.rsplit(":", 1)[1]
        host = host or f"127.0.0.1:{port}"
        request = AWSRequest(method, f"http://{host}{path}", data=body, headers=dict(headers or {}))
        request.headers["host"] = host
        S3SigV4Auth(Credentials(self.key, self.secret), "s3", REGION).add_auth(request)
        return httpx.request(
            method,
            f"http://127.0.0.1:{port}{path}",
            headers=dict(request.headers.items()),
            content=body,
        )


@pytest.fixture(scope="module")
def aws(server: Any) -> Aws:
    return Aws(server.home)


@pytest.fixture(scope="module")
def s3(aws: Aws) -> Any:
    return aws.client()


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_bucket_lifecycle(aws: Aws, s3: Any) -> None:
    s3.create_bucket(Bucket="lifecycle")
    assert s3.head_bucket(Bucket="lifecycle")["ResponseMetadata"]["HTTPStatusCode"] == 200
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "lifecycle" in names
    s3.create_bucket(Bucket="lifecycle")  # us-east-1: re-creating your own bucket is a no-op
    west = aws.client("eu-west-1")
    with pytest.raises(ClientError) as exc:
        west.create_bucket(
            Bucket="lifecycle", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    assert code(exc) == "BucketAlreadyOwnedByYou"
    s3.put_object(Bucket="lifecycle", Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket="lifecycle")
    assert code(exc) == "BucketNotEmpty"
    s3.delete_object(Bucket="lifecycle", Key="k")
    s3.delete_bucket(Bucket="lifecycle")
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket="lifecycle")
    assert code(exc) == "404"  # HEAD errors have no body: botocore names them by status
    assert exc.value.response["Error"]["Message"] == "Not Found"  # what the SageMaker SDK tests
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket="lifecycle")
    assert code(exc) == "NoSuchBucket"
    assert "lifecycle" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_location_constraint_and_bucket_names(aws: Aws, s3: Any) -> None:
    west = aws.client("eu-west-1")
    west.create_bucket(
        Bucket="west-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    assert west.get_bucket_location(Bucket="west-bucket")["LocationConstraint"] == "eu-west-1"
    head = west.head_bucket(Bucket="west-bucket")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1"
    with pytest.raises(ClientError) as exc:
        west.create_bucket(Bucket="no-constraint")
    assert code(exc) == "IllegalLocationConstraintException"
    s3.create_bucket(Bucket="east-bucket")
    assert s3.get_bucket_location(Bucket="east-bucket")["LocationConstraint"] is None
    for bad in ("Bad_Bucket", "ab", "a" * 64, "192.168.1.1", "bad..name", "-dash"):
        with pytest.raises(ClientError) as exc:
            s3.create_bucket(Bucket=bad)
        assert code(exc) == "InvalidBucketName", bad
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket="east-bucket", ExpectedBucketOwner="111122223333")
    assert code(exc) == "403"


def test_put_get_head_ranges_and_conditions(aws: Aws, s3: Any) -> None:
    s3.create_bucket(Bucket="objects")
    body = bytes(range(256)) * 40  # 10240 bytes
    put = s3.put_object(
        Bucket="objects",
        Key="dir/data.bin",
        Body=body,
        ContentType="application/x-test",
        Metadata={"Owner": "me", "run": "7"},
        ContentDisposition="attachment",
    )
    etag = f'"{hashlib.md5(body).hexdigest()}"'
    assert put["ETag"] == etag
    got = s3.get_object(Bucket="objects", Key="dir/data.bin")
    assert got["Body"].read() == body
    assert got["ETag"] == etag and got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"owner": "me", "run": "7"}
    assert got["ContentDisposition"] == "attachment" and got["ContentLength"] == len(body)
    head = s3.head_object(Bucket="objects", Key="dir/data.bin")
    assert head["ContentLength"] == len(body) and head["ETag"] == etag
    # the same bytes are a store object: store://objects/dir/data.bin
    assert (aws.home / "store" / "objects" / "dir" / "data.bin").read_bytes() == body

    for spec, expected in [
        ("bytes=0-4", body[:5]),
        ("bytes=100-199", body[100:200]),
        ("bytes=-3", body[-3:]),
        ("bytes=10000-", body[10000:]),
        ("bytes=10200-99999", body[10200:]),
    ]:
        part = s3.get_object(Bucket="objects", Key="dir/data.bin", Range=spec)
        assert part["Body"].read() == expected, spec
        assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert part["ContentRange"].endswith(f"/{len(body)}")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="objects", Key="dir/data.bin", Range="bytes=20000-")
    assert code(exc) == "InvalidRange"

    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="objects", Key="dir/data.bin", IfNoneMatch=etag)
    assert code(exc) == "304"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="objects", Key="dir/data.bin", IfMatch='"0000"')
    assert code(exc) == "PreconditionFailed"
    assert s3.get_object(Bucket="objects", Key="dir/data.bin", IfMatch=etag)["ETag"] == etag
    later = head["LastModified"]
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="objects", Key="dir/data.bin", IfModifiedSince=later)
    assert code(exc) == "304"

    # overwrite, then delete
    s3.put_object(Bucket="objects", Key="dir/data.bin", Body=b"new")
    assert s3.get_object(Bucket="objects", Key="dir/data.bin")["Body"].read() == b"new"
    assert s3.head_object(Bucket="objects", Key="dir/data.bin")["Metadata"] == {}
    s3.delete_object(Bucket="objects", Key="dir/data.bin")
    s3.delete_object(Bucket="objects", Key="dir/data.bin")  # deleting twice is fine, as in S3
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="objects", Key="dir/data.bin")
    assert code(exc) == "NoSuchKey"
    assert exc.value.response["Error"]["Key"] == "dir/data.bin"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket="objects", Key="dir/data.bin")
    assert code(exc) == "404"
    assert not (aws.home / "store" / "objects" / "dir").exists()  # emptied folders go too


def test_empty_object_and_odd_keys(s3: Any) -> None:
    s3.create_bucket(Bucket="odd-keys")
    s3.put_object(Bucket="odd-keys", Key="empty", Body=b"")
    got = s3.get_object(Bucket="odd-keys", Key="empty")
    assert got["Body"].read() == b"" and got["ETag"] == f'"{hashlib.md5(b"").hexdigest()}"'
    keys = ["sp ace/a+b=c&d.txt", "ünï/cödé 🙂.txt", "q?x#y%z", ".hidden/x"]
    for key in keys:
        s3.put_object(Bucket="odd-keys", Key=key, Body=key.encode())
        assert s3.get_object(Bucket="odd-keys", Key=key)["Body"].read() == key.encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="odd-keys")["Contents"]]
    assert sorted(listed, key=lambda k: k.encode()) == listed
    assert set(listed) == {"empty", *keys}
    listed_v1 = [o["Key"] for o in s3.list_objects(Bucket="odd-keys")["Contents"]]
    assert listed_v1 == listed
    for bad in ("a//b", "./x", "dir/", "a/../b"):
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket="odd-keys", Key=bad, Body=b"x")
        assert code(exc) == "InvalidArgument", bad
    s3.put_object(Bucket="odd-keys", Key="x/y", Body=b"x")
    for never in ("x//y", "x/./y", "./x/y"):  # no stored key; must not read x/y instead
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket="odd-keys", Key=never)
        assert code(exc) == "NoSuchKey", never
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="odd-keys", Key="k" * 1025, Body=b"x")
    assert code(exc) == "KeyTooLongError"
    # a key cannot be both an object and a folder of objects in a file store
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="odd-keys", Key="empty/below", Body=b"x")
    assert code(exc) == "KeyConflict"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="odd-keys", Key="sp ace", Body=b"x")
    assert code(exc) == "KeyConflict"


def test_copy_object(s3: Any) -> None:
    s3.create_bucket(Bucket="copies")
    s3.put_object(
        Bucket="copies", Key="src", Body=b"payload", ContentType="text/x-a", Metadata={"a": "1"}
    )
    s3.copy_object(Bucket="copies", Key="dst", CopySource={"Bucket": "copies", "Key": "src"})
    dst = s3.get_object(Bucket="copies", Key="dst")
    assert dst["Body"].read() == b"payload"
    assert dst["ContentType"] == "text/x-a" and dst["Metadata"] == {"a": "1"}
    s3.copy_object(
        Bucket="copies",
        Key="dst",
        CopySource="copies/src",
        MetadataDirective="REPLACE",
        ContentType="text/x-b",
        Metadata={"b": "2"},
    )
    dst = s3.head_object(Bucket="copies", Key="dst")
    assert dst["ContentType"] == "text/x-b" and dst["Metadata"] == {"b": "2"}
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket="copies", Key="src", CopySource="copies/src")
    assert code(exc) == "InvalidRequest"
    # to itself with REPLACE: metadata changes, bytes stay
    s3.copy_object(
        Bucket="copies",
        Key="src",
        CopySource="copies/src",
        MetadataDirective="REPLACE",
        Metadata={"c": "3"},
    )
    src = s3.get_object(Bucket="copies", Key="src")
    assert src["Body"].read() == b"payload" and src["Metadata"] == {"c": "3"}
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket="copies", Key="x", CopySource="copies/missing")
    assert code(exc) == "NoSuchKey"
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket="copies", Key="x", CopySource="no-such-bucket-here/src")
    assert code(exc) == "NoSuchBucket"
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket="copies", Key="x", CopySource="copies/src", CopySourceIfMatch='"00"')
    assert code(exc) == "PreconditionFailed"


def test_listing_over_a_thousand_keys(aws: Aws, s3: Any) -> None:
    s3.create_bucket(Bucket="many")
    # 1,050 objects written by sageforge itself (straight into the store folder) …
    folder = aws.home / "store" / "many"
    expected = []
    for i in range(1050):
        key = f"data/part-{i:05d}.csv" if i % 3 else f"logs/{i % 7}/log-{i:05d}.txt"
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * (i % 13))
        expected.append(key)
    # … and a few through S3
    for key in ("top-1", "top-2", "data/zz-s3"):
        s3.put_object(Bucket="many", Key=key, Body=b"s3")
        expected.append(key)
    expected.sort(key=lambda k: k.encode())

    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket="many"))
    assert len(pages) == 2 and pages[0]["KeyCount"] == 1000 and pages[0]["IsTruncated"]
    assert [o["Key"] for p in pages for o in p["Contents"]] == expected
    sizes = {o["Key"]: o["Size"] for p in pages for o in p["Contents"]}
    assert sizes["data/part-00014.csv"] == 1 and sizes["top-1"] == 2
    etags = {o["Key"]: o["ETag"] for p in pages for o in p["Contents"]}
    assert etags["top-1"] == etags["data/zz-s3"] == f'"{hashlib.md5(b"s3").hexdigest()}"'
    assert etags["top-1"] == s3.head_object(Bucket="many", Key="top-1")["ETag"]
    native = s3.head_object(Bucket="many", Key="data/part-00014.csv")["ETag"]
    assert etags["data/part-00014.csv"] == native  # sageforge's own files: stable ETags

    small = s3.get_paginator("list_objects_v2").paginate(
        Bucket="many", PaginationConfig={"PageSize": 37}
    )
    assert [o["Key"] for p in small for o in p.get("Contents", [])] == expected
    v1 = s3.get_paginator("list_objects").paginate(Bucket="many")
    assert [o["Key"] for p in v1 for o in p["Contents"]] == expected

    top = s3.list_objects_v2(Bucket="many", Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["data/", "logs/"]
    assert [o["Key"] for o in top["Contents"]] == ["top-1", "top-2"]
    logs = s3.list_objects_v2(Bucket="many", Prefix="logs/", Delimiter="/")
    assert [p["Prefix"] for p in logs["CommonPrefixes"]] == [f"logs/{d}/" for d in range(7)]
    assert "Contents" not in logs
    # delimiter pages: prefixes and keys count alike toward MaxKeys
    walked = s3.get_paginator("list_objects_v2").paginate(
        Bucket="many", Delimiter="/", Prefix="logs/", PaginationConfig={"PageSize": 3}
    )
    assert [c["Prefix"] for p in walked for c in p.get("CommonPrefixes", [])] == [
        f"logs/{d}/" for d in range(7)
    ]
    v1_walk = s3.get_paginator("list_objects").paginate(
        Bucket="many", Delimiter="/", Prefix="logs/", PaginationConfig={"PageSize": 2}
    )
    assert [c["Prefix"] for p in v1_walk for c in p.get("CommonPrefixes", [])] == [
        f"logs/{d}/" for d in range(7)
    ]

    after = s3.list_objects_v2(Bucket="many", StartAfter="data/part-01048.csv", MaxKeys=2)
    assert [o["Key"] for o in after["Contents"]] == ["data/part-01049.csv", "data/zz-s3"]
    partial = s3.list_objects_v2(Bucket="many", Prefix="data/part-0100")
    assert [o["Key"] for o in partial["Contents"]] == [
        f"data/part-{i:05d}.csv" for i in range(1000, 1010) if i % 3
    ]
    owner = s3.list_objects_v2(Bucket="many", Prefix="top", FetchOwner=True)["Contents"][0]
    assert len(owner["Owner"]["ID"]) == 64
    assert s3.list_objects_v2(Bucket="many", Prefix="nothing")["KeyCount"] == 0
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket="many", ContinuationToken="!!not-a-token!!")
    assert code(exc) == "InvalidArgument"


def test_multipart_upload_file_and_download_file(aws: Aws, s3: Any, tmp_path: Path) -> None:
    s3.create_bucket(Bucket="big")
    src = tmp_path / "big.bin"
    data = np.random.default_rng(0).integers(0, 256, 20 * 1024 * 1024 + 123, dtype=np.uint8)
    src.write_bytes(data.tobytes())
    s3.upload_file(str(src), "big", "blobs/big.bin")  # TransferManager: 8 MB parts
    head = s3.head_object(Bucket="big", Key="blobs/big.bin")
    raw = src.read_bytes()
    chunk = 8 * 1024 * 1024
    md5s = b"".join(hashlib.md5(raw[i : i + chunk]).digest() for i in range(0, len(raw), chunk))
    assert head["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    assert head["ContentLength"] == len(raw)
    assert (aws.home / "store" / "big" / "blobs" / "big.bin").read_bytes() == raw
    assert not list((aws.home / "store" / ".s3" / "uploads").iterdir())  # parts cleaned up

    dest = tmp_path / "back.bin"
    s3.download_file("big", "blobs/big.bin", str(dest))  # ranged GETs in parallel
    assert dest.read_bytes() == raw
    # boto3's managed copy of a large object: UploadPartCopy with source ranges
    s3.copy({"Bucket": "big", "Key": "blobs/big.bin"}, "big", "blobs/copy.bin")
    assert (aws.home / "store" / "big" / "blobs" / "copy.bin").read_bytes() == raw
    small = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_file(str(src), "big", "blobs/five.bin", Config=small)
    assert s3.head_object(Bucket="big", Key="blobs/five.bin")["ETag"].endswith('-5"')


def test_multipart_rules(s3: Any) -> None:
    s3.create_bucket(Bucket="parts")
    upload = s3.create_multipart_upload(Bucket="parts", Key="obj", ContentType="text/x-parts")
    uid = upload["UploadId"]
    p1 = s3.upload_part(Bucket="parts", Key="obj", UploadId=uid, PartNumber=1, Body=b"a" * 100)
    p2 = s3.upload_part(Bucket="parts", Key="obj", UploadId=uid, PartNumber=2, Body=b"b" * 100)
    listed = s3.list_parts(Bucket="parts", Key="obj", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed] == [
        (1, 100, p1["ETag"]),
        (2, 100, p2["ETag"]),
    ]
    uploads = s3.list_multipart_uploads(Bucket="parts")["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("obj", uid)]
    parts = [{"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket="parts", Key="obj", UploadId=uid, MultipartUpload={"Parts": parts}
        )
    assert code(exc) == "EntityTooSmall"
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket="parts",
            Key="obj",
            UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"ffff"'}]},
        )
    assert code(exc) == "InvalidPart"
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket="parts", Key="obj", UploadId=uid, MultipartUpload={"Parts": parts[::-1]}
        )
    assert code(exc) == "InvalidPartOrder"
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket="parts", Key="obj", UploadId=uid, PartNumber=10001, Body=b"x")
    assert code(exc) == "InvalidArgument"
    # a single (last) part may be small
    done = s3.complete_multipart_upload(
        Bucket="parts", Key="obj", UploadId=uid, MultipartUpload={"Parts": parts[:1]}
    )
    assert (
        done["ETag"] == f'"{hashlib.md5(bytes.fromhex(p1["ETag"].strip(chr(34)))).hexdigest()}-1"'
    )
    got = s3.get_object(Bucket="parts", Key="obj")
    assert got["Body"].read() == b"a" * 100 and got["ContentType"] == "text/x-parts"
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket="parts", Key="obj", UploadId=uid)
    assert code(exc) == "NoSuchUpload"

    other = s3.create_multipart_upload(Bucket="parts", Key="gone")["UploadId"]
    s3.upload_part(Bucket="parts", Key="gone", UploadId=other, PartNumber=1, Body=b"z")
    s3.abort_multipart_upload(Bucket="parts", Key="gone", UploadId=other)
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket="parts", Key="gone", UploadId=other, PartNumber=2, Body=b"z")
    assert code(exc) == "NoSuchUpload"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket="parts", Key="gone")
    assert code(exc) == "404"


def test_delete_objects(s3: Any) -> None:
    s3.create_bucket(Bucket="batch")
    for i in range(5):
        s3.put_object(Bucket="batch", Key=f"k{i}", Body=b"1")
    out = s3.delete_objects(
        Bucket="batch", Delete={"Objects": [{"Key": "k0"}, {"Key": "k1"}, {"Key": "never"}]}
    )
    assert sorted(d["Key"] for d in out["Deleted"]) == ["k0", "k1", "never"]
    quiet = s3.delete_objects(
        Bucket="batch", Delete={"Objects": [{"Key": "k2"}, {"Key": "k3"}], "Quiet": True}
    )
    assert "Deleted" not in quiet and "Errors" not in quiet
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="batch")["Contents"]] == ["k4"]


@pytest.mark.parametrize("signature", ["s3v4", None])
def test_presigned_get_and_put(aws: Aws, signature: str | None) -> None:
    # botocore presigns S3 URLs with SigV2 (AWSAccessKeyId/Expires/Signature) unless the
    # client asks for s3v4: user code gets either, and both must work.
    s3 = aws.client(**({"signature_version": signature} if signature else {}))
    bucket = f"presigned-{signature or 'default'}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="f.txt", Body=b"shared", ContentType="text/plain")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "f.txt"})
    assert ("X-Amz-Signature=" in url) == (signature == "s3v4")
    got = httpx.get(url)
    assert got.status_code == 200 and got.content == b"shared"
    assert got.headers["content-type"].startswith("text/plain")
    tampered = httpx.get(url.replace("f.txt", "g.txt"))
    assert tampered.status_code == 403
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up.txt"})
    assert httpx.put(put_url, content=b"uploaded").status_code == 200
    assert s3.get_object(Bucket=bucket, Key="up.txt")["Body"].read() == b"uploaded"


def test_virtual_host_style(aws: Aws, s3: Any) -> None:
    s3.create_bucket(Bucket="vhost")
    port = aws.url.rsplit(":", 1)[1]
    put = aws.signed("PUT", "/dir/v.txt", host=f"vhost.localhost:{port}", body=b"virtual")
    assert put.status_code == 200, put.text
    assert s3.get_object(Bucket="vhost", Key="dir/v.txt")["Body"].read() == b"virtual"
    got = aws.signed("GET", "/dir/v.txt", host=f"vhost.s3.{REGION}.amazonaws.com")
    assert got.status_code == 200 and got.content == b"virtual"
    listing = aws.signed("GET", "/?list-type=2", host=f"vhost.localhost:{port}")
    assert "<Key>dir/v.txt</Key>" in listing.text


def _chunked(payload: bytes, checksum: str, sizes: list[int]) -> bytes:
    out, pos = b"", 0
    for size in sizes:
        piece = payload[pos : pos + size]
        pos += size
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return out + f"0\r\nx-amz-checksum-crc32:{checksum}\r\n\r\n".encode()


def test_aws_chunked_upload_with_trailing_checksum(aws: Aws, s3: Any) -> None:
    s3.create_bucket(Bucket="chunked")
    payload = os.urandom(70_000)
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    headers = {
        "content-encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": str(len(payload)),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-sdk-checksum-algorithm": "CRC32",
    }
    body = _chunked(payload, crc, [65536, 4464])
    ok = aws.signed("PUT", "/chunked/good.bin", headers=headers, body=body)
    assert ok.status_code == 200, ok.text
    assert ok.headers["x-amz-checksum-crc32"] == crc
    assert ok.headers["etag"] == f'"{hashlib.md5(payload).hexdigest()}"'
    got = s3.get_object(Bucket="chunked", Key="good.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == payload and got["ChecksumCRC32"] == crc

    wrong = base64.b64encode(b"\0\0\0\0").decode()
    bad = aws.signed(
        "PUT", "/chunked/bad.bin", headers=headers, body=_chunked(payload, wrong, [70_000])
    )
    assert bad.status_code == 400 and "<Code>BadDigest</Code>" in bad.text
    short = aws.signed("PUT", "/chunked/short.bin", headers=headers, body=body[:-2000])
    assert short.status_code == 400
    with pytest.raises(ClientError):
        s3.head_object(Bucket="chunked", Key="bad.bin")  # nothing published
    with pytest.raises(ClientError):
        s3.head_object(Bucket="chunked", Key="short.bin")


def test_integrity_headers_are_checked(aws: Aws, s3: Any) -> None:
    s3.create_bucket(Bucket="integrity")
    with pytest.raises(ClientError) as exc:
        s3.put_object(
            Bucket="integrity",
            Key="x",
            Body=b"abc",
            ContentMD5=base64.b64encode(hashlib.md5(b"abd").digest()).decode(),
        )
    assert code(exc) == "BadDigest"
    # the signed payload hash must match the bytes that arrive
    headers = {"x-amz-content-sha256": hashlib.sha256(b"one").hexdigest()}
    request = AWSRequest("PUT", f"{aws.url}/integrity/y", data=b"one", headers=headers)
    S3SigV4Auth(Credentials(aws.key, aws.secret), "s3", REGION).add_auth(request)
    sent = httpx.put(
        f"{aws.url}/integrity/y", headers=dict(request.headers.items()), content=b"two"
    )
    assert sent.status_code == 400 and "XAmzContentSHA256Mismatch" in sent.text
    with pytest.raises(ClientError):
        s3.head_object(Bucket="integrity", Key="y")


def test_errors_in_s3_xml(aws: Aws, s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="no-such-bucket-anywhere", Key="k")
    assert code(exc) == "NoSuchBucket"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="no-such-bucket-anywhere", Key="k", Body=b"")
    assert code(exc) == "NoSuchBucket"
    s3.create_bucket(Bucket="errors")
    raw = aws.signed("GET", "/errors/missing")
    assert raw.status_code == 404
    assert "<Code>NoSuchKey</Code>" in raw.text and "<Key>missing</Key>" in raw.text
    assert "<RequestId>" in raw.text and raw.headers["x-amz-request-id"]
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_acl(Bucket="errors")
    assert code(exc) == "NotImplemented"


def test_store_and_s3_see_the_same_objects(aws: Aws, s3: Any, session: Any) -> None:
    s3.create_bucket(Bucket="shared")
    s3.put_object(Bucket="shared", Key="from-s3.txt", Body=b"via s3")
    assert session.read_bytes("store://shared/from-s3.txt") == b"via s3"
    session.upload_bytes(b"via sageforge", "shared/native.txt")
    got = s3.get_object(Bucket="shared", Key="native.txt")
    assert got["Body"].read() == b"via sageforge"
    assert got["ContentType"] == "binary/octet-stream" and len(got["ETag"]) == 34
    # sageforge rewrites an object S3 wrote: the stale metadata is not served
    s3.put_object(Bucket="shared", Key="both.txt", Body=b"one", Metadata={"v": "1"})
    session.upload_bytes(b"two!", "shared/both.txt")
    head = s3.head_object(Bucket="shared", Key="both.txt")
    assert head["ContentLength"] == 4 and head["Metadata"] == {}
    assert head["ETag"] != f'"{hashlib.md5(b"one").hexdigest()}"'
    # the S3 layer's own folder is neither a bucket nor an object
    assert all(not b["Name"].startswith(".") for b in s3.list_buckets()["Buckets"])


def test_training_job_reads_s3_input_and_writes_s3_output(aws: Aws, s3: Any, session: Any) -> None:
    bucket = f"sagemaker-{REGION}-000000000000"
    s3.create_bucket(Bucket=bucket)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    rows = "\n".join(
        ",".join([str(t), *(f"{v:.5f}" for v in x)]) for t, x in zip(y, X, strict=True)
    )
    s3.put_object(
        Bucket=bucket, Key="xgb/train/train.csv", Body=rows.encode(), ContentType="text/csv"
    )
    job = session.create_training_job(
        algorithm="xgboost",
        inputs={"train": {"uri": f"s3://{bucket}/xgb/train", "content_type": "text/csv"}},
        hyperparameters={"num_round": 5, "objective": "binary:logistic"},
        output_path=f"s3://{bucket}/xgb/output",
    )
    desc = job.wait(180)
    assert desc["training_job_status"] == "Completed", desc.get("failure_reason")
    key = f"xgb/output/{job.name}/output/model.tar.gz"
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] > 100
    assert job.model_artifacts == f"s3://{bucket}/{key}"
