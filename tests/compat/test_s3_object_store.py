"""The S3 API over a store that is not a local folder (fsspec's `memory://`).

Object stores (S3, MinIO through s3fs) have no real folders and publish a
write on close; `memory://` has neither local paths nor atomic renames. Running
the same client calls over it checks that the S3 layer relies only on what
`ArtifactStore` and fsspec promise for any back end.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sageforge.compat._keys import default_credentials
from sageforge.core.config import Settings

pytestmark = pytest.mark.e2e


def running_server_class(config: pytest.Config) -> Any:
    """`RunningServer` of tests/conftest.py (conftest modules are plugins, not importable)."""
    for plugin in config.pluginmanager.get_plugins():
        cls = getattr(plugin, "RunningServer", None)
        if cls is not None:
            return cls
    raise LookupError("tests/conftest.py's RunningServer is not loaded")


@pytest.fixture(scope="module")
def s3(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("memstore") / "home"
    server_class = running_server_class(request.config)
    srv = server_class(home, env={"SAGEFORGE_STORE_URL": "memory://sageforge-store"}).start()
    try:
        url = json.loads((home / "server.json").read_text())["aws_url"]
        key, secret = default_credentials(Settings.load({"SAGEFORGE_HOME": str(home)}))
        yield boto3.client(
            "s3",
            endpoint_url=url,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 1}),
        )
    finally:
        srv.stop()


def test_objects_listing_and_buckets_on_an_object_store(s3: Any) -> None:
    s3.create_bucket(Bucket="mem")
    assert "mem" in [b["Name"] for b in s3.list_buckets()["Buckets"]]  # empty, still a bucket
    s3.head_bucket(Bucket="mem")
    for i in range(30):
        s3.put_object(Bucket="mem", Key=f"d{i % 3}/k{i:02d}", Body=str(i).encode())
    got = s3.get_object(Bucket="mem", Key="d1/k04", Range="bytes=0-0")
    assert got["Body"].read() == b"4"
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket="mem", PaginationConfig={"PageSize": 7}
    )
    listed = [o for p in pages for o in p["Contents"]]
    keys = [o["Key"] for o in listed]
    for o in listed:  # the body of key d<x>/k<i> is str(i)
        assert o["ETag"] == f'"{hashlib.md5(str(int(o["Key"][-2:])).encode()).hexdigest()}"'

    assert keys == sorted(f"d{i % 3}/k{i:02d}" for i in range(30))
    top = s3.list_objects_v2(Bucket="mem", Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["d0/", "d1/", "d2/"]
    s3.copy_object(Bucket="mem", Key="copy", CopySource="mem/d0/k00")
    assert s3.get_object(Bucket="mem", Key="copy")["Body"].read() == b"0"
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket="mem")
    assert exc.value.response["Error"]["Code"] == "BucketNotEmpty"
    s3.delete_objects(
        Bucket="mem", Delete={"Objects": [{"Key": k} for k in [*keys, "copy"]], "Quiet": True}
    )
    assert s3.list_objects_v2(Bucket="mem")["KeyCount"] == 0
    s3.delete_bucket(Bucket="mem")
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket="mem")


def test_multipart_on_an_object_store(s3: Any, tmp_path: Path) -> None:
    s3.create_bucket(Bucket="mem-big")
    src = tmp_path / "f.bin"
    src.write_bytes(os.urandom(9 * 1024 * 1024))
    s3.upload_file(str(src), "mem-big", "f.bin")
    head = s3.head_object(Bucket="mem-big", Key="f.bin")
    assert head["ETag"].endswith('-2"') and head["ContentLength"] == src.stat().st_size
    back = tmp_path / "back.bin"
    s3.download_file("mem-big", "f.bin", str(back))
    assert hashlib.md5(back.read_bytes()).digest() == hashlib.md5(src.read_bytes()).digest()
