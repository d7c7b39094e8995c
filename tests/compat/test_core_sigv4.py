"""Server-side SigV4 checked against botocore's own signers (no server needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from sageforge.compat import _sigv4
from sageforge.compat._errors import AwsError

KEY, SECRET = "AKSFTESTKEY000000001", "s3cr3t/with+chars0123456789abcdefghijklm"


def _verify(prepared: AWSRequest, secret: str = SECRET, body: bytes = b"") -> _sigv4.Credential:
    """Check a botocore-signed request the way the server does, from its wire form."""
    parts = urlsplit(prepared.url)
    headers = [(k.lower(), v) for k, v in prepared.headers.items()]
    if not any(k == "host" for k, _ in headers):
        headers.append(("host", parts.netloc))
    query = [tuple(p.split("=", 1)) if "=" in p else (p, "") for p in parts.query.split("&") if p]
    from urllib.parse import unquote

    cred = _sigv4.parse_credential(dict(headers), [(unquote(k), unquote(v)) for k, v in query])
    assert cred is not None
    _sigv4.check_time(cred, s3=cred.service == "s3")
    _sigv4.verify(
        cred,
        secret,
        method=prepared.method,
        raw_path=parts.path,
        query_string=parts.query,
        headers=headers,
        payload=_sigv4.payload_hash(dict(headers), body, cred),
    )
    return cred


def _json_request(body: bytes = b'{"TrainingJobName": "x"}') -> AWSRequest:
    req = AWSRequest(
        method="POST",
        url="http://127.0.0.1:7071/",
        data=body,
        headers={
            "X-Amz-Target": "SageMaker.DescribeTrainingJob",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials(KEY, SECRET), "sagemaker", "eu-west-1").add_auth(req)
    return req


def test_json_request_signed_by_botocore_verifies() -> None:
    cred = _verify(_json_request(), body=b'{"TrainingJobName": "x"}')
    assert (cred.access_key, cred.region, cred.service) == (KEY, "eu-west-1", "sagemaker")


def test_changed_body_or_wrong_secret_does_not_match() -> None:
    with pytest.raises(AwsError) as err:
        _verify(_json_request(), body=b'{"TrainingJobName": "y"}')
    assert err.value.code == "SignatureDoesNotMatch"
    with pytest.raises(AwsError) as err:
        _verify(_json_request(), secret="x" * 40, body=b'{"TrainingJobName": "x"}')
    assert err.value.code == "SignatureDoesNotMatch"


def test_runtime_path_is_encoded_twice_for_non_s3_services() -> None:
    req = AWSRequest(
        method="POST",
        url="http://127.0.0.1:7071/endpoints/my-endpoint%3Av1/invocations?x=a%20b&a=1",
        data=b"1,2,3",
        headers={"Content-Type": "text/csv"},
    )
    SigV4Auth(Credentials(KEY, SECRET), "sagemaker", "us-east-1").add_auth(req)
    _verify(req, body=b"1,2,3")


@pytest.mark.parametrize(
    "key", ["plain/key.txt", "with space/and+plus=eq&amp", "ünïcode/ключ", "a//double/./dot"]
)
def test_s3_request_signs_the_path_as_sent(key: str) -> None:
    from urllib.parse import quote

    req = AWSRequest(
        method="PUT",
        url=f"http://127.0.0.1:7071/bucket/{quote(key, safe='/~')}?tagging=&versionId=3",
        data=b"hello",
        headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
    )
    S3SigV4Auth(Credentials(KEY, SECRET), "s3", "us-east-1").add_auth(req)
    cred = _verify(req)
    assert cred.service == "s3"


def test_s3_presigned_get_verifies_and_expires() -> None:
    req = AWSRequest(method="GET", url="http://127.0.0.1:7071/bucket/some%20key.csv")
    S3SigV4QueryAuth(Credentials(KEY, SECRET), "s3", "us-east-1", expires=60).add_auth(req)
    cred = _verify(req)
    assert cred.presigned and cred.expires == 60
    with pytest.raises(AwsError) as err:
        _sigv4.check_time(cred, s3=True, now=datetime.now(UTC) + timedelta(seconds=120))
    assert (err.value.code, err.value.status) == ("AccessDenied", 403)


def test_clock_skew_beyond_15_minutes_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.auth

    monkeypatch.setattr(
        botocore.auth,
        "get_current_datetime",
        lambda: datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=20),
    )
    with pytest.raises(AwsError) as err:
        _verify(_json_request(), body=b'{"TrainingJobName": "x"}')
    assert err.value.code == "SignatureDoesNotMatch" and "expired" in err.value.message


def test_header_that_is_not_sigv4_is_incomplete() -> None:
    with pytest.raises(AwsError) as err:
        _sigv4.parse_credential({"authorization": "AWS AKIA:abc"}, [])
    assert err.value.code == "IncompleteSignature"
    with pytest.raises(AwsError) as err:
        _sigv4.parse_credential(
            {"authorization": "AWS4-HMAC-SHA256 Credential=K/2024/us/s3/aws4_request"}, []
        )
    assert "SignedHeaders" in err.value.message
    assert _sigv4.parse_credential({}, []) is None
