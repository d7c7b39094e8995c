"""boto3 code from SageMaker's example notebooks, run unchanged against a real sageforge server.

Each test runs a client script of `tests/compat/sdk/` with the compat venv's python (real
boto3 and SageMaker SDK v2) and the environment `sageforge aws-env` prints, then checks
what it printed and what sageforge itself recorded: the work must have really run here.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]


def native_job(server: Any, name: str) -> dict[str, Any]:
    """The training job as sageforge's own API describes it."""
    return server.session().training_job(name).describe()


@pytest.mark.parametrize("content", ["csv", "libsvm"])
def test_builtin_xgboost_training_with_waiter(
    content: str, run_sdk_script: Any, server: Any
) -> None:
    out = run_sdk_script("boto3_xgboost_training.py", content).result
    assert out["status"] == "Completed"
    assert out["arn"].startswith("arn:aws:sagemaker:") and out["arn"].endswith(
        f":training-job/{out['job_name'].lower()}"
    )
    assert "Training" in out["secondary"] and out["secondary"][-1] == "Completed"
    # A regression on labels spread over ~20: a real model is far better than the spread.
    rmse = out["metrics"]["validation:rmse"]
    assert 0 < rmse < 0.5 * out["label_std"], out["metrics"]
    assert out["artifact"].endswith("/output/model.tar.gz") and out["artifact_bytes"] > 100
    assert out["listed"] == [out["job_name"]]
    native = native_job(server, out["job_name"])
    assert native["training_job_status"] == "Completed"
    assert native["algorithm_specification"]["algorithm_name"] == "xgboost"


def test_tuning_job_and_hosting_its_best_model(run_sdk_script: Any, server: Any) -> None:
    out = run_sdk_script("boto3_tuning_hosting.py").result
    assert out["counters"]["Completed"] == 4
    assert len(out["trials"]) == 4 and {t["status"] for t in out["trials"]} == {"Completed"}
    objectives = [t["objective"] for t in out["trials"]]
    assert objectives == sorted(objectives, reverse=True)  # SortBy objective, descending
    assert out["best"] == out["trials"][0]["name"]
    assert out["best_objective"]["MetricName"] == "validation:auc"
    assert out["best_objective"]["Value"] == pytest.approx(objectives[0])
    assert out["predictions"] == out["rows"] and out["accuracy"] > 0.75
    assert out["invoked_variant"] == "AllTraffic"
    native = native_job(server, out["best"])
    assert native["training_job_status"] == "Completed"


def test_batch_transform_with_input_join_and_output_filters(run_sdk_script: Any) -> None:
    out = run_sdk_script("boto3_batch_transform.py").result
    assert out["status"] == "Completed"
    assert out["data_processing"] == {
        "InputFilter": "$[1:]",
        "JoinSource": "Input",
        "OutputFilter": "$[0,-1]",
    }
    # The ID (dropped before inference by InputFilter) came back joined to its prediction.
    assert out["columns"] == 2 and out["rows"] == out["input_rows"]
    assert out["ids_in_order"]
    assert out["accuracy"] > 0.9
