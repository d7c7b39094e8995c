"""The built-in XGBoost through a real server: metrics, artifact, evaluation, SDK."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import xgboost
from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score

import sageforge
from sageforge.core.errors import ValidationError
from sageforge.sdk import Session

pytestmark = [
    pytest.mark.e2e,
    # XGBoost 3 guesses the format of an extension-less file (SageMaker's `xgboost-model`)
    # and says so; loading it is exactly what users do, so the notice is expected.
    pytest.mark.filterwarnings("ignore:.*Unknown file format.*:UserWarning"),
]


def write_csv(path: Path, y: np.ndarray, X: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, np.column_stack([y, X]), delimiter=",", fmt="%.6g")
    return path.parent


def binary_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 + rng.normal(0, 0.7, n) > 0.4).astype(int)
    return y, X


def load_booster(session: Session, url: str, tmp_path: Path) -> xgboost.Booster:
    tar_path = session.download(url, tmp_path / "model.tar.gz")
    with tarfile.open(tar_path) as tar:
        assert "xgboost-model" in tar.getnames()
        tar.extractall(tmp_path / "model", filter="data")
    booster = xgboost.Booster()
    booster.load_model(str(tmp_path / "model" / "xgboost-model"))  # plain xgboost, no sageforge
    return booster


def test_binary_training_metrics_artifact_and_evaluation(session: Session, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y_tr, X_tr = binary_data(rng, 1500)
    y_va, X_va = binary_data(rng, 500)
    y_te, X_te = binary_data(rng, 400)
    train = write_csv(tmp_path / "train" / "train.csv", y_tr, X_tr)
    validation = write_csv(tmp_path / "validation" / "validation.csv", y_va, X_va)
    test = write_csv(tmp_path / "test" / "test.csv", y_te, X_te)

    est = sageforge.Estimator(
        "xgboost",
        hyperparameters={
            "num_round": 30,
            "objective": "binary:logistic",
            "eval_metric": "auc,logloss",
            "max_depth": 3,
        },
        session=session,
    )
    job = est.fit(
        {
            "train": sageforge.TrainingInput(str(train), "text/csv"),
            "validation": sageforge.TrainingInput(str(validation), "text/csv"),
        },
        show_progress=False,
    )
    desc = job.describe()
    assert desc["training_job_status"] == "Completed"
    final = {m["metric_name"]: m["value"] for m in desc["final_metric_data_list"]}
    assert set(final) >= {"train:auc", "validation:auc", "train:logloss", "validation:logloss"}
    series = job.metrics()["validation:auc"]
    assert [p["step"] for p in series] == list(range(30))

    booster = load_booster(session, est.model_data or "", tmp_path)
    p_va = booster.predict(xgboost.DMatrix(X_va.astype(np.float32)))
    assert final["validation:auc"] == pytest.approx(roc_auc_score(y_va, p_va), abs=1e-5)

    result = job.evaluate(str(test))
    p_te = booster.predict(xgboost.DMatrix(X_te.astype(np.float32)))
    metrics = result["binary_classification_metrics"]
    assert metrics["auc"]["value"] == pytest.approx(roc_auc_score(y_te, p_te), abs=1e-9)
    assert metrics["accuracy"]["value"] == pytest.approx(accuracy_score(y_te, p_te >= 0.5))
    assert result["report_url"].endswith("/report.html")
    report = session.read_bytes(result["report_url"]).decode()
    assert "<html" in report.lower() and "plotly" in report.lower()


def test_regression_with_early_stopping(session: Session, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1200, 4))
    y = 3 * X[:, 0] - 2 * X[:, 1] + rng.normal(0, 0.3, 1200)
    train = write_csv(tmp_path / "tr" / "d.csv", y[:900], X[:900])
    validation = write_csv(tmp_path / "va" / "d.csv", y[900:], X[900:])
    job = session.create_training_job(
        "xgb-regression",
        algorithm="xgboost",
        inputs={"train": train, "validation": validation},
        hyperparameters={"num_round": 500, "early_stopping_rounds": 5, "eta": 0.3},
    )
    desc = job.wait(120)
    assert desc["training_job_status"] == "Completed", desc["failure_reason"]
    rounds = len(job.metrics()["validation:rmse"])
    assert rounds < 500  # stopped early
    booster = load_booster(session, job.model_artifacts or "", tmp_path)
    pred = booster.predict(
        xgboost.DMatrix(X[900:].astype(np.float32)), iteration_range=(0, booster.best_iteration + 1)
    )
    best = min(p["value"] for p in job.metrics()["validation:rmse"])
    assert best == pytest.approx(float(np.sqrt(mean_squared_error(y[900:], pred))), rel=1e-4)


def test_hyperparameters_are_checked_before_the_job_starts(
    session: Session, tmp_path: Path
) -> None:
    rng = np.random.default_rng(2)
    y, X = binary_data(rng, 50)
    train = write_csv(tmp_path / "t" / "t.csv", y, X)
    before = len(session.list_training_jobs(max_results=100))
    cases = [
        ({"objective": "binary:logistic"}, "hyper_parameters.num_round", "required"),
        ({"num_round": 10, "max_dept": 3}, "hyper_parameters.max_dept", "max_depth"),
        ({"num_round": 10, "eta": 2}, "hyper_parameters.eta", "out of range"),
        (
            {"num_round": 10, "objective": "binary:nonsense"},
            "hyper_parameters.objective",
            "binary:logistic",
        ),
    ]
    for hps, field, words in cases:
        with pytest.raises(ValidationError) as err:
            session.create_training_job(
                algorithm="xgboost", inputs={"train": train}, hyperparameters=hps
            )
        assert err.value.field == field
        assert words in err.value.message
    with pytest.raises(ValidationError) as err:
        session.create_training_job(
            algorithm="xgboost", inputs={"training": train}, hyperparameters={"num_round": 3}
        )
    assert "channel" in err.value.message
    with pytest.raises(ValidationError) as err:
        session.create_training_job(algorithm="no-such-algo", inputs={"train": train})
    assert err.value.field == "algorithm_specification.algorithm_name"
    assert "xgboost" in err.value.message
    assert len(session.list_training_jobs(max_results=100)) == before  # nothing was started


def test_bad_data_fails_with_a_readable_reason(session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "d.csv").write_text("1,2,3\n0,abc,4\n")
    job = session.create_training_job(
        "xgb-bad-data", algorithm="xgboost", inputs={"train": bad}, hyperparameters={"num_round": 3}
    )
    desc = job.wait(60)
    assert desc["training_job_status"] == "Failed"
    assert "d.csv" in desc["failure_reason"]


def test_algorithms_catalogue(session: Session) -> None:
    catalogue = {a["name"]: a for a in session.api.get("/algorithms")["algorithms"]}
    assert "xgboost" in catalogue
    names = {h["name"] for h in catalogue["xgboost"]["hyperparameters"]}
    assert {"num_round", "eta", "max_depth", "objective", "eval_metric"} <= names
    assert json.dumps(catalogue)  # JSON-serialisable for Studio
