"""The end-to-end demo that `make demo` runs: SageMaker's lifecycle on bundled data.

1. prepare (examples/demo_data.py): import the untidy churn table, read its
   Data Quality and Insights report (which flags a leaking column), build a
   flow that cleans it, export train/validation/test in XGBoost's layout with a
   processing job, and train the built-in XGBoost once;
2. train your own script (script mode) on the prepared splits;
3. tune the built-in XGBoost: a Bayesian tuning job whose trials are training jobs;
4. evaluate the best trial on the held-out test split (metrics, confusion
   matrix, HTML report);
5. deploy it (examples/demo_deploy.py): a real-time endpoint with data
   capture, the test rows sent through it, metrics from its answers;
6. print where to look next.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

import sageforge
from sageforge.cli.evaluate import metrics_table
from sageforge.sdk import (
    ContinuousParameter,
    Estimator,
    IntegerParameter,
    Session,
    TrainingInput,
    Tuner,
)

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
console = Console()


def main() -> int:
    import demo_data
    import demo_deploy

    with console.status("connecting to the sageforge server (starting one if needed)…"):
        session = Session()
    console.print(f"[bold]sageforge {sageforge.__version__}[/] server at {session.url}")

    prepared = demo_data.run(session, console)
    splits = prepared["splits"]
    channels = {
        "train": TrainingInput(splits["train"], "text/csv"),
        "validation": TrainingInput(splits["validation"], "text/csv"),
    }

    console.rule("train: your own script (script mode)")
    job = session.create_training_job(
        entry_point="train_churn.py",
        source_dir=HERE,
        inputs={"train": splits["train"], "validation": splits["validation"]},
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

    console.rule("tune: automatic model tuning (Bayesian, 8 trials, 2 at a time)")
    xgb = Estimator(
        "xgboost",
        hyperparameters={
            "num_round": 200,
            "early_stopping_rounds": 10,
            "objective": "binary:logistic",
            "eval_metric": "auc",
            "subsample": 0.8,
        },
        session=session,
    )
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
    tuning = tuner.fit(channels)
    best = tuning.best_training_job()
    if best is None:
        _show(tuning.name, "Failed", tuning.describe().get("failure_reason"))
        return 1
    best_auc = best.final_metrics()["validation:auc"]
    console.print(
        f"best trial [bold]{best.name}[/]: validation AUC {best_auc:.4f} "
        f"(hand-picked settings in step 1: {prepared['validation_auc']:.4f})"
    )

    console.rule("evaluate the best model on the held-out test split")
    with console.status("evaluation job scoring the test split…"):
        evaluation = best.evaluate(splits["test"])
    console.print(metrics_table(evaluation))
    store_root = session.api.get("/info")["store_url"]
    report = f"{store_root}/{evaluation['report_url'].removeprefix('store://')}"

    console.rule("deploy the best model to a real-time endpoint")
    deployed = demo_deploy.run(session, console, best.name, splits["test"])

    console.rule("where to look")
    endpoint_name = deployed.get("endpoint_name", "")
    console.print(
        f"  Studio                 {session.url}/  (open it in a browser)\n"
        f"  the endpoint in Studio {session.url}/endpoints/{endpoint_name}  (test form, charts)\n"
        f"  shareable predictions  {session.url}/predict/{endpoint_name}\n"
        f"  tuning in Studio       {session.url}/tuning/{tuning.name}\n"
        f"  insights report        {prepared.get('report_file') or prepared['report_url']}\n"
        f"  evaluation report      {report}\n"
        f"  endpoint               {deployed.get('endpoint_url', '')}\n"
        f"  sageforge jobs list                     every job on {session.url}\n"
        f"  sageforge tuning describe {tuning.name}\n"
        f"  sageforge endpoints describe {endpoint_name}\n"
        f"  job folders and logs under {session.settings.jobs_dir}\n"
        "  sageforge server stop                   stops the background server and its endpoints\n"
        "(run these inside the virtualenv: source .venv/bin/activate)"
    )
    return 0


def _show(name: str, status: str, reason: str | None) -> None:
    colour = "green" if status == "Completed" else "red"
    console.print(f"[{colour}]{status}[/] {name}" + (f": {reason}" if reason else ""))


if __name__ == "__main__":
    sys.exit(main())
