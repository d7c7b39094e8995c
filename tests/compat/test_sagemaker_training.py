"""boto3's `sagemaker` client against a real server: training jobs the way SageMaker's docs write them.

Data goes into the store through the compat S3 API, the job names the SDK's
XGBoost image, and `training_job_completed_or_stopped` waits for it, as in
SageMaker's "XGBoost built-in algorithm" example notebooks.
"""

from __future__ import annotations

import functools
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

REGION = "us-east-1"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole"
FAST_WAIT = {"Delay": 1, "MaxAttempts": 300}


@pytest.fixture(scope="module")
def aws(boto3_clients: Any) -> dict[str, Any]:
    client = functools.partial(boto3_clients, region=REGION)
    s3 = client("s3")
    s3.create_bucket(Bucket="demo")
    return {"sm": client("sagemaker"), "s3": s3, "url": boto3_clients.url}


def regression(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = 3 * X[:, 0] - 2 * X[:, 1] + X[:, 2] * X[:, 3] + 10 + rng.normal(scale=0.1, size=n)
    return X, y


def csv_rows(X: np.ndarray, y: np.ndarray) -> bytes:
    return "\n".join(
        ",".join(f"{v:.6f}" for v in [t, *x]) for x, t in zip(X, y, strict=True)
    ).encode()


def libsvm_rows(X: np.ndarray, y: np.ndarray) -> bytes:
    return "\n".join(
        f"{t:.6f} " + " ".join(f"{i + 1}:{v:.6f}" for i, v in enumerate(x))
        for x, t in zip(X, y, strict=True)
    ).encode()


def xgboost_job(name: str, content_type: str, prefix: str, **extra: Any) -> dict[str, Any]:
    """CreateTrainingJob as the SageMaker XGBoost example notebook writes it."""
    channels = [
        {
            "ChannelName": channel,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"s3://demo/{prefix}/{channel}/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "ContentType": content_type,
            "CompressionType": "None",
        }
        for channel in ("train", "validation")
    ]
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": {
            "max_depth": "5",
            "eta": "0.3",
            "objective": "reg:squarederror",
            "num_round": "40",
        },
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": f"s3://demo/{prefix}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        "Tags": [{"Key": "team", "Value": "forecasting"}],
        **extra,
    }


@pytest.mark.parametrize(
    ("content_type", "encode"), [("text/csv", csv_rows), ("text/libsvm", libsvm_rows)]
)
def test_builtin_xgboost_trains_and_describes_like_sagemaker(
    aws: dict[str, Any], content_type: str, encode: Any
) -> None:
    sm, s3 = aws["sm"], aws["s3"]
    prefix = content_type.split("/")[1]
    X, y = regression(600)
    s3.put_object(Bucket="demo", Key=f"{prefix}/train/data", Body=encode(X[:500], y[:500]))
    s3.put_object(Bucket="demo", Key=f"{prefix}/validation/data", Body=encode(X[500:], y[500:]))
    name = f"xgb-{prefix}-job"

    arn = sm.create_training_job(**xgboost_job(name, content_type, prefix))["TrainingJobArn"]
    assert arn == f"arn:aws:sagemaker:{REGION}:000000000000:training-job/{name}"
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName=name, WaiterConfig=FAST_WAIT
    )
    d = sm.describe_training_job(TrainingJobName=name)

    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    assert d["SecondaryStatus"] == "Completed"
    statuses = [t["Status"] for t in d["SecondaryStatusTransitions"]]
    assert "Training" in statuses and statuses[-1] == "Completed"
    assert d["AlgorithmSpecification"]["TrainingImage"] == XGBOOST_IMAGE
    assert d["RoleArn"] == ROLE
    assert d["HyperParameters"]["num_round"] == "40"
    assert d["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"].startswith("s3://demo/")
    artifact = d["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact == f"s3://demo/{prefix}/output/{name}/output/model.tar.gz"
    metrics = {m["MetricName"]: m["Value"] for m in d["FinalMetricDataList"]}
    assert 0 < metrics["validation:rmse"] < 0.3 * float(np.std(y))
    assert d["TrainingStartTime"] <= d["TrainingEndTime"]
    assert d["BillableTimeInSeconds"] >= 0 and d["EnableManagedSpotTraining"] is False

    # The artifact is a real model.tar.gz with the XGBoost model SageMaker's jobs write.
    body = s3.get_object(Bucket="demo", Key=artifact.split("/", 3)[3])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert "xgboost-model" in tar.getnames()

    listed = sm.list_training_jobs(NameContains=f"xgb-{prefix}", StatusEquals="Completed")
    assert [s["TrainingJobName"] for s in listed["TrainingJobSummaries"]] == [name]
    tags = sm.list_tags(ResourceArn=arn)["Tags"]
    assert {"Key": "team", "Value": "forecasting"} in tags


def test_training_errors_are_aws_errors(aws: dict[str, Any]) -> None:
    sm = aws["sm"]
    with pytest.raises(ClientError) as missing:
        sm.describe_training_job(TrainingJobName="no-such-job")
    assert missing.value.response["Error"]["Code"] == "ValidationException"
    assert missing.value.response["Error"]["Message"] == "Requested resource not found."

    req = xgboost_job("bad-image-job", "text/csv", "csv")
    req["AlgorithmSpecification"]["TrainingImage"] = (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own-container:latest"
    )
    with pytest.raises(ClientError) as unknown:
        sm.create_training_job(**req)
    err = unknown.value.response["Error"]
    assert err["Code"] == "ValidationException"
    assert "my-own-container" in err["Message"] and "sagemaker-xgboost" in err["Message"]
    assert "AlgorithmSpecification.TrainingImage" in err["Message"]

    req = xgboost_job("bad-hp-job", "text/csv", "csv")
    req["HyperParameters"]["max_depth"] = "deep"
    with pytest.raises(ClientError) as bad_hp:
        sm.create_training_job(**req)
    assert bad_hp.value.response["Error"]["Code"] == "ValidationException"
    assert "max_depth" in bad_hp.value.response["Error"]["Message"]

    # The waiter's failure acceptor: a missing job is ValidationException, as in AWS.
    from botocore.exceptions import WaiterError

    with pytest.raises(WaiterError):
        sm.get_waiter("training_job_completed_or_stopped").wait(
            TrainingJobName="no-such-job", WaiterConfig={"Delay": 1, "MaxAttempts": 2}
        )


def test_duplicate_training_job_name_is_resource_in_use(aws: dict[str, Any]) -> None:
    sm, s3 = aws["sm"], aws["s3"]
    X, y = regression(200, seed=1)
    for channel in ("train", "validation"):
        s3.put_object(Bucket="demo", Key=f"dup/{channel}/data", Body=csv_rows(X, y))
    req = xgboost_job("dup-job", "text/csv", "dup")
    req["StoppingCondition"] = {"MaxRuntimeInSeconds": 600}
    sm.create_training_job(**req)
    with pytest.raises(ClientError) as dup:
        sm.create_training_job(**req)
    assert dup.value.response["Error"]["Code"] == "ResourceInUse"
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="dup-job", WaiterConfig=FAST_WAIT
    )
    with pytest.raises(ClientError) as stop_done:
        sm.stop_training_job(TrainingJobName="dup-job")
    assert stop_done.value.response["Error"]["Code"] == "ValidationException"


SCRIPT = """
import argparse, json, os, pickle
import numpy as np
import sklearn
from sagemaker_training import environment

parser = argparse.ArgumentParser()
parser.add_argument("--n_estimators", type=int)
parser.add_argument("--criterion", type=str)
parser.add_argument("--model-dir", type=str, default=os.environ["SM_MODEL_DIR"])
args, _ = parser.parse_known_args()

env = environment.Environment()
train_dir = env.channel_input_dirs["train"]
data = np.loadtxt(os.path.join(train_dir, "data.csv"), delimiter=",")
from sklearn.ensemble import RandomForestRegressor
model = RandomForestRegressor(n_estimators=args.n_estimators, criterion=args.criterion)
model.fit(data[:, 1:], data[:, 0])
with open(os.path.join(env.model_dir, "model.pkl"), "wb") as fh:
    pickle.dump(model, fh)
print("criterion=" + args.criterion)
print("SM_HP_CRITERION=" + os.environ["SM_HP_CRITERION"])
print("hyperparameters=" + json.dumps(env.hyperparameters, sort_keys=True))
print("train_r2=%.4f" % model.score(data[:, 1:], data[:, 0]))
"""


def test_sklearn_script_mode_follows_the_sdk_contract(aws: dict[str, Any], server: Any) -> None:
    sm, s3 = aws["sm"], aws["s3"]
    X, y = regression(300, seed=2)
    s3.put_object(Bucket="demo", Key="sk/train/data.csv", Body=csv_rows(X, y))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for fname, text in (("train.py", SCRIPT), ("requirements.txt", "numpy\n")):
            data = text.encode()
            info = tarfile.TarInfo(fname)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    s3.put_object(Bucket="demo", Key="sk/code/sourcedir.tar.gz", Body=buf.getvalue())
    name = "sklearn-script-job"
    # Hyperparameters exactly as the SageMaker SDK's SKLearn estimator sends them: JSON-encoded.
    sm.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "train:r2", "Regex": "train_r2=([0-9.]+)"}],
        },
        RoleArn=ROLE,
        HyperParameters={
            "n_estimators": "20",
            "criterion": json.dumps("squared_error"),
            "sagemaker_program": json.dumps("train.py"),
            "sagemaker_submit_directory": json.dumps("s3://demo/sk/code/sourcedir.tar.gz"),
            "sagemaker_container_log_level": "20",
            "sagemaker_region": json.dumps(REGION),
        },
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://demo/sk/train"}
                },
            }
        ],
        OutputDataConfig={"S3OutputPath": "s3://demo/sk/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName=name, WaiterConfig=FAST_WAIT
    )
    d = sm.describe_training_job(TrainingJobName=name)
    log = Path(server.home) / "jobs" / "training" / name / "logs" / "output.log"
    text = log.read_text() if log.exists() else ""
    assert d["TrainingJobStatus"] == "Completed", (d.get("FailureReason"), text[-3000:])
    assert d["HyperParameters"]["sagemaker_program"] == '"train.py"'
    assert d["AlgorithmSpecification"]["TrainingImage"] == SKLEARN_IMAGE
    metrics = {m["MetricName"]: m["Value"] for m in d["FinalMetricDataList"]}
    assert metrics["train:r2"] > 0.8
    assert "criterion=squared_error" in text  # the script got the decoded value, no quotes
    assert "SM_HP_CRITERION=squared_error" in text
    assert (
        '"n_estimators": 20' in text
        and "sagemaker_program" not in text.split("hyperparameters=")[1].split("\n")[0]
    )
    assert "requirements.txt" in text


def test_list_training_jobs_pages_filters_and_sorts(aws: dict[str, Any]) -> None:
    sm, s3 = aws["sm"], aws["s3"]
    X, y = regression(50, seed=5)
    for channel in ("train", "validation"):
        s3.put_object(Bucket="demo", Key=f"list/{channel}/data", Body=csv_rows(X, y))
    for i in range(3):
        req = xgboost_job(f"list-job-{i}", "text/csv", "list")
        req["HyperParameters"]["num_round"] = "1"
        sm.create_training_job(**req)
    everything = sm.list_training_jobs(MaxResults=100, SortBy="Name", SortOrder="Ascending")
    names = [s["TrainingJobName"] for s in everything["TrainingJobSummaries"]]
    assert len(names) >= 3 and names == sorted(names) and "NextToken" not in everything
    paged: list[str] = []
    kwargs: dict[str, Any] = {"MaxResults": 2, "SortBy": "Name", "SortOrder": "Ascending"}
    while True:
        page = sm.list_training_jobs(**kwargs)
        assert len(page["TrainingJobSummaries"]) <= 2
        paged += [s["TrainingJobName"] for s in page["TrainingJobSummaries"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert paged == names
    assert [n for n in names if n.startswith("list-job-")] == [
        "list-job-0",
        "list-job-1",
        "list-job-2",
    ]
    for i in range(3):
        sm.get_waiter("training_job_completed_or_stopped").wait(
            TrainingJobName=f"list-job-{i}", WaiterConfig=FAST_WAIT
        )
    newest = everything["TrainingJobSummaries"][0]["CreationTime"]
    later = sm.list_training_jobs(CreationTimeAfter=newest, MaxResults=100)["TrainingJobSummaries"]
    assert all(s["CreationTime"] > newest for s in later)
    with pytest.raises(ClientError) as bad_token:
        sm.list_training_jobs(NextToken="not-a-token")
    assert bad_token.value.response["Error"]["Code"] == "ValidationException"
