"""A tuning job and hosting of its best model with boto3 alone.

Follows SageMaker's "Direct marketing with Amazon SageMaker XGBoost and hyperparameter
tuning, using the low-level APIs" notebook (hyperparameter_tuning/xgboost_direct_marketing):
CreateHyperParameterTuningJob with a hand-written config, polling its status, then
CreateModel / CreateEndpointConfig / CreateEndpoint from the best training job, an
InvokeEndpoint with CSV rows, and the clean-up. Endpoints and keys come from the
environment (`eval $(sageforge aws-env)`).
"""

import io
import json
import time

import boto3
import numpy as np
import sagemaker
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

region = boto3.Session().region_name
smclient = boto3.Session().client("sagemaker")
runtime = boto3.client("runtime.sagemaker")
role = "arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole-20240101T000000"
bucket = sagemaker.Session().default_bucket()
prefix = "sagemaker/DEMO-hpo-xgboost-dm"
training_image = sagemaker.image_uris.retrieve("xgboost", region, "1.7-1")

# -- data ------------------------------------------------------------------------------------
X, y = make_classification(
    n_samples=3000, n_features=10, n_informative=5, class_sep=0.8, random_state=3
)
X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.3, random_state=3)
X_val, X_test, y_val, y_test = train_test_split(X_rest, y_rest, test_size=0.5, random_state=3)
s3 = boto3.Session().resource("s3")
for channel, features, label in (("train", X_train, y_train), ("validation", X_val, y_val)):
    buf = io.BytesIO()
    np.savetxt(buf, np.column_stack([label, features]), delimiter=",", fmt="%g")
    buf.seek(0)
    s3.Bucket(bucket).Object(f"{prefix}/{channel}/{channel}.csv").upload_fileobj(buf)

# -- tuning ----------------------------------------------------------------------------------
tuning_job_name = "xgboost-tuningjob-" + time.strftime("%d-%H-%M-%S", time.gmtime())
print(tuning_job_name)

tuning_job_config = {
    "ParameterRanges": {
        "CategoricalParameterRanges": [],
        "ContinuousParameterRanges": [
            {"MaxValue": "1", "MinValue": "0", "Name": "eta"},
            {"MaxValue": "2", "MinValue": "0", "Name": "alpha"},
            {"MaxValue": "10", "MinValue": "1", "Name": "min_child_weight"},
        ],
        "IntegerParameterRanges": [{"MaxValue": "6", "MinValue": "1", "Name": "max_depth"}],
    },
    "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
    "Strategy": "Bayesian",
    "HyperParameterTuningJobObjective": {"MetricName": "validation:auc", "Type": "Maximize"},
}

s3_input_train = f"s3://{bucket}/{prefix}/train"
s3_input_validation = f"s3://{bucket}/{prefix}/validation/"
training_job_definition = {
    "AlgorithmSpecification": {"TrainingImage": training_image, "TrainingInputMode": "File"},
    "InputDataConfig": [
        {
            "ChannelName": "train",
            "CompressionType": "None",
            "ContentType": "csv",
            "DataSource": {
                "S3DataSource": {
                    "S3DataDistributionType": "FullyReplicated",
                    "S3DataType": "S3Prefix",
                    "S3Uri": s3_input_train,
                }
            },
        },
        {
            "ChannelName": "validation",
            "CompressionType": "None",
            "ContentType": "csv",
            "DataSource": {
                "S3DataSource": {
                    "S3DataDistributionType": "FullyReplicated",
                    "S3DataType": "S3Prefix",
                    "S3Uri": s3_input_validation,
                }
            },
        },
    ],
    "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/{prefix}/output"},
    "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m4.xlarge", "VolumeSizeInGB": 10},
    "RoleArn": role,
    "StaticHyperParameters": {
        "eval_metric": "auc",
        "num_round": "40",
        "objective": "binary:logistic",
    },
    "StoppingCondition": {"MaxRuntimeInSeconds": 43200},
}

smclient.create_hyper_parameter_tuning_job(
    HyperParameterTuningJobName=tuning_job_name,
    HyperParameterTuningJobConfig=tuning_job_config,
    TrainingJobDefinition=training_job_definition,
)

# There is no waiter for tuning jobs; the notebook polls.
while True:
    tuning = smclient.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning_job_name
    )
    status = tuning["HyperParameterTuningJobStatus"]
    print(status, tuning["TrainingJobStatusCounters"])
    if status in ("Completed", "Failed", "Stopped"):
        break
    time.sleep(3)
assert status == "Completed", tuning.get("FailureReason")

best = tuning["BestTrainingJob"]
print("best training job", best["TrainingJobName"], best["TunedHyperParameters"])
print("best objective", best["FinalHyperParameterTuningJobObjectiveMetric"])
trials = smclient.list_training_jobs_for_hyper_parameter_tuning_job(
    HyperParameterTuningJobName=tuning_job_name,
    SortBy="FinalObjectiveMetricValue",
    SortOrder="Descending",
)["TrainingJobSummaries"]
for trial in trials:
    print(
        trial["TrainingJobName"],
        trial["TrainingJobStatus"],
        trial.get("FinalHyperParameterTuningJobObjectiveMetric", {}).get("Value"),
    )

# -- hosting the best model ------------------------------------------------------------------
info = smclient.describe_training_job(TrainingJobName=best["TrainingJobName"])
model_data = info["ModelArtifacts"]["S3ModelArtifacts"]
model_name = best["TrainingJobName"] + "-mod"
create_model_response = smclient.create_model(
    ModelName=model_name,
    ExecutionRoleArn=role,
    PrimaryContainer={"Image": training_image, "ModelDataUrl": model_data},
)
print(create_model_response["ModelArn"])

endpoint_config_name = "DEMO-XGBoostEndpointConfig-" + time.strftime("%H-%M-%S", time.gmtime())
smclient.create_endpoint_config(
    EndpointConfigName=endpoint_config_name,
    ProductionVariants=[
        {
            "InstanceType": "ml.m5.xlarge",
            "InitialVariantWeight": 1,
            "InitialInstanceCount": 1,
            "ModelName": model_name,
            "VariantName": "AllTraffic",
        }
    ],
)

endpoint_name = "DEMO-XGBoostEndpoint-" + time.strftime("%H-%M-%S", time.gmtime())
create_endpoint_response = smclient.create_endpoint(
    EndpointName=endpoint_name, EndpointConfigName=endpoint_config_name
)
print(create_endpoint_response["EndpointArn"])
smclient.get_waiter("endpoint_in_service").wait(
    EndpointName=endpoint_name, WaiterConfig={"Delay": 2, "MaxAttempts": 150}
)
print("Status: " + smclient.describe_endpoint(EndpointName=endpoint_name)["EndpointStatus"])

payload = "\n".join(",".join(f"{v:g}" for v in row) for row in X_test)
response = runtime.invoke_endpoint(EndpointName=endpoint_name, ContentType="text/csv", Body=payload)
result = response["Body"].read().decode()
scores = np.array([float(line) for line in result.strip().splitlines()])
accuracy = float(((scores > 0.5) == y_test).mean())
print("accuracy on the test rows", accuracy)

smclient.delete_endpoint(EndpointName=endpoint_name)
smclient.get_waiter("endpoint_deleted").wait(
    EndpointName=endpoint_name, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
)
smclient.delete_endpoint_config(EndpointConfigName=endpoint_config_name)
smclient.delete_model(ModelName=model_name)

print(
    "RESULT",
    json.dumps(
        {
            "tuning_job": tuning_job_name,
            "best": best["TrainingJobName"],
            "best_objective": best["FinalHyperParameterTuningJobObjectiveMetric"],
            "trials": [
                {
                    "name": t["TrainingJobName"],
                    "status": t["TrainingJobStatus"],
                    "objective": t.get("FinalHyperParameterTuningJobObjectiveMetric", {}).get(
                        "Value"
                    ),
                }
                for t in trials
            ],
            "counters": tuning["TrainingJobStatusCounters"],
            "endpoint": endpoint_name,
            "rows": len(X_test),
            "predictions": len(scores),
            "accuracy": accuracy,
            "invoked_variant": response.get("InvokedProductionVariant"),
        }
    ),
)
