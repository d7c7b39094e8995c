"""SageMaker SDK script mode: `SKLearn` or the `XGBoost` framework, fit, deploy, Transformer.

Written as SageMaker's framework examples write it ("Iris with Scikit-learn",
"XGBoost as a framework"): `entry_point` in a `source_dir`, a local package shipped with
`dependencies`, hyperparameters, `fit`, `deploy` and `predict`, then a batch `Transformer`
over CSV rows in S3. Endpoints and keys come from the environment
(`eval $(sageforge aws-env)`).

Usage: python sdk_script_mode.py sklearn|xgboost
"""

import json
import os
import sys

import numpy as np
import pandas as pd
import sagemaker
from sagemaker.deserializers import CSVDeserializer
from sagemaker.inputs import TrainingInput
from sagemaker.serializers import CSVSerializer
from sagemaker.sklearn.estimator import SKLearn
from sagemaker.xgboost.estimator import XGBoost
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

framework = sys.argv[1] if len(sys.argv) > 1 else "sklearn"
here = os.path.dirname(os.path.abspath(__file__))
sagemaker_session = sagemaker.Session()
bucket = sagemaker_session.default_bucket()
prefix = f"DEMO-script-mode-{framework}"
role = "arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole-20240101T000000"

# -- data ------------------------------------------------------------------------------------
X, y = make_classification(n_samples=1500, n_features=6, n_informative=4, random_state=5)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=5)
os.makedirs("data/train", exist_ok=True)
os.makedirs("data/validation", exist_ok=True)
os.makedirs("data/batch", exist_ok=True)
pd.DataFrame(np.column_stack([y_train, X_train])).to_csv(
    "data/train/train.csv", header=False, index=False
)
pd.DataFrame(np.column_stack([y_test, X_test])).to_csv(
    "data/validation/validation.csv", header=False, index=False
)
pd.DataFrame(X_test).to_csv("data/batch/batch.csv", header=False, index=False)
train_input = sagemaker_session.upload_data(
    "data/train", bucket=bucket, key_prefix=f"{prefix}/train"
)
validation_input = sagemaker_session.upload_data(
    "data/validation", bucket=bucket, key_prefix=f"{prefix}/validation"
)
batch_input = sagemaker_session.upload_data(
    "data/batch", bucket=bucket, key_prefix=f"{prefix}/batch"
)
print("uploaded", train_input, validation_input, batch_input)

# -- train -----------------------------------------------------------------------------------
if framework == "sklearn":
    estimator = SKLearn(
        entry_point="train.py",
        source_dir=os.path.join(here, "sklearn_code"),
        dependencies=[os.path.join(here, "my_custom_lib")],
        framework_version="1.2-1",
        py_version="py3",
        instance_type="ml.c5.xlarge",
        role=role,
        sagemaker_session=sagemaker_session,
        hyperparameters={"max_leaf_nodes": 30},
        metric_definitions=[{"Name": "train:accuracy", "Regex": "train accuracy: ([0-9.]+)"}],
    )
    estimator.fit({"train": train_input})
else:
    hyperparams = {
        "max_depth": "4",
        "eta": "0.2",
        "gamma": "0",
        "min_child_weight": "1",
        "subsample": "0.9",
        "objective": "binary:logistic",
        "num_round": "40",
        "verbosity": "1",
    }
    estimator = XGBoost(
        entry_point="train.py",
        source_dir=os.path.join(here, "xgboost_code"),
        dependencies=[os.path.join(here, "my_custom_lib")],
        hyperparameters=hyperparams,
        role=role,
        instance_count=1,
        instance_type="ml.m5.2xlarge",
        framework_version="1.7-1",
        output_path=f"s3://{bucket}/{prefix}/output",
        sagemaker_session=sagemaker_session,
    )
    estimator.fit(
        {
            "train": TrainingInput(train_input, content_type="text/csv"),
            "validation": TrainingInput(validation_input, content_type="text/csv"),
        }
    )
job_name = estimator.latest_training_job.name
description = estimator.latest_training_job.describe()
print("model data", estimator.model_data)

# -- deploy and predict ----------------------------------------------------------------------
if framework == "sklearn":
    predictor = estimator.deploy(initial_instance_count=1, instance_type="ml.m5.xlarge")
    predictions = np.asarray(predictor.predict(X_test)).ravel()  # application/x-npy both ways
else:
    predictor = estimator.deploy(
        initial_instance_count=1,
        instance_type="ml.m5.xlarge",
        serializer=CSVSerializer(),
        deserializer=CSVDeserializer(),
    )
    answer = predictor.predict(X_test)  # a list of rows of strings
    predictions = np.round(np.array([float(v) for row in answer for v in row]))
accuracy = float((predictions == y_test).mean())
print("endpoint accuracy", accuracy)
endpoint_name = predictor.endpoint_name
predictor.delete_model()
predictor.delete_endpoint()

# -- batch transform -------------------------------------------------------------------------
transformer = estimator.transformer(
    instance_count=1,
    instance_type="ml.m5.xlarge",
    accept="text/csv",
    assemble_with="Line",
    output_path=f"s3://{bucket}/{prefix}/batch-output",
)
transformer.transform(batch_input, content_type="text/csv", split_type="Line")
transformer.wait()
output = sagemaker.s3.S3Downloader.read_file(
    f"{transformer.output_path}/batch.csv.out", sagemaker_session=sagemaker_session
)
batch = np.array([float(v) for v in output.replace(",", "\n").split()])
batch_accuracy = float((np.round(batch) == y_test).mean())
print("batch transform accuracy", batch_accuracy)
transform_job = transformer.latest_transform_job.name
transformer.delete_model()

print(
    "RESULT",
    json.dumps(
        {
            "job_name": job_name,
            "hyperparameters": description["HyperParameters"],
            "final_metrics": {
                m["MetricName"]: m["Value"] for m in description.get("FinalMetricDataList", [])
            },
            "model_data": estimator.model_data,
            "endpoint": endpoint_name,
            "rows": len(X_test),
            "predictions": len(predictions),
            "accuracy": accuracy,
            "transform_job": transform_job,
            "batch_rows": len(batch),
            "batch_accuracy": batch_accuracy,
        }
    ),
)
