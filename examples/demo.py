"""The end-to-end demo that `make demo` runs.

1. finds or starts the local sageforge server;
2. uploads the bundled churn table to the artifact store;
3. runs a processing job that prepares train/validation/test splits;
4. runs a script-mode training job on them, charting validation AUC;
5. trains the built-in XGBoost on the same splits (no user code);
6. tunes it: a Bayesian tuning job whose trials are training jobs;
7. evaluates the best trial's model on the held-out test split: metrics,
   confusion matrix and an HTML report;
8. prints where to look next.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

import sageforge
from sageforge.cli.evaluate import metrics_table
from sageforge.datasets import sample_path
from sageforge.sdk import (
    ContinuousParameter,
    Estimator,
    IntegerParameter,
    Session,
    TrainingInput,
    Tuner,
)

HERE = Path(__file__).parent
console = Console()


def main() -> int:
    with console.status("connecting to the sageforge server (starting one if needed)…"):
        session = Session()
    console.print(f"[bold]sageforge {sageforge.__version__}[/] server at {session.url}")

    console.rule("prepare: processing job")
    raw = session.upload(sample_path("churn"), "demo/churn/raw")
    console.print(f"uploaded the sample table to {raw}")

    prep = session.create_processing_job(
        script=HERE / "prepare_churn.py",
        # Container paths in arguments are mapped into the job's folder.
        arguments=[
            "--input",
            "/opt/ml/processing/input/raw",
            "--output",
            "/opt/ml/processing/output",
        ],
        inputs={"raw": (raw, "/opt/ml/processing/input/raw")},
        outputs={
            split: (f"/opt/ml/processing/output/{split}", f"store://demo/churn/{split}")
            for split in ("train", "validation", "test")
        },
    )
    with console.status(f"processing job {prep.name} preparing the splits…"):
        desc = prep.wait()
    _show(prep.name, desc["processing_job_status"], desc.get("failure_reason"))
    if desc["processing_job_status"] != "Completed":
        return 1

    console.rule("train: your own script (script mode)")
    job = session.create_training_job(
        entry_point="train_churn.py",
        source_dir=HERE,
        inputs={
            "train": "store://demo/churn/train",
            "validation": "store://demo/churn/validation",
        },
        hyperparameters={"num_round": 60, "max_depth": 4, "eta": 0.2},
        metric_definitions=[
            {"name": "validation:auc", "regex": r"validation-auc=([0-9.]+)"},
            {"name": "train:auc", "regex": r"train-auc=([0-9.]+)"},
        ],
        max_runtime_s=600,
    )
    with console.status(f"training job {job.name} running…") as status:
        desc = job.wait(
            on_update=lambda d: status.update(f"training job {job.name}: {d['secondary_status']}")
        )
    _show(job.name, desc["training_job_status"], desc.get("failure_reason"))
    if desc["training_job_status"] != "Completed":
        return 1
    for metric in desc["final_metric_data_list"]:
        console.print(f"  {metric['metric_name']:<16} {metric['value']:.4f}")
    console.print(f"  model artifact   {desc['model_artifacts']['s3_model_artifacts']}")

    console.rule("built-in XGBoost")
    xgb = Estimator(
        "xgboost",
        hyperparameters={
            "num_round": 200,
            "early_stopping_rounds": 10,
            "objective": "binary:logistic",
            "eval_metric": "auc",
            "max_depth": 4,
            "eta": 0.1,
            "subsample": 0.8,
        },
        base_job_name="churn-xgboost",
        session=session,
    )
    builtin = xgb.fit(
        {
            "train": TrainingInput("store://demo/churn/train", "text/csv"),
            "validation": TrainingInput("store://demo/churn/validation", "text/csv"),
        }
    )
    final = builtin.final_metrics()
    console.print(
        f"[green]Completed[/] {builtin.name}: validation AUC {final['validation:auc']:.4f}, "
        f"model {xgb.model_data}"
    )

    console.rule("tune: automatic model tuning (Bayesian, 8 trials, 2 at a time)")
    tuner = Tuner(
        xgb,
        "validation:auc",
        {
            "eta": ContinuousParameter(0.02, 0.4, "Logarithmic"),
            "max_depth": IntegerParameter(2, 7),
            "min_child_weight": ContinuousParameter(0.5, 20, "Logarithmic"),
        },
        max_jobs=8,
        max_parallel_jobs=2,
        random_seed=7,
        base_tuning_job_name="churn-tuning",
    )
    tuning = tuner.fit(
        {
            "train": TrainingInput("store://demo/churn/train", "text/csv"),
            "validation": TrainingInput("store://demo/churn/validation", "text/csv"),
        }
    )
    best = tuning.best_training_job() or builtin
    best_auc = best.final_metrics()["validation:auc"]
    console.print(
        f"best trial [bold]{best.name}[/]: validation AUC {best_auc:.4f} "
        f"(hand-picked settings: {final['validation:auc']:.4f})"
    )

    console.rule("evaluation of the best model on the held-out test split")
    with console.status("evaluation job scoring the test split…"):
        evaluation = best.evaluate("store://demo/churn/test")
    console.print(metrics_table(evaluation))
    cm = evaluation["confusion_matrix"]
    labels = ["no churn" if float(x) == 0 else "churn" for x in cm["labels"]]
    console.print(
        "confusion matrix (rows: actual, columns: predicted)\n"
        f"  {'':>10} {labels[0]:>10} {labels[1]:>10}\n"
        + "\n".join(
            f"  {labels[i]:>10} {row[0]:>10} {row[1]:>10}" for i, row in enumerate(cm["matrix"])
        )
    )
    store_root = session.api.get("/info")["store_url"]
    report = evaluation["report_url"]
    local_report = f"{store_root}/{report.removeprefix('store://')}"

    console.rule("where to look")
    console.print(
        f"  evaluation report (open in a browser)  {local_report}\n"
        f"  sageforge jobs list                      every job on {session.url}\n"
        f"  sageforge jobs describe {best.name}\n"
        f"  sageforge tuning describe {tuning.name}         the leaderboard\n"
        f"  sageforge jobs logs {job.name}\n"
        f"  job folders and logs under {session.settings.jobs_dir}\n"
        "  sageforge server stop                    stops the background server\n"
        "(run these inside the virtualenv: source .venv/bin/activate)"
    )
    return 0


def _show(name: str, status: str, reason: str | None) -> None:
    colour = "green" if status == "Completed" else "red"
    console.print(f"[{colour}]{status}[/] {name}" + (f": {reason}" if reason else ""))


if __name__ == "__main__":
    sys.exit(main())
