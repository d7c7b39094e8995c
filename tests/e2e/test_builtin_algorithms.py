"""Every built-in besides XGBoost, trained through a real server.

Each test trains on small generated data, fetches model.tar.gz, loads it with
the algorithm's own inference code and recomputes the metric the job reported
with scikit-learn on that model's answers.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.decomposition import PCA

from sageforge.sdk import Session
from sageforge.train.algorithms import get_algorithm

pytestmark = pytest.mark.e2e


def csv_channel(tmp_path: Path, name: str, X: np.ndarray, y: np.ndarray | None = None) -> Path:
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    rows = X if y is None else np.column_stack([y, X])
    np.savetxt(folder / f"{name}.csv", rows, delimiter=",", fmt="%.6g")
    return folder


def train(
    session: Session, tmp_path: Path, algorithm: str, hps: dict[str, Any], channels: dict[str, Path]
) -> tuple[dict[str, float], Any]:
    content = (
        "text/csv;label_size=0"
        if algorithm in ("kmeans", "pca", "isolation-forest")
        else "text/csv"
    )
    inputs = {
        name: {
            "uri": path,
            "content_type": content
            if name == "train" or algorithm != "isolation-forest"
            else "text/csv",
        }
        for name, path in channels.items()
    }
    job = session.create_training_job(algorithm=algorithm, inputs=inputs, hyperparameters=hps)
    desc = job.wait(120)
    assert desc["training_job_status"] == "Completed", desc["failure_reason"]
    local = session.download(
        desc["model_artifacts"]["s3_model_artifacts"], tmp_path / f"{algorithm}.tar.gz"
    )
    model_dir = tmp_path / f"{algorithm}-model"
    with tarfile.open(local) as tar:
        tar.extractall(model_dir, filter="data")
    model = get_algorithm(algorithm).load_model(model_dir)
    final = {m["metric_name"]: m["value"] for m in desc["final_metric_data_list"]}
    return final, model


def ask(algorithm: str, model: Any, X: np.ndarray) -> list[dict[str, Any]]:
    body = "\n".join(",".join(f"{v:.6g}" for v in row) for row in X).encode()
    out, ctype = get_algorithm(algorithm).predict(model, body, "text/csv", "application/json")
    assert ctype.startswith("application/json")
    doc = json.loads(out)
    return next(iter(doc.values()))  # predictions / projections / scores


def classification_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] - X[:, 1] + rng.normal(0, 0.5, n) > 0).astype(int)
    return X, y


def test_linear_learner_binary(session: Session, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X, y = classification_data(rng, 1200)
    final, model = train(
        session, tmp_path, "linear-learner",
        {"predictor_type": "binary_classifier", "epochs": 5, "mini_batch_size": 50},
        {"train": csv_channel(tmp_path, "train", X[:900], y[:900]),
         "validation": csv_channel(tmp_path, "validation", X[900:], y[900:])},
    )  # fmt: skip
    answers = ask("linear-learner", model, X[900:])
    labels = [a["predicted_label"] for a in answers]
    scores = [a["score"] for a in answers]
    assert final["validation:binary_classification_accuracy"] == pytest.approx(
        skm.accuracy_score(y[900:], labels), abs=1e-6
    )
    assert final["validation:roc_auc_score"] == pytest.approx(
        skm.roc_auc_score(y[900:], scores), abs=1e-6
    )
    assert final["validation:binary_classification_accuracy"] > 0.8


def test_kmeans(session: Session, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [6, 6], [0, 8]])
    X = np.vstack([c + rng.normal(0, 0.6, size=(200, 2)) for c in centres])
    final, model = train(
        session,
        tmp_path,
        "kmeans",
        {"k": 3, "init_method": "kmeans++", "eval_metrics": '["msd"]'},
        {"train": csv_channel(tmp_path, "train", X)},
    )
    answers = ask("kmeans", model, X)
    msd = float(np.mean([a["distance_to_cluster"] ** 2 for a in answers]))
    assert final["train:msd"] == pytest.approx(msd, rel=1e-4)
    assert len({a["closest_cluster"] for a in answers}) == 3


def test_knn_classifier(session: Session, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    X, y = classification_data(rng, 800)
    final, model = train(
        session, tmp_path, "knn", {"k": 5, "predictor_type": "classifier", "sample_size": 600},
        {"train": csv_channel(tmp_path, "train", X[:600], y[:600]),
         "test": csv_channel(tmp_path, "test", X[600:], y[600:])},
    )  # fmt: skip
    labels = [a["predicted_label"] for a in ask("knn", model, X[600:])]
    assert final["test:accuracy"] == pytest.approx(skm.accuracy_score(y[600:], labels), abs=1e-9)


def test_pca(session: Session, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(size=(500, 2))
    X = np.column_stack(
        [base, base @ np.array([[1.0, 0.5], [0.2, -1.0]]), rng.normal(0, 0.05, size=(500, 2))]
    )
    final, model = train(
        session,
        tmp_path,
        "pca",
        {"num_components": 2, "algorithm_mode": "regular", "subtract_mean": "true"},
        {"train": csv_channel(tmp_path, "train", X)},
    )
    X32 = np.loadtxt(tmp_path / "train" / "train.csv", delimiter=",")
    expected = PCA(n_components=2).fit(X32).explained_variance_ratio_.sum()
    assert final["train:explained_variance_ratio"] == pytest.approx(expected, rel=1e-4)
    projections = ask("pca", model, X[:3])
    assert len(projections[0]["projection"]) == 2


def test_random_forest_classifier(session: Session, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    X, y = classification_data(rng, 1000)
    final, model = train(
        session, tmp_path, "random-forest", {"predictor_type": "classifier", "num_trees": 30, "seed": 0},
        {"train": csv_channel(tmp_path, "train", X[:700], y[:700]),
         "validation": csv_channel(tmp_path, "validation", X[700:], y[700:])},
    )  # fmt: skip
    answers = ask("random-forest", model, X[700:])
    labels = [a["predicted_label"] for a in answers]
    assert final["validation:accuracy"] == pytest.approx(
        skm.accuracy_score(y[700:], labels), abs=1e-9
    )


def test_isolation_forest(session: Session, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    normal = rng.normal(0, 1, size=(600, 3))
    outliers = rng.uniform(6, 9, size=(20, 3)) * rng.choice([-1, 1], size=(20, 3))
    X_test = np.vstack([normal[:100], outliers])
    y_test = np.r_[np.zeros(100), np.ones(20)]
    final, model = train(
        session, tmp_path, "isolation-forest", {"num_trees": 100, "contamination": 0.05, "seed": 0},
        {"train": csv_channel(tmp_path, "train", normal[100:]),
         "test": csv_channel(tmp_path, "test", X_test, y_test)},
    )  # fmt: skip
    scores = np.array([a["score"] for a in ask("isolation-forest", model, X_test)])
    flagged = scores > model.meta["threshold"]
    assert final["test:accuracy"] == pytest.approx(skm.accuracy_score(y_test, flagged), abs=1e-9)
    assert scores[100:].min() > np.median(scores[:100])  # outliers score higher
