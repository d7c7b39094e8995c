"""Hyperparameter tuning jobs through a real server: every strategy, failures, stop, warm start."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from sageforge.core.errors import ValidationError
from sageforge.sdk import (
    CategoricalParameter,
    ContinuousParameter,
    Estimator,
    IntegerParameter,
    Session,
    Tuner,
    TuningJob,
)

pytestmark = pytest.mark.e2e

# A cheap stand-in for training: the score peaks at x=0.3, depth=4, kind="b"; it is
# printed once per round, rising towards that value, so pruners have a curve to read.
OBJECTIVE = textwrap.dedent(
    """
    import argparse, time
    p = argparse.ArgumentParser()
    p.add_argument("--x", type=float, default=0.5)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--kind", default="a")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--pause", type=float, default=0.0)
    a = p.parse_args()
    if a.x > 0.95:
        raise ValueError("x too large for this model")
    final = 1 - (a.x - 0.3) ** 2 - 0.05 * (a.depth - 4) ** 2 - (0.1 if a.kind != "b" else 0)
    for r in range(a.rounds):
        print(f"round={r} score={final - 0.5 / (r + 1):.6f}", flush=True)
        time.sleep(a.pause)
    """
)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("tune-src")
    (src / "objective.py").write_text(OBJECTIVE)
    return src


def estimator(session: Session, source: Path, **hps: object) -> Estimator:
    return Estimator(
        entry_point="objective.py",
        source_dir=source,
        hyperparameters=hps,
        metric_definitions=[{"name": "score", "regex": r"score=([-0-9.]+)"}],
        session=session,
    )


def expected(x: float, depth: int, kind: str) -> float:
    return 1 - (x - 0.3) ** 2 - 0.05 * (depth - 4) ** 2 - (0.1 if kind != "b" else 0) - 0.5 / 3


def test_grid_covers_every_combination(session: Session, source: Path) -> None:
    tuner = Tuner(
        estimator(session, source, x=0.3),
        "score",
        {"depth": IntegerParameter(3, 5), "kind": CategoricalParameter(["a", "b"])},
        strategy="Grid",
        max_parallel_jobs=2,
    )
    job = tuner.fit({}, job_name="grid-all", show_progress=False)
    desc = job.describe()
    assert desc["hyper_parameter_tuning_job_status"] == "Completed", desc["failure_reason"]
    trials = job.trials()
    seen = sorted(
        (t["tuned_hyper_parameters"]["depth"], t["tuned_hyper_parameters"]["kind"]) for t in trials
    )
    assert seen == [(d, k) for d in ("3", "4", "5") for k in ("a", "b")]
    best = desc["best_training_job"]
    assert best["tuned_hyper_parameters"] == {"depth": "4", "kind": "b"}
    assert best["final_hyper_parameter_tuning_job_objective_metric"]["value"] == pytest.approx(
        expected(0.3, 4, "b"), abs=1e-5
    )
    assert desc["training_job_status_counters"]["completed"] == 6
    # Trials are ordinary training jobs, visible in the job list.
    names = {
        j["training_job_name"]
        for j in session.list_training_jobs(name_contains="grid-all-", max_results=100)
    }
    assert names == {t["training_job_name"] for t in trials}
    assert desc["analysis_report"] == "store://tuning-jobs/grid-all/analysis.html"
    assert b"Parallel coordinates" in session.read_bytes(desc["analysis_report"])


def test_random_and_bayesian_with_a_failing_trial(session: Session, source: Path) -> None:
    for strategy in ("Random", "Bayesian"):
        tuner = Tuner(
            estimator(session, source, depth=4, kind="b"),
            "score",
            {"x": ContinuousParameter(0.0, 1.0)},
            strategy=strategy,
            max_jobs=8,
            max_parallel_jobs=2,
            random_seed=3,
        )
        job = tuner.fit({}, job_name=f"{strategy.lower()}-search", show_progress=False)
        desc = job.describe()
        trials = job.trials()
        assert desc["hyper_parameter_tuning_job_status"] == "Completed", desc["failure_reason"]
        assert len(trials) == 8
        xs = [float(t["tuned_hyper_parameters"]["x"]) for t in trials]
        assert all(0.0 <= x <= 1.0 for x in xs)
        failed = [t for t in trials if t["training_job_status"] == "Failed"]
        assert len(failed) == sum(x > 0.95 for x in xs)
        for t in failed:
            assert "x too large" in t["failure_reason"] and t["objective_status"] == "Failed"
        best = desc["best_training_job"]
        values = [
            t["final_hyper_parameter_tuning_job_objective_metric"]["value"]
            for t in trials
            if t["objective_status"] == "Succeeded"
        ]
        assert best["final_hyper_parameter_tuning_job_objective_metric"]["value"] == max(values)
        bx = float(best["tuned_hyper_parameters"]["x"])
        assert best["final_hyper_parameter_tuning_job_objective_metric"]["value"] == pytest.approx(
            expected(bx, 4, "b"), abs=1e-5
        )


def test_hyperband_stops_weak_trials_early(session: Session, source: Path) -> None:
    tuner = Tuner(
        estimator(session, source, rounds=9, pause=0.3),
        "score",
        {"x": ContinuousParameter(0.0, 0.9), "depth": IntegerParameter(0, 8)},
        strategy="Hyperband",
        hyperband_max_resource=9,
        max_jobs=10,
        max_parallel_jobs=2,
        random_seed=0,
    )
    job = tuner.fit({}, job_name="hyperband", show_progress=False)
    desc = job.describe()
    assert desc["hyper_parameter_tuning_job_status"] == "Completed", desc["failure_reason"]
    trials = job.trials()
    stopped = [t for t in trials if t["training_job_status"] == "Stopped"]
    assert stopped, "Hyperband should stop some weak trials before their last round"
    rounds = [len(session.training_job(t["training_job_name"]).metrics()["score"]) for t in stopped]
    # A stop can land after the last round on a loaded machine; most must be cut short.
    assert sum(r < 9 for r in rounds) >= max(1, len(rounds) // 2), rounds


def test_stop_mid_way_stops_the_trials(session: Session, source: Path) -> None:
    tuner = Tuner(
        estimator(session, source, rounds=200, pause=0.1),
        "score",
        {"x": ContinuousParameter(0.0, 0.9)},
        strategy="Random",
        max_jobs=6,
        max_parallel_jobs=2,
    )
    job = tuner.fit({}, job_name="stopped-tuning", wait=False)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not job.trials():
        time.sleep(0.1)
    job.stop()
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and job.describe()["hyper_parameter_tuning_job_status"] != "Stopped"
    ):
        time.sleep(0.2)
    desc = job.describe()
    assert desc["hyper_parameter_tuning_job_status"] == "Stopped"
    trials = job.trials()
    assert 1 <= len(trials) < 6
    assert all(t["training_job_status"] == "Stopped" for t in trials)


def test_warm_start_seeds_the_search(session: Session, source: Path) -> None:
    first = Tuner(
        estimator(session, source, depth=4, kind="b"), "score", {"x": ContinuousParameter(0.0, 0.9)},
        strategy="Random", max_jobs=4, max_parallel_jobs=2, random_seed=1,
    )  # fmt: skip
    parent = first.fit({}, job_name="warm-parent", show_progress=False)
    child = Tuner(
        estimator(session, source, depth=4, kind="b"), "score", {"x": ContinuousParameter(0.0, 0.9)},
        strategy="Bayesian", max_jobs=3, random_seed=2,
        warm_start_parents=["warm-parent"], warm_start_type="IdenticalDataAndAlgorithm",
    )  # fmt: skip
    job = child.fit({}, job_name="warm-child", show_progress=False)
    assert job.describe()["hyper_parameter_tuning_job_status"] == "Completed"
    assert len(job.trials()) == 3
    log = "".join(job.logs())
    assert "warm start: 4 of 4 earlier trials" in log
    assert parent.describe()["warm_start_config"] is None


def test_invalid_tuning_requests_are_rejected(
    session: Session, source: Path, tmp_path: Path
) -> None:
    est = estimator(session, source)
    cases = [
        ({"x": ContinuousParameter(0.9, 0.1)}, "score", "greater than max_value"),
        ({"x": ContinuousParameter(0.0, 1.0, "Logarithmic")}, "score", "needs bounds > 0"),
        ({"x": ContinuousParameter(0.0, 1.0)}, "accuracy", "not among the metric_definitions"),
    ]
    for ranges, objective, words in cases:
        with pytest.raises(ValidationError, match=words):
            Tuner(est, objective, ranges, max_jobs=2).fit({}, show_progress=False)
    with pytest.raises(ValidationError, match="is required for the Bayesian"):
        Tuner(est, "score", {"x": "0..1"}).fit({}, show_progress=False)

    rng = np.random.default_rng(0)
    data = tmp_path / "train"
    data.mkdir()
    np.savetxt(
        data / "d.csv",
        np.column_stack([rng.integers(0, 2, 50), rng.normal(size=(50, 3))]),
        delimiter=",",
    )
    xgb = Estimator("xgboost", hyperparameters={"num_round": 5}, session=session)
    with pytest.raises(ValidationError) as err:
        Tuner(xgb, "validation:rmse", {"max_dept": "2..5"}, max_jobs=2).fit(
            {"train": data}, show_progress=False
        )
    assert err.value.field == "hyper_parameter_tuning_job_config.parameter_ranges.max_dept"
    with pytest.raises(
        ValidationError, match=r"continuous hyperparameter of xgboost.*eta=0\.0\.\.1\.0"
    ) as err:
        Tuner(xgb, "validation:rmse", {"eta": "0..1"}, max_jobs=2).fit(  # read as integers
            {"train": data, "validation": data}, show_progress=False
        )
    assert err.value.field == "hyper_parameter_tuning_job_config.parameter_ranges.eta"
    with pytest.raises(ValidationError, match="never emits 'validation:auc'"):
        Tuner(xgb, "validation:auc", {"max_depth": "2..5"}, max_jobs=2).fit(
            {"train": data, "validation": data}, show_progress=False
        )
    with pytest.raises(ValidationError, match="'validation' channel"):
        Tuner(xgb, "validation:rmse", {"max_depth": "2..5"}, max_jobs=2).fit(
            {"train": data}, show_progress=False
        )
    with pytest.raises(ValidationError, match="Grid search cannot enumerate"):
        Tuner(est, "score", {"x": "0.1..0.5"}, strategy="Grid").fit({}, show_progress=False)
    assert TuningJob  # the handle class is public
