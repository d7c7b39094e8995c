"""Built-in XGBoost trained with boto3 alone, as SageMaker's abalone notebook does it.

"Regression with Amazon SageMaker XGBoost algorithm" (introduction_to_amazon_algorithms/
xgboost_abalone) builds the CreateTrainingJob request by hand, uploads the data with boto3
and waits with a waiter. Nothing here knows about sageforge: the endpoints and keys come
from the environment (`eval $(sageforge aws-env)`).

Usage: python boto3_xgboost_training.py csv|libsvm
"""

import json
import os
import sys
import time

import boto3
import numpy as np
import sagemaker
from sklearn.datasets import dump_svmlight_file, make_regression
from sklearn.model_selection import train_test_split

content = sys.argv[1] if len(sys.argv) > 1 else "csv"
region = boto3.Session().region_name
role = "arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole-20240101T000000"
bucket = sagemaker.Session().default_bucket()
prefix = f"sagemaker/DEMO-xgboost-abalone-{content}"
container = sagemaker.image_uris.retrieve("xgboost", region, "1.7-1")
print("training image", container)

s3 = boto3.client("s3")
sm = boto3.client("sagemaker")

# -- data: an abalone-sized regression problem, label in the first column ------------------
X, y = make_regression(n_samples=3000, n_features=8, n_informative=6, noise=5.0, random_state=7)
y = (y - y.min()) / (y.max() - y.min()) * 20 + 1  # "rings"
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=7)
os.makedirs("data", exist_ok=True)
for channel, features, label in (("train", X_train, y_train), ("validation", X_val, y_val)):
    if content == "csv":
        path = f"data/{channel}.csv"
        np.savetxt(path, np.column_stack([label, features]), delimiter=",", fmt="%.6f")
    else:
        path = f"data/{channel}.libsvm"
        dump_svmlight_file(features, label, path)
    s3.upload_file(path, bucket, f"{prefix}/{channel}/{os.path.basename(path)}")

# -- training ---------------------------------------------------------------------------------
job_name = f"DEMO-xgboost-{content}-" + time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime())
print("Training job", job_name)
content_type = "text/csv" if content == "csv" else "libsvm"
create_training_params = {
    "AlgorithmSpecification": {"TrainingImage": container, "TrainingInputMode": "File"},
    "RoleArn": role,
    "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/{prefix}/single-xgboost"},
    "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.2xlarge", "VolumeSizeInGB": 5},
    "TrainingJobName": job_name,
    "HyperParameters": {
        "max_depth": "5",
        "eta": "0.2",
        "gamma": "4",
        "min_child_weight": "6",
        "subsample": "0.7",
        "objective": "reg:squarederror",
        "num_round": "50",
        "verbosity": "1",
    },
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    "InputDataConfig": [
        {
            "ChannelName": channel,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"s3://{bucket}/{prefix}/{channel}",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "ContentType": content_type,
            "CompressionType": "None",
        }
        for channel in ("train", "validation")
    ],
}
sm.create_training_job(**create_training_params)

status = sm.describe_training_job(TrainingJobName=job_name)["TrainingJobStatus"]
print(status)
# The waiter's default delay (120 s) is sized for cloud instances; a short one suits jobs
# that take seconds.
sm.get_waiter("training_job_completed_or_stopped").wait(
    TrainingJobName=job_name, WaiterConfig={"Delay": 2, "MaxAttempts": 300}
)
desc = sm.describe_training_job(TrainingJobName=job_name)
status = desc["TrainingJobStatus"]
print("Training job ended with status:", status)
if status == "Failed":
    message = desc["FailureReason"]
    print(f"Training failed with the following error: {message}")
    raise Exception("Training job failed")

metrics = {m["MetricName"]: m["Value"] for m in desc.get("FinalMetricDataList", [])}
print("final metrics", metrics)
artifact = desc["ModelArtifacts"]["S3ModelArtifacts"]
key = artifact.split("/", 3)[3]
head = s3.head_object(Bucket=artifact.split("/")[2], Key=key)
print("model artifact", artifact, head["ContentLength"], "bytes")

listed = sm.list_training_jobs(NameContains=job_name, StatusEquals="Completed")
print(
    "RESULT",
    json.dumps(
        {
            "job_name": job_name,
            "status": status,
            "secondary": [t["Status"] for t in desc.get("SecondaryStatusTransitions", [])],
            "arn": desc["TrainingJobArn"],
            "metrics": metrics,
            "artifact": artifact,
            "artifact_bytes": head["ContentLength"],
            "listed": [j["TrainingJobName"] for j in listed["TrainingJobSummaries"]],
            "label_std": float(np.std(y_val)),
        }
    ),
)
