"""Tuning jobs: per-trial overhead, and how fast Bayesian search finds what Random finds.

(a) Overhead: a Random tuning job of N trials (one at a time) whose training
    script does nothing; (tuning job wall - sum of the trials' own training
    time) / N. Target (issue 6): under 0.5 s per trial.
(b) Search quality on the XGBoost sample task (the bundled churn table, one-hot
    encoded, validation AUC): for each seed, Random spends the full budget; then
    count how many trials Bayesian needs before its best reaches Random's best.
    The median over seeds, as a fraction of the budget. Target: 0.5 or less.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

OVERHEAD_TRIALS = int(os.environ.get("BENCH_TRIALS", "12"))
BUDGET = int(os.environ.get("BENCH_BUDGET", "20"))
SEEDS = [int(s) for s in os.environ.get("BENCH_SEEDS", "1,2,3,4,5").split(",")]


def prepare_churn(folder: Path) -> dict[str, str]:
    from sageforge.datasets import sample_path

    df = pd.read_csv(sample_path("churn")).drop(columns=["customer_id"])
    y = (df.pop("churn") == "yes").astype(int)
    X = pd.get_dummies(df, dtype=float)
    data = pd.concat([y, X], axis=1).sample(frac=1.0, random_state=0)
    n = int(0.75 * len(data))
    out = {}
    for name, part in (("train", data.iloc[:n]), ("validation", data.iloc[n:])):
        (folder / name).mkdir(parents=True)
        part.to_csv(folder / name / f"{name}.csv", header=False, index=False)
        out[name] = str(folder / name)
    return out


def _seconds(a: str, b: str) -> float:
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()


def overhead(session, src: Path) -> float:  # type: ignore[no-untyped-def]
    from sageforge.sdk import ContinuousParameter, Estimator, Tuner

    est = Estimator(
        entry_point="noop.py", source_dir=src, session=session,
        metric_definitions=[{"name": "score", "regex": r"score=([0-9.]+)"}],
    )  # fmt: skip
    tuner = Tuner(
        est, "score", {"x": ContinuousParameter(0, 1)}, strategy="Random", max_jobs=OVERHEAD_TRIALS
    )
    t0 = time.perf_counter()
    job = tuner.fit({}, show_progress=False)
    wall = time.perf_counter() - t0
    trials = job.trials()
    own = sum(_seconds(t["creation_time"], t["training_end_time"]) for t in trials)
    per_trial = (wall - own) / len(trials)
    print(f"(a) {len(trials)} trials: tuning job wall {wall:.2f}s, trials' own time {own:.2f}s")
    print(f"    overhead per trial {per_trial * 1000:.0f} ms   target < 500 ms")
    return per_trial


def search(session, channels: dict[str, str], strategy: str, seed: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Objective values in trial order."""
    from sageforge.sdk import ContinuousParameter, Estimator, IntegerParameter, TrainingInput, Tuner

    est = Estimator(
        "xgboost",
        hyperparameters={"num_round": 60, "objective": "binary:logistic", "eval_metric": "auc"},
        session=session,
    )
    tuner = Tuner(
        est,
        "validation:auc",
        {
            "eta": ContinuousParameter(0.001, 0.5, "Logarithmic"),
            "max_depth": IntegerParameter(1, 10),
            "min_child_weight": ContinuousParameter(0.1, 50, "Logarithmic"),
            "subsample": ContinuousParameter(0.5, 1.0),
            "lambda": ContinuousParameter(0.01, 100, "Logarithmic"),
        },
        strategy=strategy,
        max_jobs=BUDGET,
        max_parallel_jobs=2,
        random_seed=seed,
    )
    job = tuner.fit(
        {k: TrainingInput(v, "text/csv") for k, v in channels.items()}, show_progress=False
    )
    trials = job.trials(sort_by="CreationTime")
    return [
        t["final_hyper_parameter_tuning_job_objective_metric"]["value"]
        if t["final_hyper_parameter_tuning_job_objective_metric"]
        else float("-inf")
        for t in trials
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["SAGEFORGE_HOME"] = str(root / "home")
        os.environ.pop("SAGEFORGE_URL", None)
        src = root / "src"
        src.mkdir()
        (src / "noop.py").write_text("print('score=0.5')\n")
        channels = prepare_churn(root / "data")

        from sageforge.sdk import Session
        from sageforge.sdk._local_server import stop_server

        session = Session()
        try:
            per_trial = overhead(session, src)
            fractions = []
            for seed in SEEDS:
                random_values = search(session, channels, "Random", seed)
                target = max(random_values)
                # Another seed: TPE's random start-up trials must not replay Random's.
                bayes_values = search(session, channels, "Bayesian", seed + 1000)
                best = np.maximum.accumulate(bayes_values)
                hits = np.nonzero(best >= target - 1e-12)[0]
                needed = int(hits[0]) + 1 if len(hits) else BUDGET + 1
                fractions.append(needed / BUDGET)
                print(
                    f"(b) seed {seed}: Random best {target:.5f} after {BUDGET}; Bayesian best "
                    f"{max(bayes_values):.5f}, reached Random's best at trial "
                    f"{needed if needed <= BUDGET else 'never'}"
                )
        finally:
            session.close()
            stop_server(session.settings)
    fraction = statistics.median(fractions)
    print(f"(b) median fraction of the budget Bayesian needs: {fraction:.2f}   target <= 0.5")
    print(f"RESULT tuning_overhead_per_trial_s {per_trial:.3f}")
    print(f"RESULT bayes_budget_fraction_to_match_random {fraction:.2f}")


if __name__ == "__main__":
    main()
