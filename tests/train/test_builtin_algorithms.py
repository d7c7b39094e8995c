"""The NumPy/scikit-learn built-ins under SageMaker's training-job contract.

Each test builds a job folder as a training job would (`SM_*` variables, the
config folder, channel folders of CSV), trains, scrapes the log with the
algorithm's own metric regexes, and checks every scraped value against the
same metric computed directly with scikit-learn on the same data and the
saved model's predictions. Inference goes through `load_model`/`predict`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.decomposition import PCA as SkPCA
from sklearn.ensemble import IsolationForest, RandomForestClassifier, RandomForestRegressor
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from sageforge.core.errors import ValidationError
from sageforge.train.algorithms import AlgorithmError, TrainingEnvironment, get_algorithm

REL = 1e-6


# --------------------------------------------------------------------------- job fixtures


def write_csv(path: Path, rows: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, rows, delimiter=",", fmt="%.9g")


def make_job(
    root: Path,
    hyperparameters: dict[str, Any],
    channels: dict[str, np.ndarray],
    content_types: dict[str, str] | None = None,
) -> dict[str, str]:
    """A job folder; each channel's array is written as CSV (label first when labelled)."""
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(
        json.dumps({k: str(v) for k, v in hyperparameters.items()})
    )
    types = content_types or {}
    (config / "inputdataconfig.json").write_text(
        json.dumps({c: {"ContentType": types.get(c, "text/csv")} for c in channels})
    )
    env = {
        "SM_MODEL_DIR": str(root / "model"),
        "SM_OUTPUT_DIR": str(root / "output"),
        "SM_OUTPUT_DATA_DIR": str(root / "output" / "data"),
        "SM_INPUT_CONFIG_DIR": str(config),
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_NUM_CPUS": "1",
        "TRAINING_JOB_NAME": "test-job",
    }
    for name, rows in channels.items():
        folder = root / "input" / "data" / name
        write_csv(folder / f"{name}.csv", rows)
        env[f"SM_CHANNEL_{name.upper()}"] = str(folder)
    return env


def train(name: str, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> str:
    """Train in-process and return the job's log (stdout)."""
    capsys.readouterr()
    get_algorithm(name).train(TrainingEnvironment.from_env(env))
    return capsys.readouterr().out


def scrape(name: str, hyperparameters: dict[str, Any], log: str) -> dict[str, float]:
    """The last value of every metric the algorithm declares, as a tuning job reads them."""
    algorithm = get_algorithm(name)
    hp = algorithm.validate_hyperparameters({k: str(v) for k, v in hyperparameters.items()})
    found = {}
    for definition in algorithm.metric_definitions(hp):
        values = re.findall(definition.regex, log)
        if values:
            found[definition.name] = float(values[-1])
    return found


def loaded(name: str, env: dict[str, str]) -> Any:
    return get_algorithm(name).load_model(Path(env["SM_MODEL_DIR"]))


def csv_body(X: np.ndarray) -> bytes:
    return "\n".join(",".join(f"{v:.9g}" for v in row) for row in X).encode()


def ask(name: str, model: Any, X: np.ndarray, accept: str = "application/json") -> Any:
    body, ctype = get_algorithm(name).predict(model, csv_body(X), "text/csv", accept)
    assert ctype == accept.split(";")[0]
    return json.loads(body)


def labelled(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.column_stack([y, X]).astype(np.float32)


def f32(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


@pytest.fixture(scope="module")
def binary_data() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1)
    w = np.array([1.5, -2.0, 0.7, 0.0])
    out = {}
    for name, n in (("train", 400), ("validation", 200), ("test", 150)):
        X = f32(rng.normal(size=(n, 4)) * [1, 3, 0.5, 1] + [0, 5, 1, 0])
        logits = (X - [0, 5, 1, 0]) / [1, 3, 0.5, 1] @ w
        y = f32(rng.random(n) < 1 / (1 + np.exp(-2 * logits)))
        out[name] = (X, y)
    return out


# --------------------------------------------------------------------------- linear learner


def test_linear_learner_binary_metrics_equal_sklearn(tmp_path, capsys, binary_data):
    hp = {"predictor_type": "binary_classifier", "mini_batch_size": 32, "epochs": 8}
    env = make_job(tmp_path, hp, {c: labelled(*binary_data[c]) for c in binary_data})
    log = train("linear-learner", env, capsys)
    got = scrape("linear-learner", hp, log)
    assert len(re.findall(r"epoch=\d+, train objective_loss", log)) >= 2
    model = loaded("linear-learner", env)
    for channel in ("train", "validation", "test"):
        X, y = binary_data[channel]
        preds = ask("linear-learner", model, X)["predictions"]
        score = np.array([p["score"] for p in preds])
        label = np.array([p["predicted_label"] for p in preds])
        assert set(label) <= {0, 1}
        assert got[f"{channel}:objective_loss"] == pytest.approx(skm.log_loss(y, score), rel=REL)
        if channel == "train":
            continue
        assert got[f"{channel}:binary_classification_accuracy"] == pytest.approx(
            skm.accuracy_score(y, label), rel=REL
        )
        assert got[f"{channel}:binary_f_beta"] == pytest.approx(skm.f1_score(y, label), rel=REL)
        assert got[f"{channel}:precision"] == pytest.approx(skm.precision_score(y, label), rel=REL)
        assert got[f"{channel}:recall"] == pytest.approx(skm.recall_score(y, label), rel=REL)
        assert got[f"{channel}:roc_auc_score"] == pytest.approx(
            skm.roc_auc_score(y, score), rel=REL
        )
    assert got["validation:binary_classification_accuracy"] > 0.8
    meta = json.loads((Path(env["SM_MODEL_DIR"]) / "model-meta.json").read_text())
    assert meta["algorithm"] == "linear-learner" and meta["feature_dim"] == 4
    assert "sklearn_version" in meta


def test_linear_learner_threshold_meets_target_recall(tmp_path, capsys, binary_data):
    hp = {
        "predictor_type": "binary_classifier",
        "mini_batch_size": 50,
        "binary_classifier_model_selection_criteria": "precision_at_target_recall",
        "target_recall": 0.95,
    }
    channels = {c: labelled(*binary_data[c]) for c in ("train", "validation")}
    got = scrape(
        "linear-learner", hp, train("linear-learner", make_job(tmp_path, hp, channels), capsys)
    )
    assert got["validation:recall"] >= 0.95


def test_linear_learner_multiclass(tmp_path, capsys):
    rng = np.random.default_rng(2)
    centers = np.array([[0, 0], [3, 0], [0, 3]])
    data = {}
    for name, n in (("train", 300), ("validation", 150)):
        y = rng.integers(0, 3, n)
        data[name] = (f32(centers[y] + rng.normal(size=(n, 2))), f32(y))
    hp = {
        "predictor_type": "multiclass_classifier",
        "num_classes": 3,
        "accuracy_top_k": 2,
        "mini_batch_size": 32,
    }
    env = make_job(tmp_path, hp, {c: labelled(*data[c]) for c in data})
    got = scrape("linear-learner", hp, train("linear-learner", env, capsys))
    X, y = data["validation"]
    preds = ask("linear-learner", loaded("linear-learner", env), X)["predictions"]
    probs = np.array([p["score"] for p in preds])
    label = np.array([p["predicted_label"] for p in preds])
    np.testing.assert_array_equal(label, probs.argmax(axis=1))
    macro = {"average": "macro", "labels": [0, 1, 2], "zero_division": 0}
    expected = {
        "objective_loss": skm.log_loss(y, probs, labels=[0, 1, 2]),
        "multiclass_accuracy": skm.accuracy_score(y, label),
        "multiclass_top_k_accuracy": skm.top_k_accuracy_score(y, probs, k=2, labels=[0, 1, 2]),
        "macro_f_beta": skm.f1_score(y, label, **macro),
        "macro_precision": skm.precision_score(y, label, **macro),
        "macro_recall": skm.recall_score(y, label, **macro),
    }
    for metric, value in expected.items():
        assert got[f"validation:{metric}"] == pytest.approx(value, rel=1e-5), metric
    assert got["validation:multiclass_accuracy"] > 0.8


def test_linear_learner_regressor_and_response_formats(tmp_path, capsys):
    rng = np.random.default_rng(3)
    X = f32(rng.normal(size=(300, 3)) * [1, 10, 100])
    y = f32(X @ [2.0, -0.3, 0.01] + 50 + rng.normal(size=300) * 0.1)
    hp = {"predictor_type": "regressor", "mini_batch_size": 16, "epochs": 20}
    env = make_job(
        tmp_path, hp, {"train": labelled(X, y), "validation": labelled(X[:100], y[:100])}
    )
    got = scrape("linear-learner", hp, train("linear-learner", env, capsys))
    model = loaded("linear-learner", env)
    score = np.array([p["score"] for p in ask("linear-learner", model, X[:100])["predictions"]])
    mse = skm.mean_squared_error(y[:100], score)
    assert got["validation:mse"] == pytest.approx(mse, rel=REL)
    assert got["validation:objective_loss"] == pytest.approx(mse, rel=REL)
    assert got["validation:rmse"] == pytest.approx(np.sqrt(mse), rel=REL)
    assert got["validation:absolute_loss"] == pytest.approx(
        skm.mean_absolute_error(y[:100], score), rel=REL
    )
    assert got["validation:rmse"] < 1.0
    algo = get_algorithm("linear-learner")
    body, ctype = algo.predict(model, csv_body(X[:3]), "text/csv", "application/jsonlines")
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert ctype == "application/jsonlines" and len(lines) == 3 and set(lines[0]) == {"score"}
    body, ctype = algo.predict(model, csv_body(X[:3]), "text/csv", "text/csv")
    assert ctype == "text/csv"
    np.testing.assert_allclose([float(v) for v in body.decode().split()], score[:3])
    request = json.dumps({"instances": [{"features": [float(v) for v in X[0]]}]}).encode()
    body, _ = algo.predict(model, request, "application/json", "application/json")
    assert json.loads(body)["predictions"][0]["score"] == pytest.approx(score[0], rel=1e-5)


def huber(residual: np.ndarray, delta: float) -> float:
    a = np.abs(residual)
    return float(np.mean(np.where(a <= delta, 0.5 * residual**2, delta * (a - 0.5 * delta))))


@pytest.mark.parametrize(
    ("loss", "extra", "direct"),
    [
        ("absolute_loss", {}, lambda y, p: skm.mean_absolute_error(y, p)),
        ("quantile_loss", {"quantile": 0.3}, lambda y, p: skm.mean_pinball_loss(y, p, alpha=0.3)),
        ("huber_loss", {"huber_delta": 0.5}, lambda y, p: huber(p - y, 0.5)),
        (
            "eps_insensitive_absolute_loss",
            {"loss_insensitivity": 0.2},
            lambda y, p: float(np.mean(np.maximum(np.abs(p - y) - 0.2, 0))),
        ),
    ],
)
def test_linear_learner_regression_losses(tmp_path, capsys, loss, extra, direct):
    rng = np.random.default_rng(16)
    X = f32(rng.normal(size=(200, 2)))
    y = f32(X @ [1.0, -1.0] + rng.normal(size=200) * 0.3)
    hp = {"predictor_type": "regressor", "loss": loss, "mini_batch_size": 20, **extra}
    env = make_job(tmp_path, hp, {"train": labelled(X, y), "test": labelled(X[:50], y[:50])})
    got = scrape("linear-learner", hp, train("linear-learner", env, capsys))
    preds = ask("linear-learner", loaded("linear-learner", env), X[:50])["predictions"]
    score = np.array([p["score"] for p in preds])
    assert got["test:objective_loss"] == pytest.approx(direct(y[:50], score), rel=1e-5)
    assert got["test:mse"] < 0.5


def test_linear_learner_early_stopping(tmp_path, capsys, binary_data):
    hp = {
        "predictor_type": "binary_classifier",
        "epochs": 15,
        "early_stopping_patience": 1,
        "early_stopping_tolerance": 0.99,
    }
    env = make_job(tmp_path, hp, {"train": labelled(*binary_data["train"])})
    log = train("linear-learner", env, capsys)
    assert len(re.findall(r"epoch=\d+, train objective_loss", log)) == 2


def write_libsvm(env: dict[str, str], X: np.ndarray, y: np.ndarray | None) -> None:
    """Replace the train channel's CSV with the same rows in LIBSVM (zeros left out)."""
    folder = Path(env["SM_CHANNEL_TRAIN"])
    (folder / "train.csv").unlink()
    lines = []
    for i, row in enumerate(X):
        pairs = " ".join(f"{j}:{v:.9g}" for j, v in enumerate(row) if v)
        lines.append(pairs if y is None else f"{y[i]:.9g} {pairs}")
    (folder / "train.libsvm").write_text("\n".join(lines) + "\n")


def test_sparse_libsvm_training_matches_dense(tmp_path, capsys):
    rng = np.random.default_rng(17)
    X = f32(rng.normal(size=(150, 5)) * (rng.random((150, 5)) < 0.4))
    X[:, 0] = rng.normal(size=150)  # every row has a value, or unlabelled LIBSVM drops the line
    X[:, 4] = 0.0  # LIBSVM cannot show an empty last column: feature_dim widens the data
    y = f32(X @ [1, 2, 0, -1, 0.5] + 1)
    hp = {"predictor_type": "regressor", "mini_batch_size": 25, "feature_dim": 5}
    dense_env = make_job(tmp_path / "csv", hp, {"train": labelled(X, y)})
    sparse_env = make_job(tmp_path / "svm", hp, {"train": labelled(X, y)}, {"train": "text/libsvm"})
    write_libsvm(sparse_env, X, y)
    dense_run = scrape("linear-learner", hp, train("linear-learner", dense_env, capsys))
    sparse_run = scrape("linear-learner", hp, train("linear-learner", sparse_env, capsys))
    assert sparse_run["train:objective_loss"] == pytest.approx(
        dense_run["train:objective_loss"], rel=1e-5
    )

    hp = {"num_components": 2, "feature_dim": 5}
    env = make_job(tmp_path / "pca", hp, {"train": X}, {"train": "text/libsvm"})
    write_libsvm(env, X, None)
    got = scrape("pca", hp, train("pca", env, capsys))
    expected = SkPCA(2, svd_solver="full").fit(X.astype(np.float64)).explained_variance_ratio_
    assert got["train:explained_variance_ratio"] == pytest.approx(expected.sum(), rel=1e-5)


def test_linear_learner_rejects_labels_that_do_not_fit(tmp_path, binary_data):
    X, y = binary_data["train"]
    hp = {"predictor_type": "binary_classifier"}
    env = make_job(tmp_path, hp, {"train": labelled(X, y * 2)})
    with pytest.raises(AlgorithmError, match="labels 0 and 1"):
        get_algorithm("linear-learner").train(TrainingEnvironment.from_env(env))


# --------------------------------------------------------------------------- k-means


def blobs(rng: np.random.Generator, n: int) -> np.ndarray:
    centers = np.array([[0, 0, 0], [6, 6, 0], [0, 6, 6]])
    return f32(centers[rng.integers(0, 3, n)] + rng.normal(size=(n, 3)) * 0.5)


def test_kmeans_metrics_and_inference(tmp_path, capsys):
    rng = np.random.default_rng(4)
    X, X_test = blobs(rng, 300), blobs(rng, 90)
    hp = {"k": 3, "eval_metrics": '["msd", "ssd"]', "mini_batch_size": 64, "epochs": 5}
    env = make_job(tmp_path, hp, {"train": X, "test": X_test})
    got = scrape("kmeans", hp, train("kmeans", env, capsys))
    assert set(got) == {"train:msd", "train:ssd", "test:msd", "test:ssd"}
    model = loaded("kmeans", env)
    centers = model.payload["centers"]
    for channel, data in (("train", X), ("test", X_test)):
        squared = ((data[:, None, :].astype(np.float64) - centers) ** 2).sum(axis=2).min(axis=1)
        assert got[f"{channel}:msd"] == pytest.approx(squared.mean(), rel=1e-5)
        assert got[f"{channel}:ssd"] == pytest.approx(squared.sum(), rel=1e-5)
    assert got["train:msd"] < 1.0  # found the three blobs (within-blob variance is 0.75)
    preds = ask("kmeans", model, X_test[:5])["predictions"]
    distances = np.sqrt(((X_test[:5, None, :] - centers) ** 2).sum(axis=2))
    for p, row in zip(preds, distances, strict=True):
        assert p["closest_cluster"] == float(row.argmin())
        assert p["distance_to_cluster"] == pytest.approx(row.min(), rel=1e-5)


def test_kmeans_only_declared_eval_metrics(tmp_path, capsys):
    X = blobs(np.random.default_rng(5), 120)
    hp = {"k": 2, "eval_metrics": "ssd"}
    got = scrape("kmeans", hp, train("kmeans", make_job(tmp_path, hp, {"train": X}), capsys))
    assert set(got) == {"train:ssd"}


# --------------------------------------------------------------------------- kNN


def neighbours_data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = f32(rng.normal(size=(240, 4)))
    y = f32((X[:, 0] + X[:, 1] ** 2 > 0.8).astype(int))
    return X[:180], y[:180], X[180:], y[180:]


def test_knn_classifier_accuracy_equals_sklearn(tmp_path, capsys):
    X, y, X_test, y_test = neighbours_data(6)
    hp = {"k": 5, "predictor_type": "classifier", "sample_size": 1000}
    env = make_job(tmp_path, hp, {"train": labelled(X, y), "test": labelled(X_test, y_test)})
    got = scrape("knn", hp, train("knn", env, capsys))
    direct = KNeighborsClassifier(5, algorithm="brute").fit(X, y)
    assert got == {"test:accuracy": pytest.approx(direct.score(X_test, y_test), rel=REL)}
    model = loaded("knn", env)
    preds = ask("knn", model, X_test)["predictions"]
    np.testing.assert_array_equal([p["predicted_label"] for p in preds], direct.predict(X_test))
    verbose = ask("knn", model, X_test[:2], "application/json; verbose=true")["predictions"]
    assert len(verbose[0]["distances"]) == 5 and len(verbose[0]["labels"]) == 5


def test_knn_regressor_and_inner_product(tmp_path, capsys):
    X, _, X_test, _ = neighbours_data(7)
    y, y_test = f32(X.sum(axis=1)), f32(X_test.sum(axis=1))
    hp = {"k": 3, "predictor_type": "regressor", "sample_size": 500, "index_type": "faiss.IVFFlat"}
    env = make_job(tmp_path, hp, {"train": labelled(X, y), "test": labelled(X_test, y_test)})
    got = scrape("knn", hp, train("knn", env, capsys))
    direct = KNeighborsRegressor(3, algorithm="brute").fit(X, y).predict(X_test)
    assert got["test:mse"] == pytest.approx(skm.mean_squared_error(y_test, direct), rel=REL)

    hp = {**hp, "index_metric": "INNER_PRODUCT", "k": 1, "index_type": "faiss.Flat"}
    env = make_job(tmp_path / "ip", hp, {"train": labelled(X, y)})
    train("knn", env, capsys)
    preds = ask("knn", loaded("knn", env), X_test)["predictions"]
    best = (X_test.astype(np.float64) @ X.T.astype(np.float64)).argmax(axis=1)
    np.testing.assert_allclose([p["predicted_label"] for p in preds], y[best], rtol=1e-6)


def test_knn_dimension_reduction(tmp_path, capsys):
    X, y, X_test, y_test = neighbours_data(8)
    hp = {
        "k": 3,
        "predictor_type": "classifier",
        "sample_size": 100,
        "dimension_reduction_type": "sign",
        "dimension_reduction_target": 2,
    }
    env = make_job(tmp_path, hp, {"train": labelled(X, y), "test": labelled(X_test, y_test)})
    got = scrape("knn", hp, train("knn", env, capsys))
    assert 0.0 <= got["test:accuracy"] <= 1.0
    assert loaded("knn", env).payload["index"].n_features_in_ == 2


# --------------------------------------------------------------------------- PCA


@pytest.mark.parametrize("mode", ["regular", "randomized"])
def test_pca_explained_variance_and_projection_equal_sklearn(tmp_path, capsys, mode):
    rng = np.random.default_rng(9)
    X = f32(rng.normal(size=(200, 6)) @ rng.normal(size=(6, 6)) + 3)
    hp = {"num_components": 3, "algorithm_mode": mode, "mini_batch_size": 64}
    env = make_job(tmp_path, hp, {"train": X})
    got = scrape("pca", hp, train("pca", env, capsys))
    direct = SkPCA(3, svd_solver="full").fit(X.astype(np.float64))
    expected = direct.explained_variance_ratio_.sum()
    assert got["train:explained_variance_ratio"] == pytest.approx(expected, rel=1e-5)
    result = ask("pca", loaded("pca", env), X[:10])
    projected = np.array([p["projection"] for p in result["projections"]])
    reference = direct.transform(X[:10].astype(np.float64))
    np.testing.assert_allclose(np.abs(projected), np.abs(reference), rtol=1e-4, atol=1e-4)


def test_pca_csv_response(tmp_path, capsys):
    X = f32(np.random.default_rng(10).normal(size=(50, 4)))
    hp = {"num_components": 2, "subtract_mean": "false"}
    env = make_job(tmp_path, hp, {"train": X})
    train("pca", env, capsys)
    body, ctype = get_algorithm("pca").predict(
        loaded("pca", env), csv_body(X[:3]), "text/csv", "text/csv"
    )
    rows = [line.split(",") for line in body.decode().splitlines()]
    assert ctype == "text/csv" and len(rows) == 3 and all(len(r) == 2 for r in rows)


# --------------------------------------------------------------------------- trees


def test_random_forest_classifier_metrics_equal_sklearn(tmp_path, capsys, binary_data):
    hp = {"predictor_type": "classifier", "num_trees": 20, "max_depth": 5, "seed": 3}
    channels = {c: labelled(*binary_data[c]) for c in ("train", "validation")}
    env = make_job(tmp_path, hp, channels)
    got = scrape("random-forest", hp, train("random-forest", env, capsys))
    direct = RandomForestClassifier(20, max_depth=5, random_state=3).fit(*binary_data["train"])
    for channel in ("train", "validation"):
        X, y = binary_data[channel]
        probs = direct.predict_proba(X)[:, 1]
        label = direct.predict(X)
        assert got[f"{channel}:accuracy"] == pytest.approx(skm.accuracy_score(y, label), rel=REL)
        assert got[f"{channel}:f1"] == pytest.approx(skm.f1_score(y, label), rel=REL)
        assert got[f"{channel}:auc"] == pytest.approx(skm.roc_auc_score(y, probs), rel=REL)
    X, _ = binary_data["validation"]
    preds = ask("random-forest", loaded("random-forest", env), X[:20])["predictions"]
    np.testing.assert_allclose([p["score"] for p in preds], direct.predict_proba(X[:20])[:, 1])
    assert [p["predicted_label"] for p in preds] == [int(v) for v in direct.predict(X[:20])]
    importance = json.loads((tmp_path / "output" / "data" / "feature_importance.json").read_text())
    assert len(importance) == 4


def test_random_forest_regressor_and_decision_tree(tmp_path, capsys):
    rng = np.random.default_rng(11)
    X = f32(rng.normal(size=(200, 3)))
    y = f32(np.sin(X[:, 0]) * 3 + X[:, 1])
    hp = {"predictor_type": "regressor", "num_trees": 10, "min_samples_leaf": 3}
    env = make_job(
        tmp_path, hp, {"train": labelled(X[:150], y[:150]), "test": labelled(X[150:], y[150:])}
    )
    got = scrape("random-forest", hp, train("random-forest", env, capsys))
    pred = (
        RandomForestRegressor(10, min_samples_leaf=3, random_state=0)
        .fit(X[:150], y[:150])
        .predict(X[150:])
    )
    mse = skm.mean_squared_error(y[150:], pred)
    assert got["test:rmse"] == pytest.approx(np.sqrt(mse), rel=REL)
    assert got["test:mae"] == pytest.approx(skm.mean_absolute_error(y[150:], pred), rel=REL)
    assert got["test:r2"] == pytest.approx(skm.r2_score(y[150:], pred), rel=REL)

    hp = {"predictor_type": "classifier", "max_depth": 3}
    y3 = f32(np.digitize(X[:, 0], [-0.5, 0.5]))
    env = make_job(tmp_path / "tree", hp, {"train": labelled(X, y3)})
    got = scrape("decision-tree", hp, train("decision-tree", env, capsys))
    assert got["train:accuracy"] > 0.9
    preds = ask("decision-tree", loaded("decision-tree", env), X[:4])["predictions"]
    assert len(preds[0]["score"]) == 3 and preds[0]["predicted_label"] in (0, 1, 2)


# --------------------------------------------------------------------------- isolation forest


def test_isolation_forest_metrics_and_scores(tmp_path, capsys):
    rng = np.random.default_rng(12)
    X = f32(rng.normal(size=(300, 2)))
    X_test = f32(np.vstack([rng.normal(size=(90, 2)), rng.uniform(5, 8, size=(10, 2))]))
    y_test = f32(np.r_[np.zeros(90), np.ones(10)])
    hp = {"num_trees": 50, "num_samples_per_tree": 128, "contamination": 0.05}
    env = make_job(tmp_path, hp, {"train": X, "test": labelled(X_test, y_test)})
    got = scrape("isolation-forest", hp, train("isolation-forest", env, capsys))
    direct = IsolationForest(n_estimators=50, max_samples=128, contamination=0.05, random_state=0)
    flagged = (direct.fit(X).predict(X_test) == -1).astype(float)
    assert got["test:accuracy"] == pytest.approx(skm.accuracy_score(y_test, flagged), rel=REL)
    assert got["test:precision"] == pytest.approx(skm.precision_score(y_test, flagged), rel=REL)
    assert got["test:recall"] == pytest.approx(skm.recall_score(y_test, flagged), rel=REL)
    assert got["test:f1"] == pytest.approx(skm.f1_score(y_test, flagged), rel=REL)
    result = ask("isolation-forest", loaded("isolation-forest", env), X_test)
    scores = np.array([s["score"] for s in result["scores"]])
    np.testing.assert_allclose(scores, -direct.score_samples(X_test), rtol=1e-6)
    assert scores[90:].min() > np.median(scores[:90])  # outliers score higher


# --------------------------------------------------------------------------- the job process


def test_subprocess_job_writes_model_and_metrics(tmp_path):
    X = blobs(np.random.default_rng(13), 120)
    hp = {"k": 3, "eval_metrics": "msd,ssd"}
    env = {**os.environ, **make_job(tmp_path, hp, {"train": X})}
    done = subprocess.run(
        [sys.executable, "-m", "sageforge.train.algorithms", "kmeans"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    got = scrape("kmeans", hp, done.stdout)
    assert set(got) == {"train:msd", "train:ssd"}
    assert (tmp_path / "model" / "model-meta.json").exists()


def test_subprocess_job_fails_with_reason(tmp_path):
    hp = {"predictor_type": "binary_classifier", "epochs": 0}
    env = {**os.environ, **make_job(tmp_path, hp, {"train": labelled(np.ones((3, 2)), [0, 1, 0])})}
    done = subprocess.run(
        [sys.executable, "-m", "sageforge.train.algorithms", "linear-learner"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "epochs" in (tmp_path / "output" / "failure").read_text()


# --------------------------------------------------------------------------- hyperparameters


BAD_HYPERPARAMETERS = [
    ("linear-learner", {"predictor_type": "regressor", "epoch": "3"}, "epoch"),
    ("linear-learner", {"predictor_type": "regressor", "epochs": "0"}, "epochs"),
    ("linear-learner", {"predictor_type": "regressor", "learning_rate": "-1"}, "learning_rate"),
    ("linear-learner", {}, "predictor_type"),
    ("linear-learner", {"predictor_type": "multiclass_classifier"}, "num_classes"),
    ("linear-learner", {"predictor_type": "regressor", "loss": "logistic"}, "loss"),
    ("kmeans", {}, "k"),
    ("kmeans", {"k": "3", "eval_metrics": '["msd", "mse"]'}, "eval_metrics"),
    ("kmeans", {"k": "3", "init_method": "furthest"}, "init_method"),
    ("knn", {"k": "3", "predictor_type": "classifier"}, "sample_size"),
    ("knn", {"k": "30", "predictor_type": "classifier", "sample_size": "10"}, "k"),
    (
        "knn",
        {
            "k": "3",
            "predictor_type": "regressor",
            "sample_size": "9",
            "dimension_reduction_type": "sign",
        },
        "dimension_reduction_target",
    ),
    ("pca", {"num_components": "0"}, "num_components"),
    ("pca", {"num_components": "2", "extra_components": "5"}, "extra_components"),
    ("pca", {"num_components": "5", "feature_dim": "3"}, "num_components"),
    ("random-forest", {"predictor_type": "classifier", "criterion": "poisson"}, "criterion"),
    ("random-forest", {"predictor_type": "classifier", "max_features": "2.5"}, "max_features"),
    ("decision-tree", {"predictor_type": "classifier", "num_trees": "5"}, "num_trees"),
    ("isolation-forest", {"contamination": "0.9"}, "contamination"),
    ("isolation-forest", {"eval_metrics": "auc"}, "eval_metrics"),
]


@pytest.mark.parametrize(("name", "raw", "field"), BAD_HYPERPARAMETERS)
def test_bad_hyperparameters_name_the_parameter(name, raw, field):
    with pytest.raises(ValidationError) as info:
        get_algorithm(name).validate_hyperparameters(raw)
    assert info.value.field == f"hyper_parameters.{field}"


def test_hyperparameter_defaults_and_auto_values():
    hp = get_algorithm("linear-learner").validate_hyperparameters(
        {"predictor_type": "binary_classifier", "learning_rate": "AUTO", "wd": "0.01"}
    )
    assert hp["learning_rate"] == "auto" and hp["wd"] == 0.01 and hp["epochs"] == 15
    assert hp["positive_example_weight_mult"] == 1.0
    hp = get_algorithm("kmeans").validate_hyperparameters({"k": "4", "eval_metrics": "['ssd']"})
    assert hp["eval_metrics"] == ["ssd"] and hp["init_method"] == "random"
    names = get_algorithm("isolation-forest").all_metric_names()
    assert names == ["test:accuracy", "test:precision", "test:recall", "test:f1"]


# --------------------------------------------------------------------------- inference errors


@pytest.fixture(scope="module")
def kmeans_model(tmp_path_factory) -> Any:
    root = tmp_path_factory.mktemp("km")
    env = make_job(root, {"k": 2}, {"train": blobs(np.random.default_rng(14), 60)})
    get_algorithm("kmeans").train(TrainingEnvironment.from_env(env))
    return loaded("kmeans", env)


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "message"),
    [
        (b"1,2", "text/csv", "application/json", "expects 3 features"),
        (b"1,,3", "text/csv", "application/json", "missing"),
        (b"1,2,x", "text/csv", "application/json", "not a number"),
        (b'{"instances": 3}', "application/json", "application/json", "instances"),
        (b"1,2,3", "text/csv", "application/x-recordio-protobuf", "cannot answer"),
    ],
)
def test_bad_requests_are_validation_errors(kmeans_model, body, content_type, accept, message):
    with pytest.raises(ValidationError, match=message):
        get_algorithm("kmeans").predict(kmeans_model, body, content_type, accept)


def test_requests_in_json_forms_and_libsvm(kmeans_model):
    algo = get_algorithm("kmeans")
    csv = json.loads(algo.predict(kmeans_model, b"0,0,0\n6,6,0", "text/csv", "application/json")[0])
    for body, ctype in (
        (b'{"instances": [{"features": [0, 0, 0]}, {"features": [6, 6, 0]}]}', "application/json"),
        (b"[[0, 0, 0], [6, 6, 0]]", "application/json"),
        (b'{"features": [0, 0, 0]}\n{"features": [6, 6, 0]}', "application/jsonlines"),
        (b"0 0:0 1:0\n0 0:6 1:6", "text/libsvm"),
    ):
        answer, _ = algo.predict(kmeans_model, body, ctype, "application/json")
        assert json.loads(answer) == csv


def test_model_of_another_algorithm_is_refused(kmeans_model, tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "model-meta.json").write_text(json.dumps({"algorithm": "pca"}))
    with pytest.raises(ValidationError, match="trained by 'pca'"):
        get_algorithm("kmeans").load_model(model_dir)


def test_feature_dim_must_match_data(tmp_path):
    hp = {"k": 2, "feature_dim": 5}
    env = make_job(tmp_path, hp, {"train": blobs(np.random.default_rng(15), 30)})
    with pytest.raises(AlgorithmError, match="feature_dim is 5"):
        get_algorithm("kmeans").train(TrainingEnvironment.from_env(env))
