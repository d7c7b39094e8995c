"""boto3 batch transform and processing jobs against a real server, as SageMaker's docs write them.

The transform follows SageMaker's "associate prediction results with input
records" example: an ID column is filtered out before the model
(`InputFilter`), the prediction joined to the input row (`JoinSource`), and
only the ID and the prediction kept (`OutputFilter`).
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError

from sageforge.compat._keys import default_credentials
from sageforge.core.config import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

REGION = "eu-west-1"
XGBOOST_IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.5-1"
SKLEARN_IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::111122223333:role/SageMakerRole"
FAST = {"Delay": 1, "MaxAttempts": 600}


@pytest.fixture(scope="module")
def aws(boto3_clients: Any) -> dict[str, Any]:
    client = functools.partial(boto3_clients, region=REGION)
    s3 = client("s3")
    s3.create_bucket(Bucket="jobs", CreateBucketConfiguration={"LocationConstraint": REGION})
    return {"sm": client("sagemaker"), "s3": s3}


@pytest.fixture(scope="module")
def model(aws: dict[str, Any]) -> dict[str, Any]:
    """A built-in XGBoost binary classifier trained through the API, and a Model of it."""
    sm, s3 = aws["sm"], aws["s3"]
    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    rows = "\n".join(",".join(f"{v:.5f}" for v in [t, *x]) for x, t in zip(X, y, strict=True))
    s3.put_object(Bucket="jobs", Key="train/train.csv", Body=rows.encode())
    sm.create_training_job(
        TrainingJobName="clf",
        AlgorithmSpecification={"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        RoleArn=ROLE,
        HyperParameters={"objective": "binary:logistic", "num_round": "20", "max_depth": "3"},
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://jobs/train"}
                },
                "ContentType": "text/csv",
            }
        ],
        OutputDataConfig={"S3OutputPath": "s3://jobs/models"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
    )
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="clf", WaiterConfig=FAST
    )
    artifact = sm.describe_training_job(TrainingJobName="clf")["ModelArtifacts"]["S3ModelArtifacts"]
    sm.create_model(
        ModelName="clf-model",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": artifact},
    )
    return {"name": "clf-model", "rng": rng}


def test_batch_transform_with_input_filter_join_and_output_filter(
    aws: dict[str, Any], model: dict[str, Any]
) -> None:
    sm, s3 = aws["sm"], aws["s3"]
    X = model["rng"].normal(size=(25, 3))
    lines = [f"id-{i}," + ",".join(f"{v:.5f}" for v in x) for i, x in enumerate(X)]
    s3.put_object(Bucket="jobs", Key="batch/input/records.csv", Body="\n".join(lines).encode())
    sm.create_transform_job(
        TransformJobName="clf-batch",
        ModelName=model["name"],
        MaxConcurrentTransforms=1,
        MaxPayloadInMB=6,
        BatchStrategy="MultiRecord",
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://jobs/batch/input"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={
            "S3OutputPath": "s3://jobs/batch/output",
            "Accept": "text/csv",
            "AssembleWith": "Line",
        },
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
        DataProcessing={"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"},
    )
    sm.get_waiter("transform_job_completed_or_stopped").wait(
        TransformJobName="clf-batch", WaiterConfig=FAST
    )
    d = sm.describe_transform_job(TransformJobName="clf-batch")
    assert d["TransformJobStatus"] == "Completed", d.get("FailureReason")
    assert d["DataProcessing"] == {
        "InputFilter": "$[1:]",
        "OutputFilter": "$[0,-1]",
        "JoinSource": "Input",
    }
    assert d["TransformOutput"]["S3OutputPath"] == "s3://jobs/batch/output"
    assert d["TransformInput"]["SplitType"] == "Line" and d["ModelName"] == "clf-model"

    out = s3.get_object(Bucket="jobs", Key="batch/output/records.csv.out")["Body"].read().decode()
    rows = [r.split(",") for r in out.strip().splitlines()]
    assert [r[0] for r in rows] == [f"id-{i}" for i in range(25)]
    assert all(len(r) == 2 and 0.0 <= float(r[1]) <= 1.0 for r in rows)

    summaries = sm.list_transform_jobs(StatusEquals="Completed")["TransformJobSummaries"]
    assert [s["TransformJobName"] for s in summaries] == ["clf-batch"]
    with pytest.raises(ClientError) as missing:
        sm.describe_transform_job(TransformJobName="nope")
    assert missing.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as no_model:
        sm.create_transform_job(
            TransformJobName="t2", ModelName="nope",
            TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://jobs/batch/input"}}},
            TransformOutput={"S3OutputPath": "s3://jobs/x"},
            TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
        )  # fmt: skip
    assert "Could not find model" in no_model.value.response["Error"]["Message"]


PREPROCESS = """
import argparse, glob, os
parser = argparse.ArgumentParser()
parser.add_argument("--input-dir")
parser.add_argument("--output-dir")
args = parser.parse_args()
rows = []
for path in glob.glob(os.path.join(args.input_dir, "*.csv")):
    rows += [line for line in open(path).read().splitlines() if line]
with open(os.path.join(args.output_dir, "clean.csv"), "w") as fh:
    fh.write("\\n".join(r.upper() for r in rows))
print("processed", len(rows))
"""


def test_processing_job_runs_the_script_and_uploads_outputs(aws: dict[str, Any]) -> None:
    sm, s3 = aws["sm"], aws["s3"]
    s3.put_object(Bucket="jobs", Key="proc/input/a.csv", Body=b"a,b\nc,d\n")
    s3.put_object(Bucket="jobs", Key="proc/code/preprocess.py", Body=PREPROCESS.encode())
    sm.create_processing_job(
        ProcessingJobName="prep",
        RoleArn=ROLE,
        AppSpecification={
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
            # Paths as arguments: sageforge maps /opt/ml/... arguments into the job's folder.
            "ContainerArguments": ["--input-dir", "/opt/ml/processing/input", "--output-dir", "/opt/ml/processing/output"],
        },
        ProcessingInputs=[
            {"InputName": "input-1", "S3Input": {"S3Uri": "s3://jobs/proc/input", "LocalPath": "/opt/ml/processing/input",
                                                 "S3DataType": "S3Prefix", "S3InputMode": "File"}},
            {"InputName": "code", "S3Input": {"S3Uri": "s3://jobs/proc/code/preprocess.py",
                                              "LocalPath": "/opt/ml/processing/input/code",
                                              "S3DataType": "S3Prefix", "S3InputMode": "File"}},
        ],
        ProcessingOutputConfig={
            "Outputs": [{"OutputName": "clean", "S3Output": {"S3Uri": "s3://jobs/proc/output",
                                                            "LocalPath": "/opt/ml/processing/output",
                                                            "S3UploadMode": "EndOfJob"}}]
        },
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.t3.medium", "VolumeSizeInGB": 5}},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
    )  # fmt: skip
    sm.get_waiter("processing_job_completed_or_stopped").wait(
        ProcessingJobName="prep", WaiterConfig=FAST
    )
    d = sm.describe_processing_job(ProcessingJobName="prep")
    assert d["ProcessingJobStatus"] == "Completed", d.get("FailureReason")
    assert d["AppSpecification"]["ImageUri"] == SKLEARN_IMAGE and d["RoleArn"] == ROLE
    assert d["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == "s3://jobs/proc/output"
    body = s3.get_object(Bucket="jobs", Key="proc/output/clean.csv")["Body"].read()
    assert body == b"A,B\nC,D"
    assert [
        j["ProcessingJobName"] for j in sm.list_processing_jobs()["ProcessingJobSummaries"]
    ] == ["prep"]
    with pytest.raises(ClientError) as missing:
        sm.describe_processing_job(ProcessingJobName="nope")
    assert missing.value.response["Error"]["Code"] == "ValidationException"


def test_update_endpoint_weights_and_capacities(aws: dict[str, Any], model: dict[str, Any]) -> None:
    sm = aws["sm"]
    variants = [
        {"VariantName": v, "ModelName": model["name"], "InitialInstanceCount": 1,
         "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}
        for v in ("A", "B")
    ]  # fmt: skip
    sm.create_endpoint_config(EndpointConfigName="ab-config", ProductionVariants=variants)
    sm.create_endpoint(EndpointName="ab", EndpointConfigName="ab-config")
    try:
        sm.get_waiter("endpoint_in_service").wait(EndpointName="ab", WaiterConfig=FAST)
        sm.update_endpoint_weights_and_capacities(
            EndpointName="ab",
            DesiredWeightsAndCapacities=[{"VariantName": "B", "DesiredWeight": 3.0}],
        )
        sm.get_waiter("endpoint_in_service").wait(EndpointName="ab", WaiterConfig=FAST)
        d = sm.describe_endpoint(EndpointName="ab")
        weights = {v["VariantName"]: v["CurrentWeight"] for v in d["ProductionVariants"]}
        assert weights == {"A": 1.0, "B": 3.0}
        config = sm.describe_endpoint_config(EndpointConfigName="ab-config")
        assert [v["VariantName"] for v in config["ProductionVariants"]] == ["A", "B"]
        assert config["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"
        with pytest.raises(ClientError) as dup:
            sm.create_endpoint(EndpointName="ab", EndpointConfigName="ab-config")
        assert "Cannot create already existing endpoint" in dup.value.response["Error"]["Message"]
        assert [
            e["EndpointName"] for e in sm.list_endpoints(StatusEquals="InService")["Endpoints"]
        ] == ["ab"]
    finally:
        sm.delete_endpoint(EndpointName="ab")
        for _ in range(120):
            if not sm.list_endpoints()["Endpoints"]:
                break
            time.sleep(0.5)


def test_invoke_endpoint_async_writes_the_answer_to_s3(
    aws: dict[str, Any], model: dict[str, Any], server: Any
) -> None:
    sm, s3 = aws["sm"], aws["s3"]
    info = json.loads((server.home / "server.json").read_text())
    key, secret = default_credentials(Settings.load({"SAGEFORGE_HOME": str(server.home)}))
    rt = boto3.client(
        "sagemaker-runtime", endpoint_url=info["aws_url"], region_name=REGION,
        aws_access_key_id=key, aws_secret_access_key=secret,
    )  # fmt: skip
    sm.create_endpoint_config(
        EndpointConfigName="async-config",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": model["name"],
                             "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        AsyncInferenceConfig={"OutputConfig": {"S3OutputPath": "s3://jobs/async/out",
                                               "S3FailurePath": "s3://jobs/async/failed"}},
    )  # fmt: skip
    sm.create_endpoint(EndpointName="async-ep", EndpointConfigName="async-config")
    try:
        sm.get_waiter("endpoint_in_service").wait(EndpointName="async-ep", WaiterConfig=FAST)
        s3.put_object(Bucket="jobs", Key="async/in/req.csv", Body=b"0.5,-0.5,0.1\n-1,1,0")
        resp = rt.invoke_endpoint_async(
            EndpointName="async-ep",
            ContentType="text/csv",
            InputLocation="s3://jobs/async/in/req.csv",
        )
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 202
        out = resp["OutputLocation"]
        assert out == f"s3://jobs/async/out/{resp['InferenceId']}.out"
        body = None
        for _ in range(120):
            try:
                body = s3.get_object(Bucket="jobs", Key=out.split("/", 3)[3])["Body"].read()
                break
            except ClientError:
                time.sleep(0.5)
        assert body is not None and len(body.decode().splitlines()) == 2
        with pytest.raises(ClientError) as missing:
            rt.invoke_endpoint_async(
                EndpointName="nope", InputLocation="s3://jobs/async/in/req.csv"
            )
        assert missing.value.response["Error"]["Code"] == "ValidationError"
    finally:
        sm.delete_endpoint(EndpointName="async-ep")
