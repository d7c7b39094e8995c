"""The SageMaker SDK's own S3 helpers against sageforge, in the SDK's virtualenv.

`Session.default_bucket()` (ListBuckets/HeadBucket/CreateBucket), `upload_data`,
`S3Uploader`/`S3Downloader` are what notebooks call before and after a job;
they must work on the S3 subset unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]

SCRIPT = r"""
import json, os, sys
import sagemaker
from sagemaker.s3 import S3Downloader, S3Uploader

work = sys.argv[1]
session = sagemaker.Session()
bucket = session.default_bucket()
data = os.path.join(work, "data")
os.makedirs(os.path.join(data, "nested"))
for name, body in [("a.csv", "1,2\n"), ("nested/b.csv", "3,4\n")]:
    with open(os.path.join(data, name), "w") as fh:
        fh.write(body)
uri = session.upload_data(path=data, bucket=bucket, key_prefix="sdk-s3/data")
listed = sorted(S3Downloader.list(uri))
S3Uploader.upload_string_as_file_body("hello sdk", f"s3://{bucket}/sdk-s3/hello.txt")
text = S3Downloader.read_file(f"s3://{bucket}/sdk-s3/hello.txt")
back = os.path.join(work, "back")
S3Downloader.download(uri, back)
files = sorted(
    os.path.relpath(os.path.join(d, f), back) for d, _, fs in os.walk(back) for f in fs
)
again = session.default_bucket()  # the bucket exists now: no second create
print("RESULT " + json.dumps(
    {"bucket": bucket, "uri": uri, "listed": listed, "text": text, "files": files,
     "again": again}
))
"""


def test_sdk_s3_helpers(compat_python: Path, aws_server: Any, tmp_path: Path, server: Any) -> None:
    home = tmp_path / "user-home"
    home.mkdir()
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(aws_server.exports, HOME=str(home), PYTHONUNBUFFERED="1")
    script = tmp_path / "sdk_s3.py"
    script.write_text(SCRIPT)
    proc = subprocess.run(
        [str(compat_python), str(script), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    result: dict[str, Any] = json.loads(
        [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")][-1][7:]
    )
    bucket = result["bucket"]
    assert bucket.startswith("sagemaker-") and result["again"] == bucket
    assert result["uri"] == f"s3://{bucket}/sdk-s3/data"
    assert result["listed"] == [
        f"s3://{bucket}/sdk-s3/data/a.csv",
        f"s3://{bucket}/sdk-s3/data/nested/b.csv",
    ]
    assert result["text"] == "hello sdk"
    assert result["files"] == ["a.csv", "nested/b.csv"]
    store = server.home / "store" / bucket / "sdk-s3"
    assert (store / "data" / "nested" / "b.csv").read_text() == "3,4\n"
    assert (store / "hello.txt").read_text() == "hello sdk"
