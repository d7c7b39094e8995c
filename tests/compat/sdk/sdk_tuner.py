"""SageMaker SDK: `HyperparameterTuner` on built-in XGBoost, `attach`, and the analytics.

Written as SageMaker's "Direct marketing with XGBoost and hyperparameter tuning, using the
SageMaker Python SDK" notebook (hyperparameter_tuning/xgboost_direct_marketing) and the
Hyperband example (`StrategyConfig(hyperband_strategy_config=HyperbandStrategyConfig(...))`)
write it. Endpoints and keys come from the environment (`eval $(sageforge aws-env)`).

Usage: python sdk_tuner.py Bayesian|Hyperband
"""

import json
import sys

import pandas as pd
import sagemaker
from sagemaker.analytics import HyperparameterTuningJobAnalytics, TrainingJobAnalytics
from sagemaker.inputs import TrainingInput
from sagemaker.tuner import (
    ContinuousParameter,
    HyperbandStrategyConfig,
    HyperparameterTuner,
    IntegerParameter,
    StrategyConfig,
)
from sklearn.datasets import make_classification

strategy = sys.argv[1] if len(sys.argv) > 1 else "Bayesian"
sess = sagemaker.Session()
region = sess.boto_region_name
bucket = sess.default_bucket()
prefix = f"sagemaker/DEMO-hpo-xgboost-{strategy.lower()}"
role = "arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole-20240101T000000"

# -- data ------------------------------------------------------------------------------------
X, y = make_classification(n_samples=2500, n_features=10, n_informative=5, random_state=11)
data = pd.concat([pd.Series(y), pd.DataFrame(X)], axis=1)
shuffled = data.sample(frac=1, random_state=1729)
train_data, validation_data = shuffled.iloc[:2000], shuffled.iloc[2000:]
train_data.to_csv("train.csv", index=False, header=False)
validation_data.to_csv("validation.csv", index=False, header=False)
sess.upload_data("train.csv", bucket=bucket, key_prefix=f"{prefix}/train")
sess.upload_data("validation.csv", bucket=bucket, key_prefix=f"{prefix}/validation")
s3_input_train = TrainingInput(s3_data=f"s3://{bucket}/{prefix}/train", content_type="csv")
s3_input_validation = TrainingInput(
    s3_data=f"s3://{bucket}/{prefix}/validation/", content_type="csv"
)

# -- tuning ----------------------------------------------------------------------------------
container = sagemaker.image_uris.retrieve("xgboost", region, "1.7-1")
xgb = sagemaker.estimator.Estimator(
    container,
    role,
    instance_count=1,
    instance_type="ml.m4.xlarge",
    output_path=f"s3://{bucket}/{prefix}/output",
    sagemaker_session=sess,
)
xgb.set_hyperparameters(eval_metric="auc", objective="binary:logistic", num_round=30)

hyperparameter_ranges = {
    "eta": ContinuousParameter(0.05, 1),
    "min_child_weight": ContinuousParameter(1, 10),
    "alpha": ContinuousParameter(0, 2),
    "max_depth": IntegerParameter(1, 6),
}
objective_metric_name = "validation:auc"

# Tuning job names end in the minute (yymmdd-HHMM): a base name per tuner keeps two
# tuners started in the same minute apart, as on SageMaker.
if strategy == "Hyperband":
    strategy_config = StrategyConfig(
        hyperband_strategy_config=HyperbandStrategyConfig(max_resource=30, min_resource=3)
    )
    tuner = HyperparameterTuner(
        xgb,
        objective_metric_name,
        hyperparameter_ranges,
        strategy="Hyperband",
        strategy_config=strategy_config,
        max_jobs=6,
        max_parallel_jobs=2,
        base_tuning_job_name="xgb-hyperband",
    )
else:
    tuner = HyperparameterTuner(
        xgb,
        objective_metric_name,
        hyperparameter_ranges,
        max_jobs=4,
        max_parallel_jobs=2,
        base_tuning_job_name="xgb-bayesian",
    )

tuner.fit({"train": s3_input_train, "validation": s3_input_validation}, include_cls_metadata=False)
tuning_job_name = tuner.latest_tuning_job.name
status = sess.sagemaker_client.describe_hyper_parameter_tuning_job(
    HyperParameterTuningJobName=tuning_job_name
)["HyperParameterTuningJobStatus"]
print(tuning_job_name, status)

# -- attach from another process's point of view, and look at the results --------------------
attached = HyperparameterTuner.attach(tuning_job_name)
best_job = attached.best_training_job()
print("best training job", best_job)
print("attached strategy", attached.strategy, "max_jobs", attached.max_jobs)

tuner_analytics = HyperparameterTuningJobAnalytics(tuning_job_name)
full_df = tuner_analytics.dataframe()
print(full_df.sort_values("FinalObjectiveValue", ascending=False).to_string())

best_estimator = attached.best_estimator()
metrics_df = best_estimator.training_job_analytics.dataframe()
print(metrics_df.to_string())
auc_df = TrainingJobAnalytics(best_job, metric_names=[objective_metric_name]).dataframe()

print(
    "RESULT",
    json.dumps(
        {
            "tuning_job": tuning_job_name,
            "status": status,
            "best": best_job,
            "attached_strategy": attached.strategy,
            "attached_ranges": sorted(
                p["Name"] for kind in attached.hyperparameter_ranges().values() for p in kind
            ),
            "trials": full_df["TrainingJobName"].tolist(),
            "trial_status": full_df["TrainingJobStatus"].tolist(),
            "objectives": [
                None if pd.isna(v) else float(v) for v in full_df["FinalObjectiveValue"]
            ],
            "range_columns": sorted(set(hyperparameter_ranges) & set(full_df.columns)),
            "metric_names": sorted(set(metrics_df["metric_name"])),
            "best_auc": [float(v) for v in auc_df["value"]],
            "best_estimator_image": best_estimator.image_uri,
        }
    ),
)
