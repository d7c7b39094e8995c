"""Validation against botocore's models, and a handler's crash, on the compat app in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from sageforge.compat import AwsError, _json_protocol
from sageforge.compat._app import CompatApp
from sageforge.compat._botocore import operation_model, parse_json_input, to_wire
from sageforge.compat._keys import ensure_default_key


def test_valid_input_is_converted() -> None:
    op = operation_model("sagemaker", "ListTrainingJobs")
    params = parse_json_input(
        op, b'{"CreationTimeAfter": 1700000000.5, "MaxResults": 10, "Unknown": 1}'
    )
    assert params == {
        "CreationTimeAfter": datetime.fromtimestamp(1700000000.5, tz=UTC),
        "MaxResults": 10,
    }


def test_every_fault_is_listed_with_its_path() -> None:
    op = operation_model("sagemaker", "CreateTrainingJob")
    body = (
        b'{"TrainingJobName": "j", "RoleArn": "arn:aws:iam::000000000000:role/r",'
        b' "OutputDataConfig": {"S3OutputPath": "s3://b/o"},'
        b' "ResourceConfig": {"VolumeSizeInGB": true},'
        b' "StoppingCondition": {"MaxRuntimeInSeconds": 0},'
        b' "Tags": [{"Key": "k"}, {"Value": "v"}]}'
    )
    with pytest.raises(AwsError) as err:
        parse_json_input(op, body)
    message = err.value.message
    assert err.value.code == "ValidationException"
    assert (
        "Value 0 at 'stoppingCondition.maxRuntimeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 1"
        in message
    )
    assert "Value true at 'resourceConfig.volumeSizeInGB'" in message
    assert "Value null at 'tags.2.member.key'" in message
    assert message.startswith(f"{message.count('Value ')} validation errors detected")


def test_unknown_operation_and_non_object_body() -> None:
    with pytest.raises(AwsError) as err:
        operation_model("sagemaker", "CreateRocket")
    assert err.value.code == "UnknownOperationException"
    with pytest.raises(AwsError) as err:
        parse_json_input(operation_model("sagemaker", "ListModels"), b"[1]")
    assert err.value.code == "SerializationException"


def test_output_is_wire_json() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)
    assert to_wire({"A": when, "B": None, "C": [b"\x00"]}) == {"A": when.timestamp(), "C": ["AA=="]}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[CompatApp, tuple[str, str]]]:
    from sageforge.api._state import Platform
    from sageforge.core.config import Settings

    platform = Platform.build(Settings.load({"SAGEFORGE_HOME": str(tmp_path / "home")}))
    key = ensure_default_key(platform.db)
    try:
        yield CompatApp(lambda: platform), (key.access_key_id, key.secret_access_key)
    finally:
        platform.db.dispose()


def _post(app: CompatApp, creds: tuple[str, str], target: str, body: bytes) -> httpx.Response:
    req = AWSRequest(
        method="POST",
        url="http://testserver/",
        data=body,
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(Credentials(*creds), "logs", "us-east-1").add_auth(req)

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.post("/", content=body, headers=dict(req.headers.items()))

    return asyncio.run(send())


def test_a_crashing_handler_is_an_internal_failure_and_the_app_goes_on(
    app: tuple[CompatApp, tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    client, creds = app

    def crash(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("boom")

    _json_protocol.operation("Logs_20140328", "DescribeLogGroups")(crash)
    try:
        resp = _post(client, creds, "Logs_20140328.DescribeLogGroups", b"{}")
    finally:
        del _json_protocol._REGISTRY[("Logs_20140328", "DescribeLogGroups")]
    assert resp.status_code == 500
    assert resp.json()["__type"] == "InternalFailure"
    assert resp.headers["x-amzn-RequestId"] in resp.json()["message"]
    assert "boom" in caplog.text
    ok = _post(
        client,
        creds,
        "Logs_20140328.DescribeLogStreams",
        b'{"logGroupName": "/aws/sagemaker/TrainingJobs"}',
    )
    assert ok.status_code == 200 and ok.json() == {"logStreams": []}
