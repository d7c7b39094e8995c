"""SageMaker SDK: built-in XGBoost `Estimator.fit` -> `deploy` -> `predict` -> `delete_endpoint`.

Written as SageMaker's "Customer Churn Prediction with XGBoost" notebook writes it
(introduction_to_applying_machine_learning/xgboost_customer_churn): the image from
`sagemaker.image_uris.retrieve`, data uploaded with `Session.upload_data`, `TrainingInput`
channels, a CSVSerializer predictor. Endpoints and keys come from the environment
(`eval $(sageforge aws-env)`); the role is a literal ARN as outside SageMaker notebooks.
"""

import json
import os

import numpy as np
import pandas as pd
import sagemaker
from sagemaker.inputs import TrainingInput
from sagemaker.serializers import CSVSerializer
from sklearn.datasets import make_classification

sess = sagemaker.Session()
region = sess.boto_region_name
bucket = sess.default_bucket()
prefix = "sagemaker/DEMO-xgboost-churn"
role = "arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole-20240101T000000"

# -- data: churn-like binary labels, target first and no header, as the algorithm expects ----
X, y = make_classification(n_samples=3333, n_features=12, n_informative=6, random_state=1)
data = pd.concat([pd.Series(y, name="Churn"), pd.DataFrame(X)], axis=1)
shuffled = data.sample(frac=1, random_state=1729)
n = len(shuffled)
train_data = shuffled.iloc[: int(0.7 * n)]
validation_data = shuffled.iloc[int(0.7 * n) : int(0.9 * n)]
test_data = shuffled.iloc[int(0.9 * n) :]
train_data.to_csv("train.csv", header=False, index=False)
validation_data.to_csv("validation.csv", header=False, index=False)

train_uri = sess.upload_data("train.csv", bucket=bucket, key_prefix=os.path.join(prefix, "train"))
val_uri = sess.upload_data(
    "validation.csv", bucket=bucket, key_prefix=os.path.join(prefix, "validation")
)
print("uploaded", train_uri, val_uri)
s3_input_train = TrainingInput(s3_data=f"s3://{bucket}/{prefix}/train", content_type="csv")
s3_input_validation = TrainingInput(
    s3_data=f"s3://{bucket}/{prefix}/validation/", content_type="csv"
)

# -- train -----------------------------------------------------------------------------------
container = sagemaker.image_uris.retrieve("xgboost", region, "1.7-1")
print(container)
xgb = sagemaker.estimator.Estimator(
    container,
    role,
    instance_count=1,
    instance_type="ml.m4.xlarge",
    output_path=f"s3://{bucket}/{prefix}/output",
    sagemaker_session=sess,
)
xgb.set_hyperparameters(
    max_depth=5,
    eta=0.2,
    gamma=4,
    min_child_weight=6,
    subsample=0.8,
    verbosity=0,
    objective="binary:logistic",
    eval_metric="auc",
    num_round=60,
)
xgb.fit({"train": s3_input_train, "validation": s3_input_validation})
print("model data", xgb.model_data)

# -- host ------------------------------------------------------------------------------------
xgb_predictor = xgb.deploy(
    initial_instance_count=1, instance_type="ml.m4.xlarge", serializer=CSVSerializer()
)
print("endpoint", xgb_predictor.endpoint_name)


def predict(data, rows=100):
    split_array = np.array_split(data, int(data.shape[0] / float(rows) + 1))
    predictions = []
    for array in split_array:
        answer = xgb_predictor.predict(array).decode("utf-8")
        predictions.extend(float(v) for v in answer.replace("\n", ",").split(",") if v)
    return np.array(predictions)


predictions = predict(test_data.to_numpy()[:, 1:])
print(pd.crosstab(index=test_data.iloc[:, 0], columns=np.round(predictions), rownames=["actual"]))
accuracy = float((np.round(predictions) == test_data.iloc[:, 0].to_numpy()).mean())
print("accuracy", accuracy)

endpoint_name = xgb_predictor.endpoint_name
job_name = xgb.latest_training_job.name
# The clean-up cell of SageMaker's notebooks: the model, then the endpoint (and its config).
xgb_predictor.delete_model()
xgb_predictor.delete_endpoint()

print(
    "RESULT",
    json.dumps(
        {
            "job_name": job_name,
            "model_data": xgb.model_data,
            "endpoint": endpoint_name,
            "rows": len(test_data),
            "predictions": len(predictions),
            "accuracy": accuracy,
        }
    ),
)
