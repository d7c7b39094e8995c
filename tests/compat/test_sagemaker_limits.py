"""The endpoint worker quota: refused natively (429) and as AWS's ResourceLimitExceeded."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sageforge.core.errors import ResourceLimitExceeded

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

REGION = "us-east-1"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::111122223333:role/SageMakerRole"


@pytest.fixture(scope="module", autouse=True)
def _small_quota() -> Iterator[None]:
    """This module's server may run 3 endpoint workers in all."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SAGEFORGE_MAX_ENDPOINT_WORKERS", "3")
        yield


def test_workers_past_the_quota_are_refused_and_nothing_is_started(
    server: Any, boto3_clients: Any
) -> None:
    session = server.session()
    tiny = importlib.import_module("tests.conftest").TinyXGBoost(session)
    sm = boto3_clients("sagemaker", REGION)
    sm.create_model(
        ModelName="quota",
        PrimaryContainer={
            "Image": IMAGE,
            "ModelDataUrl": "s3://" + tiny.url.removeprefix("store://"),
        },
        ExecutionRoleArn=ROLE,
    )
    for name, count in (("two", 2), ("also-two", 2)):
        sm.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {"VariantName": "A", "ModelName": "quota", "InitialInstanceCount": count,
                 "InstanceType": "ml.m5.large"}
            ],
        )  # fmt: skip
    sm.create_endpoint(EndpointName="first", EndpointConfigName="two")

    with pytest.raises(ClientError) as refused:
        sm.create_endpoint(EndpointName="second", EndpointConfigName="also-two")
    err = refused.value.response["Error"]
    assert err["Code"] == "ResourceLimitExceeded"
    assert "limit of worker processes for endpoints is 3" in err["Message"]
    assert "2 in use and 2 asked for" in err["Message"]
    assert not [e for e in sm.list_endpoints()["Endpoints"] if e["EndpointName"] == "second"]

    # the native API says the same, with its own status and the field at fault
    with pytest.raises(ResourceLimitExceeded) as native:
        session.api.post(
            "/endpoints", {"endpoint_name": "second", "endpoint_config_name": "also-two"}
        )
    assert native.value.field == "endpoint_config_name"

    # scaling the first endpoint within the quota works; past it is refused
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName="first", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    with pytest.raises(ClientError) as scaled:
        sm.update_endpoint_weights_and_capacities(
            EndpointName="first",
            DesiredWeightsAndCapacities=[{"VariantName": "A", "DesiredInstanceCount": 4}],
        )
    assert scaled.value.response["Error"]["Code"] == "ResourceLimitExceeded"
    sm.delete_endpoint(EndpointName="first")
    sm.get_waiter("endpoint_deleted").wait(
        EndpointName="first", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    sm.create_endpoint(EndpointName="second", EndpointConfigName="also-two")  # room again
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName="second", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    sm.delete_endpoint(EndpointName="second")
