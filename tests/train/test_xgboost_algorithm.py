"""The XGBoost built-in under SageMaker's training-job contract, end to end.

Each job test builds a job folder as the runner does (`SM_*` variables, the
config folder, channel folders), runs `python -m sageforge.train.algorithms
xgboost` as a real process, scrapes its log with the algorithm's own metric
regexes, and checks the last scraped value against the metric computed
directly (scikit-learn) from the saved model, loaded by a plain
`xgboost.Booster`.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import tarfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xgboost as xgb
from sklearn import metrics as skm
from sklearn.datasets import load_svmlight_file

from sageforge.core.errors import ValidationError
from sageforge.train.algorithms import AlgorithmError, get_algorithm
from sageforge.train.algorithms import __main__ as entry_point
from sageforge.train.algorithms.xgboost_algorithm import OBJECTIVES, eval_metrics

ALGO = get_algorithm("xgboost")
TOL = 1e-5  # the log prints 5 decimals


@dataclass
class Job:
    root: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def model_path(self) -> Path:
        return self.root / "model" / "xgboost-model"

    @property
    def failure(self) -> str:
        return (self.root / "output" / "failure").read_text()

    def metrics(self, hps: dict[str, Any]) -> dict[str, list[float]]:
        """Every value the job's metric definitions scrape from its log, in order."""
        defs = ALGO.metric_definitions(ALGO.validate_hyperparameters(hps))
        found: dict[str, list[float]] = {}
        for line in self.stdout.splitlines():
            for d in defs:
                m = re.match(d.regex, line)
                if m:
                    found.setdefault(d.name, []).append(float(m.group(1)))
        return found

    def booster(self) -> xgb.Booster:
        """The artifact as a user would load it with plain XGBoost."""
        booster = xgb.Booster()
        with warnings.catch_warnings():  # XGBoost notes that the file name has no extension
            warnings.simplefilter("ignore", UserWarning)
            booster.load_model(str(self.model_path))
        return booster


def run_job(
    root: Path,
    hps: dict[str, Any],
    channels: dict[str, Path],
    content_types: dict[str, str] | None = None,
) -> Job:
    """Run the entry point as the job runner does: a real process."""
    env = {**os.environ, **job_environment(root, hps, channels, content_types)}
    proc = subprocess.run(
        [sys.executable, "-m", "sageforge.train.algorithms", "xgboost"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Job(root, proc.returncode, proc.stdout, proc.stderr)


def job_environment(
    root: Path,
    hps: dict[str, Any],
    channels: dict[str, Path],
    content_types: dict[str, str] | None = None,
) -> dict[str, str]:
    """The job folder's config files, and the `SM_*` variables that point at them."""
    config = root / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps({k: str(v) for k, v in hps.items()}))
    types = content_types or {}
    data_config = {
        c: {"ContentType": types.get(c, "text/csv"), "TrainingInputMode": "File"} for c in channels
    }
    (config / "inputdataconfig.json").write_text(json.dumps(data_config))
    return {
        "SM_MODEL_DIR": str(root / "model"),
        "SM_OUTPUT_DIR": str(root / "output"),
        "SM_OUTPUT_DATA_DIR": str(root / "output" / "data"),
        "SM_INPUT_CONFIG_DIR": str(config),
        "SM_CHANNELS": json.dumps(list(channels)),
        "SM_NUM_CPUS": "2",
        "TRAINING_JOB_NAME": root.name,
        **{f"SM_CHANNEL_{c.upper()}": str(p) for c, p in channels.items()},
    }


def csv_channel(path: Path, X: np.ndarray, y: np.ndarray | None = None, header: str = "") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    rows = X if y is None else np.column_stack([y, X])
    with (path / "data.csv").open("w") as fh:
        if header:
            fh.write(header + "\n")
        np.savetxt(fh, rows, delimiter=",", fmt="%.9g")
    return path


def binary_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + rng.normal(scale=0.5, size=n) > 0).astype(np.float32)
    return X, y


def multiclass_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X[:, 0] > -0.5).astype(np.float32) + (X[:, 1] > 0.5)
    return X, y


def regression_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    return X, (2 * X[:, 0] - X[:, 1] ** 2 + rng.normal(scale=0.1, size=n)).astype(np.float32)


# -- jobs ----------------------------------------------------------------------------------------


def test_binary_csv_auc_matches_the_saved_model(tmp_path: Path) -> None:
    X, y = binary_data(1200)
    hps = {
        "num_round": 15,
        "objective": "binary:logistic",
        "eval_metric": "logloss,auc",
        "max_depth": 3,
        "eta": 0.2,
    }
    channels = {
        "train": csv_channel(tmp_path / "train", X[:900], y[:900]),
        "validation": csv_channel(tmp_path / "validation", X[900:], y[900:]),
    }
    job = run_job(tmp_path / "job", hps, channels)
    assert job.returncode == 0, job.stderr
    rounds = [line for line in job.stdout.splitlines() if line.startswith("[")]
    assert len(rounds) == 15
    assert re.fullmatch(
        r"\[0\]\ttrain-logloss:[0-9.]+\ttrain-auc:[0-9.]+\t"
        r"validation-logloss:[0-9.]+\tvalidation-auc:[0-9.]+",
        rounds[0],
    )
    scraped = job.metrics(hps)
    assert set(scraped) == {"train:logloss", "train:auc", "validation:logloss", "validation:auc"}
    assert all(len(v) == 15 for v in scraped.values())
    booster = job.booster()
    assert booster.num_boosted_rounds() == 15
    p = booster.predict(xgb.DMatrix(X[900:]))
    assert scraped["validation:auc"][-1] == pytest.approx(skm.roc_auc_score(y[900:], p), abs=TOL)
    assert scraped["validation:logloss"][-1] == pytest.approx(skm.log_loss(y[900:], p), abs=TOL)
    # The inference handler answers exactly what plain XGBoost predicts.
    model = ALGO.load_model(job.root / "model")
    body, ctype = ALGO.predict(model, _csv_bytes(X[900:]), "text/csv", "text/csv")
    assert ctype == "text/csv"
    assert np.array_equal(np.array(body.decode().split("\n"), dtype=np.float32), p)


def test_multiclass_header_csv_with_target(tmp_path: Path) -> None:
    X, y = multiclass_data(900)
    names = "f0,f1,label,f3"  # the target sits in the middle of the table
    table = np.column_stack([X[:, :2], y, X[:, 3:]])
    ctype = "text/csv;header=present;target=label"
    channels = {
        "train": csv_channel(tmp_path / "train", table[:600], header=names),
        "validation": csv_channel(tmp_path / "validation", table[600:], header=names),
    }
    hps = {"num_round": 8, "objective": "multi:softprob", "num_class": 3}
    job = run_job(tmp_path / "job", hps, channels, {"train": ctype, "validation": ctype})
    assert job.returncode == 0, job.stderr
    scraped = job.metrics(hps)
    assert set(scraped) == {"train:mlogloss", "validation:mlogloss"}
    booster = job.booster()
    assert booster.feature_names == ["f0", "f1", "f3"]
    Xv = np.column_stack([X[600:, :2], X[600:, 3:]])
    p = booster.inplace_predict(Xv)
    assert p.shape == (300, 3)
    assert scraped["validation:mlogloss"][-1] == pytest.approx(skm.log_loss(y[600:], p), abs=TOL)
    body, _ = ALGO.predict(
        ALGO.load_model(job.root / "model"),
        json.dumps({"instances": Xv[:2].tolist()}).encode(),
        "application/json",
        "application/json",
    )
    scores = [r["score"] for r in json.loads(body)["predictions"]]
    assert np.allclose(scores, p[:2], atol=1e-6) and np.allclose(np.sum(scores, axis=1), 1)


def test_regression_libsvm(tmp_path: Path) -> None:
    X, y = regression_data(600)
    for name, rows in (("train", slice(0, 450)), ("validation", slice(450, 600))):
        (tmp_path / name).mkdir()
        lines = [
            f"{label:.6f} " + " ".join(f"{j + 1}:{v:.6f}" for j, v in enumerate(x) if v > -1)
            for x, label in zip(X[rows], y[rows], strict=True)
        ]
        (tmp_path / name / "part.libsvm").write_text("\n".join(lines) + "\n")
    hps = {"num_round": 10, "max_depth": 4}
    ctypes = {"train": "text/libsvm", "validation": "text/libsvm"}
    job = run_job(tmp_path / "job", hps, {c: tmp_path / c for c in ctypes}, ctypes)
    assert job.returncode == 0, job.stderr
    scraped = job.metrics(hps)
    Xv, yv = load_svmlight_file(str(tmp_path / "validation" / "part.libsvm"), zero_based=True)
    rmse = skm.mean_squared_error(yv, job.booster().inplace_predict(Xv.astype(np.float32))) ** 0.5
    assert scraped["validation:rmse"][-1] == pytest.approx(rmse, abs=TOL)


def test_parquet_target_and_custom_metrics(tmp_path: Path) -> None:
    X, y = binary_data(800, seed=1)
    for name, rows in (("train", slice(0, 600)), ("validation", slice(600, 800))):
        (tmp_path / name).mkdir()
        cols = {f"x{j}": X[rows, j] for j in range(X.shape[1])} | {"churn": y[rows].astype(int)}
        pq.write_table(pa.table(cols), tmp_path / name / "part-0.parquet")
    hps = {"num_round": 6, "objective": "binary:logistic", "eval_metric": "auc,accuracy,f1"}
    ctype = "application/x-parquet;target=churn"
    job = run_job(
        tmp_path / "job",
        hps,
        {c: tmp_path / c for c in ("train", "validation")},
        {"train": ctype, "validation": ctype},
    )
    assert job.returncode == 0, job.stderr
    scraped = job.metrics(hps)
    assert "validation:accuracy" in scraped and "validation:f1" in scraped
    label = (job.booster().inplace_predict(X[600:]) > 0.5).astype(int)
    assert scraped["validation:accuracy"][-1] == pytest.approx(
        skm.accuracy_score(y[600:], label), abs=TOL
    )
    assert scraped["validation:f1"][-1] == pytest.approx(
        skm.f1_score(y[600:], label, average="macro"), abs=TOL
    )


def test_early_stopping_keeps_and_reports_the_best_round(tmp_path: Path) -> None:
    X, y = binary_data(700, seed=2)
    y[:350] = np.random.default_rng(3).integers(0, 2, 350)  # noisy train: validation peaks early
    hps = {
        "num_round": 200,
        "objective": "binary:logistic",
        "eval_metric": "auc,logloss",
        "early_stopping_rounds": 5,
        "eta": 0.5,
        "max_depth": 6,
    }
    channels = {
        "train": csv_channel(tmp_path / "train", X[:500], y[:500]),
        "validation": csv_channel(tmp_path / "validation", X[500:], y[500:]),
    }
    job = run_job(tmp_path / "job", hps, channels)
    assert job.returncode == 0, job.stderr
    assert "Stopping. Best iteration:" in job.stdout
    scraped = job.metrics(hps)
    series = scraped["validation:logloss"]
    best = int(np.argmin(series[:-1]))  # the last value is the best round, repeated
    assert series[-1] == series[best] and len(series) - 1 < 200
    booster = job.booster()
    assert booster.num_boosted_rounds() == best + 1
    p = booster.predict(xgb.DMatrix(X[500:]))
    assert series[-1] == pytest.approx(skm.log_loss(y[500:], p), abs=TOL)


def test_incremental_training_from_a_model_channel(tmp_path: Path) -> None:
    X, y = regression_data(300)
    first = xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(X, label=y), 3)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "xgboost-model").write_bytes(bytes(first.save_raw("ubj")))
    channels = {"train": csv_channel(tmp_path / "train", X, y), "model": tmp_path / "model"}
    job = run_job(tmp_path / "job", {"num_round": 4}, channels)
    assert job.returncode == 0, job.stderr
    assert job.booster().num_boosted_rounds() == 7
    assert job.stdout.count("train-rmse") == 4 and "[3]\ttrain-rmse" in job.stdout


# -- failures ------------------------------------------------------------------------------------


def test_bad_data_fails_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "d.csv").write_text("1,2,3\n0,4,5\n1,six,7\n")
    job = run_job(tmp_path / "job", {"num_round": 2}, {"train": tmp_path / "train"})
    assert job.returncode == 1
    assert (
        job.failure == "d.csv, line 3, column 2: 'six' is not a number "
        "(built-in algorithms read numeric CSV; encode categories first)"
    )
    assert "line 3" in job.stderr and not job.model_path.exists()


@pytest.mark.parametrize(
    ("hps", "expected"),
    [
        ({"num_round": 2, "eta": 2}, "hyper_parameters.eta: 2 is out of range; use a number >= 0"),
        ({"num_round": 2, "max_dept": 3}, "Did you mean 'max_depth'"),
        ({"eta": 0.1}, "hyper_parameters.num_round: is required"),
        ({"num_round": 2, "early_stopping_rounds": 3}, "needs a validation channel"),
        ({"num_round": 2, "objective": "binary:logistic"}, "train row 1: label 3 is not valid"),
    ],
)
def test_bad_settings_fail_with_a_reason(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    hps: dict[str, Any],
    expected: str,
) -> None:
    # In-process (the same `main` the process runs): XGBoost is already imported here.
    train = csv_channel(tmp_path / "train", np.ones((4, 2)), np.array([3, 1, 0, 1]))
    for key, value in job_environment(tmp_path / "job", hps, {"train": train}).items():
        monkeypatch.setenv(key, value)
    assert entry_point.main(["xgboost"]) == 1
    assert expected in (tmp_path / "job" / "output" / "failure").read_text()
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_unexpected_error_is_an_algorithm_error_with_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = job_environment(tmp_path / "job", {"num_round": 1}, {"train": tmp_path / "missing"})
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert entry_point.main(["xgboost"]) == 1
    failure = tmp_path / "job" / "output" / "failure"
    assert failure.read_text() == f"channel 'train': {tmp_path / 'missing'} does not exist"
    # A broken config file is not the user's data: "AlgorithmError: <type>" and a traceback.
    (tmp_path / "job" / "config" / "hyperparameters.json").write_text("{not json")
    assert entry_point.main(["xgboost"]) == 1
    assert failure.read_text().startswith("AlgorithmError: JSONDecodeError: Expecting property")
    assert "Traceback" in capsys.readouterr().err


def test_missing_environment_and_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SM_INPUT_CONFIG_DIR", raising=False)
    monkeypatch.setenv("SM_OUTPUT_DIR", str(tmp_path / "out"))
    assert entry_point.main(["xgboost"]) == 1
    assert "lacks 'SM_INPUT_CONFIG_DIR'" in (tmp_path / "out" / "failure").read_text()
    assert entry_point.main([]) == 2
    assert entry_point.main(["nope"]) == 1
    assert "no built-in algorithm named 'nope'" in capsys.readouterr().err


# -- hyperparameters and metrics -----------------------------------------------------------------


def test_validation_typed_defaults_and_aliases() -> None:
    hps = ALGO.validate_hyperparameters(
        {
            "num_round": "10",
            "learning_rate": "0.1",
            "reg_lambda": "2",
            "_tuning_objective_metric": "x",
        }
    )
    assert hps["num_round"] == 10 and hps["eta"] == 0.1 and hps["lambda"] == 2
    assert hps["max_depth"] == 6 and hps["objective"] == "reg:squarederror"


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"num_round": "5", "objective": "multi:softmax"}, "num_class", "required by objective"),
        ({"num_round": "5", "eval_metric": "acu"}, "eval_metric", "Did you mean 'auc'"),
        ({"num_round": "5", "eval_metric": "auc@3"}, "eval_metric", "takes no @ argument"),
        ({"num_round": "5", "eval_metric": "accuracy"}, "eval_metric", "binary:* or multi:*"),
        ({"num_round": "5", "subsample": "0"}, "subsample", "out of range"),
        ({"num_round": "5", "objective": "reg:foo"}, "objective", "not allowed"),
        ({"num_round": "5", "monotone_constraints": "(1,2)"}, "monotone_constraints", "-1, 0, 1"),
        ({"num_round": "5", "interaction_constraints": "[0,1]"}, "interaction_constraints", "[["),
        ({"num_round": "5", "updater": "grow_fast"}, "updater", "unknown updater"),
        ({"num_round": "1.5"}, "num_round", "not an integer"),
    ],
)
def test_validation_errors(raw: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)) as info:
        ALGO.validate_hyperparameters(raw)
    assert info.value.field == f"hyper_parameters.{field}"


def test_parameterised_metrics_are_accepted() -> None:
    hps = ALGO.validate_hyperparameters(
        {"num_round": "5", "objective": "rank:ndcg", "eval_metric": "ndcg@5-,map@3,pre@2"}
    )
    assert [d.name for d in ALGO.metric_definitions(hps)][:2] == [
        "train:ndcg@5-",
        "validation:ndcg@5-",
    ]
    hps = ALGO.validate_hyperparameters({"num_round": "5", "monotone_constraints": "[1, 0,-1]"})
    assert hps["monotone_constraints"] == "(1,0,-1)"


@pytest.mark.parametrize("objective", [o for o in OBJECTIVES if not o.startswith("survival")])
def test_default_metric_is_what_xgboost_logs(objective: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.float32) + (0.5 if objective.startswith(("reg:g", "count")) else 0)
    hps = ALGO.validate_hyperparameters(
        {"num_round": "1", "objective": objective}
        | ({"num_class": "2"} if objective.startswith("multi") else {})
        | ({"tweedie_variance_power": "1.3"} if objective == "reg:tweedie" else {})
    )
    params = {"objective": objective.replace("reg:linear", "reg:squarederror")}
    given = {"num_class", "tweedie_variance_power"} & set(hps)
    params |= {k: hps[k] for k in given if k != "tweedie_variance_power" or "tweedie" in objective}
    if objective == "reg:quantileerror":
        params["quantile_alpha"] = 0.5
    d = xgb.DMatrix(X, label=y, qid=np.repeat(np.arange(6), 10) if "rank" in objective else None)
    log: dict[str, Any] = {}
    xgb.train(params, d, 1, evals=[(d, "train")], evals_result=log, verbose_eval=False)
    assert list(log["train"]) == eval_metrics(hps)


def test_metric_definitions_and_all_names() -> None:
    hps = ALGO.validate_hyperparameters({"num_round": "5", "objective": "binary:logistic"})
    defs = ALGO.metric_definitions(hps)
    assert [d.name for d in defs] == ["train:logloss", "validation:logloss"]
    line = "[12]\ttrain-logloss:0.31\tvalidation-logloss:0.42"
    assert re.match(defs[1].regex, line).group(1) == "0.42"  # type: ignore[union-attr]
    names = ALGO.all_metric_names()
    for name in (
        "validation:auc",
        "train:rmse",
        "validation:accuracy",
        "validation:ndcg@32",
        "validation:tweedie-nloglik@1.5",
        "validation:mlogloss",
    ):
        assert name in names


# -- inference -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def booster() -> xgb.Booster:
    X, y = binary_data(300)
    return xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, label=y), 5)


def _csv_bytes(X: np.ndarray) -> bytes:
    return "\n".join(",".join(f"{v:.9g}" for v in row) for row in X).encode()


@pytest.mark.parametrize("fmt", ["ubj", "json", "pickle", "tar.gz"])
def test_load_model_formats(tmp_path: Path, booster: xgb.Booster, fmt: str) -> None:
    if fmt == "tar.gz":  # a `model` channel holds SageMaker's model.tar.gz as is
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "xgboost-model").write_bytes(bytes(booster.save_raw("ubj")))
        with tarfile.open(tmp_path / "model.tar.gz", "w:gz") as tar:
            tar.add(tmp_path / "src" / "xgboost-model", arcname="xgboost-model")
        shutil.rmtree(tmp_path / "src")
    else:
        raw = pickle.dumps(booster) if fmt == "pickle" else bytes(booster.save_raw(fmt))
        (tmp_path / "xgboost-model").write_bytes(raw)
    X, _ = binary_data(5, seed=9)
    loaded = ALGO.load_model(tmp_path)
    assert np.array_equal(loaded.inplace_predict(X), booster.inplace_predict(X))


def test_load_model_rejects_other_files(tmp_path: Path) -> None:
    (tmp_path / "xgboost-model").write_bytes(b"hello")
    with pytest.raises(AlgorithmError, match="not an XGBoost model"):
        ALGO.load_model(tmp_path)
    (tmp_path / "xgboost-model").unlink()
    with pytest.raises(AlgorithmError, match="no xgboost-model"):
        ALGO.load_model(tmp_path)
    with pytest.raises(AlgorithmError, match="no xgboost-model"):
        ALGO.load_model(tmp_path / "missing")


def test_predict_every_request_type(booster: xgb.Booster) -> None:
    X, _ = binary_data(3, seed=4)
    expected = booster.inplace_predict(X)
    rows = X.tolist()
    bodies = {
        "text/csv": _csv_bytes(X),
        "application/json": json.dumps({"instances": [{"features": r} for r in rows]}).encode(),
        "application/jsonlines": "\n".join(json.dumps({"features": r}) for r in rows).encode(),
        "text/libsvm": "\n".join(
            "0 " + " ".join(f"{j}:{v:.9g}" for j, v in enumerate(r)) for r in rows
        ).encode(),
    }
    for ctype, body in bodies.items():
        out, out_type = ALGO.predict(booster, body, ctype, "application/jsonlines")
        assert out_type == "application/jsonlines"
        got = [json.loads(line)["score"] for line in out.splitlines()]
        assert np.allclose(got, expected, atol=1e-6), ctype


def test_predict_feature_count(booster: xgb.Booster) -> None:
    with pytest.raises(ValidationError, match="takes 5 features per row; the request has 2"):
        ALGO.predict(booster, b"1,2", "text/csv", "text/csv")
    body, _ = ALGO.predict(booster, b"0 0:1.5", "text/libsvm", "text/csv")  # short rows pad
    assert len(body.split(b"\n")) == 1
