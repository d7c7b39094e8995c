"""A batch transform that joins predictions to their input rows, with boto3 alone.

Follows SageMaker's "Associating prediction results with input data using Batch Transform"
notebook (sagemaker_batch_transform/batch_transform_associate_predictions_with_input): a
built-in XGBoost model on the breast-cancer data, then CreateTransformJob whose input rows
carry an ID column that `InputFilter` drops before inference, `JoinSource: Input` appends
each prediction to its row, and `OutputFilter` keeps the ID and the prediction. Endpoints
and keys come from the environment (`eval $(sageforge aws-env)`).
"""

import io
import json
import time

import boto3
import numpy as np
import pandas as pd
import sagemaker
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

region = boto3.Session().region_name
sess = sagemaker.Session()
bucket = sess.default_bucket()
prefix = "sagemaker/DEMO-breast-cancer-prediction"
role = "arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole-20240101T000000"
client = boto3.client("sagemaker")
s3 = boto3.client("s3")
container = sagemaker.image_uris.retrieve("xgboost", region, "1.7-1")

# -- data: ID, label, 30 features -----------------------------------------------------------
data = load_breast_cancer()
df = pd.DataFrame(data.data)
df.insert(0, "diagnosis", data.target)
df.insert(0, "id", np.arange(842302, 842302 + len(df)))
train, batch = train_test_split(df, test_size=0.25, random_state=42)
# Training data: label first, no ID, no header (the algorithm's CSV layout).
train.drop(columns=["id"]).to_csv("train.csv", header=False, index=False)
s3.upload_file("train.csv", bucket, f"{prefix}/train/train.csv")
# Batch input: the ID stays in the first column, and there is no label.
batch.drop(columns=["diagnosis"]).to_csv("batch_data.csv", header=False, index=False)
s3.upload_file("batch_data.csv", bucket, f"{prefix}/batch/batch_data.csv")

# -- train and create the model -------------------------------------------------------------
job_name = "xgb-breast-cancer-" + time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime())
client.create_training_job(
    TrainingJobName=job_name,
    AlgorithmSpecification={"TrainingImage": container, "TrainingInputMode": "File"},
    RoleArn=role,
    InputDataConfig=[
        {
            "ChannelName": "train",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"s3://{bucket}/{prefix}/train",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "ContentType": "text/csv",
        }
    ],
    OutputDataConfig={"S3OutputPath": f"s3://{bucket}/{prefix}/output"},
    ResourceConfig={"InstanceCount": 1, "InstanceType": "ml.m4.xlarge", "VolumeSizeInGB": 10},
    HyperParameters={"objective": "binary:logistic", "max_depth": "4", "num_round": "30"},
    StoppingCondition={"MaxRuntimeInSeconds": 3600},
)
client.get_waiter("training_job_completed_or_stopped").wait(
    TrainingJobName=job_name, WaiterConfig={"Delay": 2, "MaxAttempts": 300}
)
info = client.describe_training_job(TrainingJobName=job_name)
assert info["TrainingJobStatus"] == "Completed", info.get("FailureReason")

model_name = job_name + "-model"
client.create_model(
    ModelName=model_name,
    ExecutionRoleArn=role,
    PrimaryContainer={
        "Image": container,
        "ModelDataUrl": info["ModelArtifacts"]["S3ModelArtifacts"],
    },
)

# -- batch transform, joining predictions to the input ---------------------------------------
batch_job_name = "Batch-Transform-" + time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime())
input_location = f"s3://{bucket}/{prefix}/batch/batch_data.csv"
output_location = f"s3://{bucket}/{prefix}/output/{batch_job_name}"
request = {
    "TransformJobName": batch_job_name,
    "ModelName": model_name,
    "BatchStrategy": "MultiRecord",
    "TransformOutput": {
        "S3OutputPath": output_location,
        "Accept": "text/csv",
        "AssembleWith": "Line",
    },
    "TransformInput": {
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_location}},
        "ContentType": "text/csv",
        "SplitType": "Line",
        "CompressionType": "None",
    },
    "TransformResources": {"InstanceType": "ml.m4.xlarge", "InstanceCount": 1},
    "DataProcessing": {"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"},
}
client.create_transform_job(**request)
print("Created Transform job with name: ", batch_job_name)
client.get_waiter("transform_job_completed_or_stopped").wait(
    TransformJobName=batch_job_name, WaiterConfig={"Delay": 2, "MaxAttempts": 300}
)
response = client.describe_transform_job(TransformJobName=batch_job_name)
status = response["TransformJobStatus"]
print("Transform job ended with status: " + status)
if status == "Failed":
    message = response["FailureReason"]
    print(f"Transform failed with the following error: {message}")
    raise Exception("Transform job failed")

obj = s3.get_object(Bucket=bucket, Key=f"{prefix}/output/{batch_job_name}/batch_data.csv.out")
output = pd.read_csv(io.BytesIO(obj["Body"].read()), header=None)
print(output.head(8))
ids, scores = output.iloc[:, 0].astype(int), output.iloc[:, -1].to_numpy()
truth = df.set_index("id").loc[ids, "diagnosis"].to_numpy()
accuracy = float(((scores > 0.5) == truth).mean())
print("accuracy", accuracy)

print(
    "RESULT",
    json.dumps(
        {
            "training_job": job_name,
            "transform_job": batch_job_name,
            "status": status,
            "columns": int(output.shape[1]),
            "ids_in_order": ids.tolist() == batch["id"].tolist(),
            "rows": len(output),
            "input_rows": len(batch),
            "accuracy": accuracy,
            "data_processing": response.get("DataProcessing"),
        }
    ),
)
