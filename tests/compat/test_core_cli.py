"""`sageforge aws-env`: exports that make unchanged boto3 code talk to sageforge."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from sageforge.compat import default_credentials
from sageforge.core.config import Settings

pytestmark = pytest.mark.e2e

EXPECTED = {
    "AWS_ENDPOINT_URL_SAGEMAKER",
    "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME",
    "AWS_ENDPOINT_URL_SAGEMAKER_FEATURESTORE_RUNTIME",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
    "AWS_ENDPOINT_URL_CLOUDWATCH",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_EC2_METADATA_DISABLED",
    "SAGEMAKER_USER_CONFIG_OVERRIDE",
}


def aws_env(home: Path, *args: str) -> dict[str, str]:
    env = {**os.environ, "SAGEFORGE_HOME": str(home)}
    env.pop("SAGEFORGE_URL", None)
    out = subprocess.run(
        [sys.executable, "-m", "sageforge.cli", "aws-env", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    exports = {}
    for line in out.stdout.splitlines():
        words = shlex.split(line)
        assert words[0] == "export" and len(words) == 2, line
        name, value = words[1].split("=", 1)
        exports[name] = value
    return exports


def test_exports_reach_the_running_server(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    exports = aws_env(server.home, "--region", "eu-west-1")
    assert set(exports) == EXPECTED
    aws_url = json.loads((server.home / "server.json").read_text())["aws_url"]
    assert {v for k, v in exports.items() if k.startswith("AWS_ENDPOINT_URL_")} == {aws_url}
    key, secret = default_credentials(Settings.load({"SAGEFORGE_HOME": str(server.home)}))
    assert (exports["AWS_ACCESS_KEY_ID"], exports["AWS_SECRET_ACCESS_KEY"]) == (key, secret)
    assert exports["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert exports["AWS_EC2_METADATA_DISABLED"] == "true"
    config = Path(exports["SAGEMAKER_USER_CONFIG_OVERRIDE"]).read_text()
    assert "SchemaVersion: '1.0'" in config
    assert "DefaultS3Bucket: sagemaker-eu-west-1-000000000000" in config
    assert "TelemetryOptOut: true" in config

    # user code that names no endpoint: botocore finds everything in the environment
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in exports.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(server.home / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(server.home / "no-aws-credentials"))
    session = boto3.Session()
    assert session.client("sts").get_caller_identity()["Account"] == "000000000000"
    streams = session.client("logs").describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs"
    )
    assert streams["logStreams"] == []


def test_aws_env_starts_a_server_when_none_runs(home: Path) -> None:
    from sageforge.sdk._local_server import read_server_file, stop_server

    settings = Settings.load({"SAGEFORGE_HOME": str(home)})
    try:
        exports = aws_env(home, "--bucket", "my-bucket")
        info = read_server_file(settings)
        assert info is not None and exports["AWS_ENDPOINT_URL_SAGEMAKER"] == info["aws_url"]
        assert (
            "DefaultS3Bucket: my-bucket"
            in Path(exports["SAGEMAKER_USER_CONFIG_OVERRIDE"]).read_text()
        )
    finally:
        stop_server(settings)
