"""SageMaker Python SDK v2 (`Estimator`, `HyperparameterTuner`) run unchanged against sageforge.

The client scripts in `tests/compat/sdk/` run with the compat venv's python and the
environment of `sageforge aws-env`; these tests check what they printed and what sageforge
recorded.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]


def test_estimator_fit_deploy_predict_delete(run_sdk_script: Any, server: Any) -> None:
    run = run_sdk_script("sdk_estimator_deploy.py")
    out = run.result
    # fit() tailed the job's log through CloudWatch Logs while it waited.
    assert "validation-auc" in run.stdout
    assert out["model_data"].endswith(f"/{out['job_name']}/output/model.tar.gz")
    assert out["predictions"] == out["rows"] and out["accuracy"] > 0.8
    native = server.session().training_job(out["job_name"]).describe()
    assert native["training_job_status"] == "Completed"
    # delete_endpoint and delete_model left nothing behind.
    api = server.session().api
    # DeleteEndpoint returns at once (the endpoint goes Deleting, then away).
    deadline = time.monotonic() + 60
    while out["endpoint"] in [e["endpoint_name"] for e in api.get("/endpoints")["endpoints"]]:
        assert time.monotonic() < deadline, "the deleted endpoint is still listed after 60 s"
        time.sleep(0.5)
    # The SDK names the model and the config after the endpoint.
    assert out["endpoint"] not in [m["model_name"] for m in api.get("/models")["models"]]
    configs = api.get("/endpoint-configs")["endpoint_configs"]
    assert out["endpoint"] not in [c["endpoint_config_name"] for c in configs]


@pytest.mark.parametrize("strategy", ["Bayesian", "Hyperband"])
def test_hyperparameter_tuner_attach_and_analytics(
    strategy: str, run_sdk_script: Any, server: Any
) -> None:
    out = run_sdk_script("sdk_tuner.py", strategy).result
    assert out["status"] == "Completed"
    assert out["attached_strategy"] == strategy
    assert out["attached_ranges"] == ["alpha", "eta", "max_depth", "min_child_weight"]
    assert out["best"] in out["trials"]
    assert out["range_columns"] == ["alpha", "eta", "max_depth", "min_child_weight"]
    finished = [v for v in out["objectives"] if v is not None]
    assert finished and max(finished) > 0.8
    # training_job_analytics reads CloudWatch metrics of the best trial.
    assert "validation:auc" in out["metric_names"] and "train:auc" in out["metric_names"]
    # ...as one-minute averages over the rounds, so at most the final (best) value.
    assert out["best_auc"] and 0.5 < max(out["best_auc"]) <= max(finished) + 1e-6
    assert out["best_estimator_image"].endswith("sagemaker-xgboost:1.7-1")
    if strategy == "Bayesian":
        assert len(out["trials"]) == 4
        assert set(out["trial_status"]) == {"Completed"}
    else:
        # Hyperband stops weak trials early: they end Stopped (or Completed), none Failed.
        assert 1 <= len(out["trials"]) <= 6
        assert set(out["trial_status"]) <= {"Completed", "Stopped"}
    native = server.session().training_job(out["best"]).describe()
    assert native["training_job_status"] in ("Completed", "Stopped")
