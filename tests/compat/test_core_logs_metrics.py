"""CloudWatch Logs and metrics of a real training job, read with real boto3 clients."""

from __future__ import annotations

import json
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sageforge.compat import default_credentials
from sageforge.core.config import Settings

pytestmark = pytest.mark.e2e

GROUP = "/aws/sagemaker/TrainingJobs"
EPOCHS = 12

TRAIN = f"""
import time
for i in range({EPOCHS}):
    print(f"epoch={{i}} loss={{1 / (i + 1):.4f}}", flush=True)
    time.sleep(0.25)
print("no newline at the end", end="", flush=True)
"""


@pytest.fixture(scope="module")
def aws(server: Any) -> dict[str, str]:
    url = json.loads((server.home / "server.json").read_text())["aws_url"]
    key, secret = default_credentials(Settings.load({"SAGEFORGE_HOME": str(server.home)}))
    return {"url": url, "key": key, "secret": secret}


def client(aws: dict[str, str], service: str, botocore_session: Any = None) -> Any:
    session = boto3.Session(botocore_session=botocore_session) if botocore_session else boto3
    return session.client(
        service,
        endpoint_url=aws["url"],
        region_name="us-east-1",
        aws_access_key_id=aws["key"],
        aws_secret_access_key=aws["secret"],
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def tailed_job(
    server: Any, aws: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """A training job whose log is tailed over CloudWatch Logs while it runs, as the SDK does."""
    tmp = tmp_path_factory.mktemp("job")
    (tmp / "src").mkdir()
    (tmp / "src" / "train.py").write_text(textwrap.dedent(TRAIN))
    (tmp / "data").mkdir()
    (tmp / "data" / "part.csv").write_text("1,2\n")
    name = f"logs-{int(time.time())}"
    job = server.session().create_training_job(
        name,
        entry_point="train.py",
        source_dir=tmp / "src",
        inputs={"train": tmp / "data"},
        metric_definitions=[{"name": "train:loss", "regex": r"loss=([0-9.]+)"}],
    )
    logs = client(aws, "logs")
    seen: list[str] = []
    position = (0, 0)  # (timestamp, events at that timestamp already printed): the SDK's Position
    stream = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = job.describe()["training_job_status"] in ("Completed", "Failed", "Stopped")
        if stream is None:
            found = logs.describe_log_streams(
                logGroupName=GROUP,
                logStreamNamePrefix=name + "/",
                orderBy="LogStreamName",
                limit=50,
            )["logStreams"]
            stream = found[0]["logStreamName"] if found else None
        if stream is not None:
            position = _drain(logs, stream, position, seen)
        if done:
            position = _drain(logs, stream, position, seen)  # type: ignore[arg-type]
            break
        time.sleep(0.3)
    desc = job.describe()
    assert desc["training_job_status"] == "Completed", desc.get("failure_reason")
    return {"name": name, "stream": stream, "seen": seen, "job": job, "workdir": server.home}


def _drain(logs: Any, stream: str, position: tuple[int, int], seen: list[str]) -> tuple[int, int]:
    """One flush of the SageMaker SDK's `logs=True` wait (sagemaker.logs.log_stream + Position)."""
    start_time, to_skip = position  # the generator's skip, fixed for this flush
    ts, count = position  # the position the SDK carries to its next flush
    token: str | None = None
    while True:
        extra = {"nextToken": token} if token else {}
        resp = logs.get_log_events(
            logGroupName=GROUP,
            logStreamName=stream,
            startTime=start_time,
            startFromHead=True,
            **extra,
        )
        token = resp["nextForwardToken"]
        events = resp["events"]
        if not events:
            return ts, count
        if len(events) > to_skip:
            events, to_skip = events[to_skip:], 0
        else:
            events, to_skip = [], to_skip - len(events)
        for ev in events:
            seen.append(ev["message"])
            if ev["timestamp"] == ts:
                count += 1
            else:
                ts, count = ev["timestamp"], 1


def test_tailing_a_running_job_sees_every_line_once(
    tailed_job: dict[str, Any], aws: dict[str, str]
) -> None:
    name, stream, seen = tailed_job["name"], tailed_job["stream"], tailed_job["seen"]
    assert stream.startswith(f"{name}/algo-1-")
    epochs = [line for line in seen if line.startswith("epoch=")]
    assert epochs == [f"epoch={i} loss={1 / (i + 1):.4f}" for i in range(EPOCHS)]
    # a line still being written is held back until complete, then sent once
    assert len([line for line in seen if "no newline at the end" in line]) == 1
    assert any("[sageforge] Training job completed" in line for line in seen)
    full = client(aws, "logs").get_log_events(
        logGroupName=GROUP, logStreamName=stream, startFromHead=True
    )
    assert [e["message"] for e in full["events"]] == seen
    stamps = [e["timestamp"] for e in full["events"]]
    assert stamps == sorted(stamps)


def test_paging_tokens(tailed_job: dict[str, Any], aws: dict[str, str]) -> None:
    logs = client(aws, "logs")
    stream = tailed_job["stream"]
    everything = [
        e["message"]
        for e in logs.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True)[
            "events"
        ]
    ]
    first = logs.get_log_events(
        logGroupName=GROUP, logStreamName=stream, startFromHead=True, limit=3
    )
    assert [e["message"] for e in first["events"]] == everything[:3]
    second = logs.get_log_events(
        logGroupName=GROUP, logStreamName=stream, nextToken=first["nextForwardToken"], limit=3
    )
    assert [e["message"] for e in second["events"]] == everything[3:6]
    # without startFromHead CloudWatch answers the newest events; the backward token pages back
    last = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, limit=2)
    assert [e["message"] for e in last["events"]] == everything[-2:]
    before = logs.get_log_events(
        logGroupName=GROUP, logStreamName=stream, nextToken=last["nextBackwardToken"], limit=2
    )
    assert [e["message"] for e in before["events"]] == everything[-4:-2]
    # at the end the forward token stands still: that is how a tailing client knows
    end = logs.get_log_events(
        logGroupName=GROUP, logStreamName=stream, nextToken=last["nextForwardToken"]
    )
    assert end["events"] == [] and end["nextForwardToken"] == last["nextForwardToken"]
    with pytest.raises(ClientError) as err:
        logs.get_log_events(logGroupName=GROUP, logStreamName=stream, nextToken="garbage")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"


def test_missing_group_or_stream(tailed_job: dict[str, Any], aws: dict[str, str]) -> None:
    logs = client(aws, "logs")
    for call in (
        lambda: logs.describe_log_streams(logGroupName="/aws/lambda/nothing"),
        lambda: logs.get_log_events(
            logGroupName=GROUP, logStreamName=tailed_job["name"] + "/algo-1-1"
        ),
        lambda: logs.get_log_events(logGroupName=GROUP, logStreamName="no-such-job/algo-1-1"),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def _session_speaking(protocol: str, tmp: Path) -> Any:
    """A botocore session whose CloudWatch model speaks only `protocol` (the others' clients)."""
    loader_session = botocore.session.get_session()
    model = loader_session.get_component("data_loader").load_service_model(
        "cloudwatch", "service-2"
    )
    model = json.loads(json.dumps(model))
    model["metadata"]["protocol"] = protocol
    model["metadata"]["protocols"] = [protocol]
    folder = tmp / protocol / "cloudwatch" / model["metadata"]["apiVersion"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.set_config_variable("data_path", str(tmp / protocol))
    return session


@pytest.mark.parametrize("protocol", ["json", "query", "smithy-rpc-v2-cbor"])
def test_training_metrics_in_every_protocol(
    protocol: str, tailed_job: dict[str, Any], aws: dict[str, str], tmp_path: Path
) -> None:
    cw = client(aws, "cloudwatch", _session_speaking(protocol, tmp_path))
    assert cw.meta.service_model.protocol == protocol
    name = tailed_job["name"]
    listed = cw.list_metrics(
        Namespace=GROUP, Dimensions=[{"Name": "TrainingJobName", "Value": name}]
    )["Metrics"]
    assert listed == [
        {
            "Namespace": GROUP,
            "MetricName": "train:loss",
            "Dimensions": [{"Name": "TrainingJobName", "Value": name}],
        }
    ]
    now = datetime.now(UTC)
    stats = cw.get_metric_statistics(
        Namespace=GROUP,
        MetricName="train:loss",
        Dimensions=[{"Name": "TrainingJobName", "Value": name}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Average", "Minimum", "Maximum", "SampleCount", "Sum"],
        ExtendedStatistics=["p50"],
    )
    points = stats["Datapoints"]
    assert stats["Label"] == "train:loss" and points
    assert sum(p["SampleCount"] for p in points) == EPOCHS
    assert min(p["Minimum"] for p in points) == pytest.approx(1 / EPOCHS, abs=1e-4)
    assert max(p["Maximum"] for p in points) == pytest.approx(1.0)
    expected_sum = sum(round(1 / (i + 1), 4) for i in range(EPOCHS))
    assert sum(p["Sum"] for p in points) == pytest.approx(expected_sum)
    assert all(
        isinstance(p["Timestamp"], datetime) and "p50" in p["ExtendedStatistics"] for p in points
    )
    with pytest.raises(ClientError) as err:
        cw.get_metric_statistics(
            Namespace=GROUP,
            MetricName="train:loss",
            StartTime=now - timedelta(hours=1),
            EndTime=now,
            Period=7,
            Statistics=["Average"],
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "Period" in err.value.response["Error"]["Message"]


def test_cbor_requests_are_validated_against_the_model(aws: dict[str, str], tmp_path: Path) -> None:
    session = _session_speaking("smithy-rpc-v2-cbor", tmp_path)
    cw = boto3.Session(botocore_session=session).client(
        "cloudwatch",
        endpoint_url=aws["url"],
        region_name="us-east-1",
        aws_access_key_id=aws["key"],
        aws_secret_access_key=aws["secret"],
        config=Config(retries={"max_attempts": 1}, parameter_validation=False),
    )
    with pytest.raises(ClientError) as err:
        cw.get_metric_statistics(Namespace=GROUP, MetricName="m", Statistics=["Average"])
    error = err.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith("3 validation errors detected")
    for member in ("startTime", "endTime", "period"):
        assert f"Value null at '{member}'" in error["Message"]
