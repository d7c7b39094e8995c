"""boto3 tuning, hosting and runtime against a real server, as SageMaker's example notebooks do it.

A tuning job of the built-in XGBoost; its best training job hosted with
CreateModel → CreateEndpointConfig → CreateEndpoint (`endpoint_in_service`),
invoked through `sagemaker-runtime`, then deleted (`endpoint_deleted`). Errors
are the ones AWS sends: unknown image, duplicate names, missing endpoints.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError

from sageforge.compat._keys import default_credentials
from sageforge.core.config import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

REGION = "us-west-2"
XGBOOST_IMAGE = "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1"
LEGACY_IMAGE = "433757028032.dkr.ecr.us-west-2.amazonaws.com/xgboost:1"
ROLE = "arn:aws:iam::111122223333:role/SageMakerRole"
FAST = {"Delay": 1, "MaxAttempts": 600}


@pytest.fixture(scope="module")
def aws(boto3_clients: Any) -> dict[str, Any]:
    client = functools.partial(boto3_clients, region=REGION)
    s3 = client("s3")
    s3.create_bucket(Bucket="hosting", CreateBucketConfiguration={"LocationConstraint": REGION})
    return {"sm": client("sagemaker"), "rt": client("sagemaker-runtime"), "s3": s3}


def classification(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = ((X[:, 0] + 0.5 * X[:, 1] - X[:, 2] + rng.normal(scale=0.3, size=n)) > 0).astype(int)
    return X, y


def csv(X: np.ndarray, y: np.ndarray | None = None) -> bytes:
    rows = X if y is None else np.column_stack([y, X])
    return "\n".join(",".join(f"{v:.6g}" for v in row) for row in rows).encode()


@pytest.fixture(scope="module")
def tuned(aws: dict[str, Any]) -> dict[str, Any]:
    """A finished tuning job of four trials (module-scoped: hosting tests share its best job)."""
    sm, s3 = aws["sm"], aws["s3"]
    X, y = classification(800, seed=3)
    s3.put_object(Bucket="hosting", Key="data/train/train.csv", Body=csv(X[:600], y[:600]))
    s3.put_object(
        Bucket="hosting", Key="data/validation/validation.csv", Body=csv(X[600:], y[600:])
    )
    name = "xgb-tuning"
    channels = [
        {
            "ChannelName": c,
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://hosting/data/{c}/",
                                            "S3DataDistributionType": "FullyReplicated"}},
            "ContentType": "csv",
            "CompressionType": "None",
        }
        for c in ("train", "validation")
    ]  # fmt: skip
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig={
            "Strategy": "Random",
            "HyperParameterTuningJobObjective": {
                "MetricName": "validation:auc",
                "Type": "Maximize",
            },
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {
                "ContinuousParameterRanges": [
                    {"Name": "eta", "MinValue": "0.1", "MaxValue": "0.5", "ScalingType": "Auto"}
                ],
                "IntegerParameterRanges": [
                    {"Name": "max_depth", "MinValue": "2", "MaxValue": "6", "ScalingType": "Auto"}
                ],
            },
            "TrainingJobEarlyStoppingType": "Off",
        },
        TrainingJobDefinition={
            "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "StaticHyperParameters": {
                "objective": "binary:logistic",
                "eval_metric": "auc",
                "num_round": "30",
                "_tuning_objective_metric": "validation:auc",
            },
            "InputDataConfig": channels,
            "OutputDataConfig": {"S3OutputPath": "s3://hosting/tuning-output"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 5,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    )
    for _ in range(600):
        d = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        if d["HyperParameterTuningJobStatus"] not in ("InProgress", "Stopping"):
            break
        import time

        time.sleep(1)
    return {"name": name, "describe": d, "X": X, "y": y}


def test_tuning_job_describes_counters_and_the_best_job(
    aws: dict[str, Any], tuned: dict[str, Any]
) -> None:
    sm, d = aws["sm"], tuned["describe"]
    assert d["HyperParameterTuningJobStatus"] == "Completed", d.get("FailureReason")
    assert d["TrainingJobStatusCounters"]["Completed"] == 4
    assert d["ObjectiveStatusCounters"]["Succeeded"] == 4
    assert d["HyperParameterTuningJobArn"].endswith(":hyper-parameter-tuning-job/xgb-tuning")
    assert d["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"] == XGBOOST_IMAGE
    best = d["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"] == "validation:auc"
    assert set(best["TunedHyperParameters"]) == {"eta", "max_depth"}

    trials = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuned["name"],
        SortBy="FinalObjectiveMetricValue",
        SortOrder="Descending",
    )["TrainingJobSummaries"]
    values = [t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in trials]
    assert len(trials) == 4 and values == sorted(values, reverse=True)
    assert trials[0]["TrainingJobName"] == best["TrainingJobName"]

    # A trial is described with the tuning job's definition, as SageMaker does.
    trial = sm.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert trial["TuningJobArn"] == d["HyperParameterTuningJobArn"]
    assert trial["AlgorithmSpecification"]["TrainingImage"] == XGBOOST_IMAGE
    assert trial["RoleArn"] == ROLE
    assert trial["HyperParameters"]["_tuning_objective_metric"] == "validation:auc"
    assert trial["HyperParameters"]["max_depth"] == best["TunedHyperParameters"]["max_depth"]

    listed = sm.list_hyper_parameter_tuning_jobs(StatusEquals="Completed")[
        "HyperParameterTuningJobSummaries"
    ]
    assert [j["HyperParameterTuningJobName"] for j in listed] == ["xgb-tuning"]
    with pytest.raises(ClientError) as missing:
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="nope")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"


def test_host_the_best_training_job_and_invoke_it(
    aws: dict[str, Any], tuned: dict[str, Any]
) -> None:
    sm, rt = aws["sm"], aws["rt"]
    best = tuned["describe"]["BestTrainingJob"]["TrainingJobName"]
    info = sm.describe_training_job(TrainingJobName=best)
    model_data = info["ModelArtifacts"]["S3ModelArtifacts"]
    image = info["AlgorithmSpecification"]["TrainingImage"]

    sm.create_model(
        ModelName="best-xgb",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": image, "ModelDataUrl": model_data},
    )
    sm.create_endpoint_config(
        EndpointConfigName="best-xgb-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "best-xgb",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    arn = sm.create_endpoint(
        EndpointName="best-xgb-endpoint", EndpointConfigName="best-xgb-config"
    )["EndpointArn"]
    assert arn.endswith(":endpoint/best-xgb-endpoint")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="best-xgb-endpoint", WaiterConfig=FAST)
    d = sm.describe_endpoint(EndpointName="best-xgb-endpoint")
    assert d["EndpointStatus"] == "InService"
    (variant,) = d["ProductionVariants"]
    assert variant["VariantName"] == "AllTraffic"
    assert variant["CurrentWeight"] == 1.0 and variant["CurrentInstanceCount"] == 1

    X, y = tuned["X"][600:], tuned["y"][600:]
    resp = rt.invoke_endpoint(
        EndpointName="best-xgb-endpoint",
        ContentType="text/csv",
        Accept="text/csv",
        Body=csv(X),
        CustomAttributes="trace=1",
        InferenceId="req-1",
    )
    assert resp["InvokedProductionVariant"] == "AllTraffic"
    lines = resp["Body"].read().decode().splitlines()
    assert len(lines) == len(X)  # one prediction per line, as SageMaker's XGBoost answers
    accuracy = float(np.mean((np.array([float(v) for v in lines]) > 0.5) == y))
    assert accuracy > 0.75

    libsvm = "\n".join(" ".join(f"{i}:{v:.6g}" for i, v in enumerate(row)) for row in X[:3])
    resp = rt.invoke_endpoint(
        EndpointName="best-xgb-endpoint", ContentType="text/x-libsvm", Body=libsvm.encode()
    )
    assert len(resp["Body"].read().decode().splitlines()) == 3

    # The container's own rejection of a payload is a ModelError carrying its status.
    with pytest.raises(ClientError) as bad:
        rt.invoke_endpoint(EndpointName="best-xgb-endpoint", ContentType="text/csv", Body=b"1,2\n")
    err = bad.value.response
    assert err["Error"]["Code"] == "ModelError" and err["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert err["OriginalStatusCode"] == 400 and "features" in err["OriginalMessage"]
    assert err["LogStreamArn"].endswith("/aws/sagemaker/Endpoints/best-xgb-endpoint")

    with pytest.raises(ClientError) as variant_err:
        rt.invoke_endpoint(EndpointName="best-xgb-endpoint", Body=csv(X[:1]), TargetVariant="nope")
    assert variant_err.value.response["Error"]["Code"] == "ValidationError"

    # Deleting a model and a configuration in use succeeds, as in SageMaker; the endpoint
    # keeps serving what it loaded (the SDK's delete_endpoint deletes the config first).
    sm.delete_endpoint_config(EndpointConfigName="best-xgb-config")
    sm.delete_model(ModelName="best-xgb")
    again = rt.invoke_endpoint(
        EndpointName="best-xgb-endpoint", ContentType="text/csv", Body=csv(X[:2])
    )
    assert len(again["Body"].read().decode().splitlines()) == 2
    assert sm.describe_endpoint(EndpointName="best-xgb-endpoint")["EndpointStatus"] == "InService"

    sm.delete_endpoint(EndpointName="best-xgb-endpoint")
    sm.get_waiter("endpoint_deleted").wait(EndpointName="best-xgb-endpoint", WaiterConfig=FAST)
    with pytest.raises(ClientError) as gone:
        sm.describe_endpoint(EndpointName="best-xgb-endpoint")
    assert gone.value.response["Error"]["Code"] == "ValidationException"
    assert "Could not find endpoint" in gone.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as not_found:
        rt.invoke_endpoint(EndpointName="best-xgb-endpoint", Body=b"1")
    assert not_found.value.response["Error"]["Code"] == "ValidationError"
    assert not_found.value.response["Error"]["Message"] == (
        "Endpoint best-xgb-endpoint of account 000000000000 not found."
    )


def test_hosting_errors_are_aws_errors(aws: dict[str, Any], tuned: dict[str, Any]) -> None:
    sm = aws["sm"]
    best = tuned["describe"]["BestTrainingJob"]["TrainingJobName"]
    model_data = sm.describe_training_job(TrainingJobName=best)["ModelArtifacts"][
        "S3ModelArtifacts"
    ]

    with pytest.raises(ClientError) as unknown:
        sm.create_model(
            ModelName="custom", ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": "111122223333.dkr.ecr.us-west-2.amazonaws.com/mine:1", "ModelDataUrl": model_data},
        )  # fmt: skip
    assert unknown.value.response["Error"]["Code"] == "ValidationException"
    assert "sagemaker-scikit-learn" in unknown.value.response["Error"]["Message"]

    # The legacy `xgboost:1` image serves the same model file.
    sm.create_model(ModelName="legacy", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": LEGACY_IMAGE, "ModelDataUrl": model_data})  # fmt: skip
    with pytest.raises(ClientError) as dup:
        sm.create_model(ModelName="legacy", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": LEGACY_IMAGE, "ModelDataUrl": model_data})  # fmt: skip
    assert dup.value.response["Error"]["Code"] == "ValidationException"
    assert "Cannot create already existing model" in dup.value.response["Error"]["Message"]
    d = sm.describe_model(ModelName="legacy")
    assert d["PrimaryContainer"]["Image"] == LEGACY_IMAGE and d["ExecutionRoleArn"] == ROLE
    assert [m["ModelName"] for m in sm.list_models(NameContains="legacy")["Models"]] == ["legacy"]

    with pytest.raises(ClientError) as no_model:
        sm.describe_model(ModelName="nope")
    assert no_model.value.response["Error"]["Message"].startswith(
        'Could not find model "arn:aws:sagemaker:'
    )
    with pytest.raises(ClientError) as no_config:
        sm.describe_endpoint_config(EndpointConfigName="nope")
    assert "Could not find endpoint configuration" in no_config.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as no_endpoint_config:
        sm.create_endpoint(EndpointName="e1", EndpointConfigName="nope")
    assert (
        "Could not find endpoint configuration"
        in no_endpoint_config.value.response["Error"]["Message"]
    )
    with pytest.raises(ClientError) as no_endpoint:
        sm.delete_endpoint(EndpointName="nope")
    assert no_endpoint.value.response["Error"]["Code"] == "ValidationException"
    assert "Could not find endpoint" in no_endpoint.value.response["Error"]["Message"]

    # endpoint_in_service stops at once on a missing endpoint (its ValidationException acceptor).
    from botocore.exceptions import WaiterError

    with pytest.raises(WaiterError, match=r"ValidationException|Could not find"):
        sm.get_waiter("endpoint_in_service").wait(
            EndpointName="nope", WaiterConfig={"Delay": 1, "MaxAttempts": 3}
        )

    # Tags by ARN on a hosting resource.
    arn = d["ModelArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "dev"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "dev"}]
    sm.delete_tags(ResourceArn=arn, TagKeys=["stage"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []


def test_featurestore_runtime_answers_resource_not_found(aws: dict[str, Any], server: Any) -> None:
    info = json.loads((server.home / "server.json").read_text())
    key, secret = default_credentials(Settings.load({"SAGEFORGE_HOME": str(server.home)}))
    fs = boto3.client(
        "sagemaker-featurestore-runtime", endpoint_url=info["aws_url"], region_name=REGION,
        aws_access_key_id=key, aws_secret_access_key=secret,
    )  # fmt: skip
    with pytest.raises(ClientError) as err:
        fs.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="1")
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "customers" in err.value.response["Error"]["Message"]
