"""The AWS-compatible listener with real boto3 clients: dispatch, validation, signatures, keys."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from sageforge.compat import default_credentials
from sageforge.core.config import Settings
from sageforge.core.errors import ResourceNotFound

pytestmark = pytest.mark.e2e


class Aws:
    """How a client reaches a test server's AWS-compatible API."""

    def __init__(self, server: Any) -> None:
        self.home = server.home
        self.url = json.loads((server.home / "server.json").read_text())["aws_url"]
        self.key, self.secret = default_credentials(
            Settings.load({"SAGEFORGE_HOME": str(self.home)})
        )

    def client(
        self, service: str, key: str | None = None, secret: str | None = None, **config: Any
    ) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key or self.key,
            aws_secret_access_key=secret or self.secret,
            config=Config(retries={"max_attempts": 1}, **config),
        )

    def signed_post(
        self, target: str, body: bytes, content_type: str = "application/x-amz-json-1.1"
    ) -> httpx.Response:
        """A JSON request signed by botocore's own SigV4 signer, sent as is."""
        req = AWSRequest(
            method="POST",
            url=self.url + "/",
            data=body,
            headers={"X-Amz-Target": target, "Content-Type": content_type},
        )
        SigV4Auth(Credentials(self.key, self.secret), "sagemaker", "us-east-1").add_auth(req)
        return httpx.post(
            self.url + "/", content=body, headers=dict(req.headers.items()), timeout=30
        )


@pytest.fixture(scope="module")
def aws(server: Any) -> Aws:
    return Aws(server)


def error_of(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response
    return (
        err["Error"]["Code"],
        err["Error"].get("Message", ""),
        err["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_server_announces_the_aws_address(server: Any, aws: Aws) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", aws.url)
    assert aws.url != server.url
    log = (server.home / "server-test.log").read_text()
    assert f"AWS-compatible API on {aws.url}" in log


def test_unknown_operation(aws: Aws) -> None:
    resp = aws.signed_post("SageMaker.LaunchRocket", b"{}")
    assert resp.status_code == 400
    assert resp.json()["__type"] == "UnknownOperationException"
    assert "LaunchRocket" in resp.json()["message"]
    resp = aws.signed_post("NoSuchService_2020.Thing", b"{}")
    assert resp.json()["__type"] == "UnknownOperationException"


def test_missing_member_is_named_as_aws_does(aws: Aws) -> None:
    sm = aws.client("sagemaker", parameter_validation=False)
    code, message, status = error_of(lambda: sm.describe_training_job())
    assert (code, status) == ("ValidationException", 400)
    assert message == (
        "1 validation error detected: Value null at 'trainingJobName' failed to satisfy "
        "constraint: Member must not be null"
    )
    code, message, _ = error_of(
        lambda: sm.create_training_job(TrainingJobName="ok-name", OutputDataConfig={})
    )
    assert code == "ValidationException"
    assert message.startswith("2 validation errors detected")
    assert "'roleArn'" in message and "'outputDataConfig.s3OutputPath'" in message


def test_wrong_type_enum_length_and_pattern(aws: Aws) -> None:
    logs = aws.client("logs", parameter_validation=False)
    code, message, _ = error_of(
        lambda: logs.get_log_events(logGroupName="g", logStreamName="s", limit="ten")
    )
    assert code == "ValidationException"
    assert (
        "Value 'ten' at 'limit' failed to satisfy constraint: Member must be of type integer"
        in message
    )
    sm = aws.client("sagemaker", parameter_validation=False)
    code, message, _ = error_of(lambda: sm.describe_training_job(TrainingJobName="bad_name!"))
    assert code == "ValidationException" and "regular expression pattern" in message
    code, message, _ = error_of(lambda: sm.list_training_jobs(StatusEquals="Sleeping"))
    assert "Member must satisfy enum value set" in message and "'statusEquals'" in message
    code, message, _ = error_of(lambda: sm.describe_training_job(TrainingJobName="x" * 64))
    assert "Member must have length less than or equal to 63" in message


def test_body_that_is_not_json(aws: Aws) -> None:
    resp = aws.signed_post("Logs_20140328.GetLogEvents", b"{not json")
    assert resp.status_code == 400 and resp.json()["__type"] == "SerializationException"


def test_unsigned_requests_are_refused(aws: Aws) -> None:
    sm = aws.client("sagemaker", signature_version=UNSIGNED)
    code, _, status = error_of(lambda: sm.list_training_jobs())
    assert (code, status) == ("UnrecognizedClientException", 403)
    s3 = aws.client("s3", signature_version=UNSIGNED)
    code, _, status = error_of(lambda: s3.list_buckets())
    assert (code, status) == ("AccessDenied", 403)


def test_bad_signature_and_unknown_key(aws: Aws) -> None:
    wrong = "w" * 40
    code, _, status = error_of(
        lambda: aws.client("logs", secret=wrong).describe_log_streams(
            logGroupName="/aws/sagemaker/TrainingJobs"
        )
    )
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    code, _, status = error_of(lambda: aws.client("s3", secret=wrong).list_buckets())
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    code, _, status = error_of(lambda: aws.client("sts", secret=wrong).get_caller_identity())
    assert code == "SignatureDoesNotMatch"
    stranger = "AKIAIOSFODNN7EXAMPLE"
    code, message, status = error_of(
        lambda: aws.client("sagemaker", key=stranger).list_training_jobs()
    )
    assert (code, status) == ("UnrecognizedClientException", 403)
    assert message == "The security token included in the request is invalid."
    code, _, status = error_of(lambda: aws.client("s3", key=stranger).list_buckets())
    assert (code, status) == ("InvalidAccessKeyId", 403)


def test_clock_skew_is_refused(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.auth

    monkeypatch.setattr(
        botocore.auth,
        "get_current_datetime",
        lambda: datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=16),
    )
    code, message, _ = error_of(
        lambda: aws.client("logs").describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs")
    )
    assert code == "SignatureDoesNotMatch" and "expired" in message
    code, _, status = error_of(lambda: aws.client("s3").list_buckets())
    assert (code, status) == ("RequestTimeTooSkewed", 403)


def _cli(aws: Aws, *args: str) -> Any:
    """`sageforge <args>` in-process (Typer's runner), against the test server's home."""
    from typer.testing import CliRunner

    from sageforge.cli import app

    return CliRunner().invoke(
        app, list(args), env={"SAGEFORGE_HOME": str(aws.home), "COLUMNS": "200"}
    )


def test_created_key_signs_until_revoked(aws: Aws) -> None:
    out = _cli(aws, "keys", "create", "--description", "ci robot")
    assert out.exit_code == 0, out.output
    key = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", out.stdout).group(1)  # type: ignore[union-attr]
    secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", out.stdout).group(1)  # type: ignore[union-attr]
    sts = aws.client("sts", key=key, secret=secret)
    assert sts.get_caller_identity()["UserId"] == key
    listed = _cli(aws, "keys", "list")
    row = next(line for line in listed.stdout.splitlines() if key in line)
    assert "Active" in row and "ci robot" in row and secret not in row
    revoked = _cli(aws, "keys", "revoke", key)
    assert revoked.exit_code == 0 and f"revoked {key}" in revoked.stdout
    code, _, status = error_of(lambda: sts.get_caller_identity())
    assert (code, status) == ("InvalidClientTokenId", 403)
    code, _, _ = error_of(
        lambda: aws.client("logs", key=key, secret=secret).describe_log_streams(
            logGroupName="/aws/sagemaker/TrainingJobs"
        )
    )
    assert code == "UnrecognizedClientException"
    listed = _cli(aws, "keys", "list")
    assert "Inactive" in next(line for line in listed.stdout.splitlines() if key in line)
    missing = _cli(aws, "keys", "revoke", "AKSFNOSUCHKEY0000000")
    assert isinstance(missing.exception, ResourceNotFound)
    assert "AKSFNOSUCHKEY0000000" in str(missing.exception)


def test_sts_caller_identity_and_still_serving(aws: Aws) -> None:
    ident = aws.client("sts").get_caller_identity()
    assert ident["Account"] == "000000000000"
    assert ident["UserId"] == aws.key
    assert ident["Arn"].startswith("arn:aws:iam::000000000000:")
    # every refused request above left the server answering
    streams = aws.client("logs").describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs")
    assert streams["logStreams"] == []
