"""SageMaker SDK script mode (`SKLearn`, the `XGBoost` framework) run unchanged against sageforge.

`entry_point` + `source_dir` + `dependencies` are packed by the SDK into sourcedir.tar.gz
in S3; the job runs the script with SageMaker's contract, the endpoint and the
`Transformer` serve it through `model_fn` and the framework's default handlers.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.mark.parametrize("framework", ["sklearn", "xgboost"])
def test_script_mode_fit_deploy_and_transformer(
    framework: str, run_sdk_script: Any, server: Any
) -> None:
    run = run_sdk_script("sdk_script_mode.py", framework)
    out = run.result
    hps = out["hyperparameters"]
    assert hps["sagemaker_program"] == '"train.py"'
    assert hps["sagemaker_submit_directory"].startswith('"s3://')
    assert hps["sagemaker_submit_directory"].endswith('/source/sourcedir.tar.gz"')
    if framework == "sklearn":
        assert hps["max_leaf_nodes"] == "30"
        assert 0.8 < out["final_metrics"]["train:accuracy"] <= 1.0
    else:
        assert hps["num_round"] == '"40"'
    assert out["predictions"] == out["rows"] and out["accuracy"] > 0.8
    assert out["batch_rows"] == out["rows"]
    assert out["batch_accuracy"] == pytest.approx(out["accuracy"])
    session = server.session()
    assert session.training_job(out["job_name"]).describe()["training_job_status"] == "Completed"
    log = "\n".join(session.training_job(out["job_name"]).logs())
    if framework == "sklearn":
        assert "SM_HP_MAX_LEAF_NODES 30" in log
    else:
        assert "Stored trained model at" in log
