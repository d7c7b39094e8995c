"""Data preparation, as a SageMaker user does it in Data Wrangler — `run(session, console)`.

1. imports the bundled untidy churn table as a dataset;
2. runs the Data Quality and Insights report and prints its warnings (the
   leaking column among them) and where the HTML report is;
3. builds a flow that fixes what the report found, saves it (the server checks
   it on a sample), and exports train/validation/test in XGBoost's layout;
4. trains the built-in XGBoost on those splits.

`examples/demo.py` calls `run`; `python examples/demo_data.py` runs it alone.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

import sageforge
from sageforge.core.errors import ResourceInUse
from sageforge.datasets import sample_path

DATASET = "untidy-churn"
PREPARED = "store://demo/untidy-churn/prepared"


def run(session: sageforge.Session, console: Console) -> dict[str, Any]:
    """Import, report, build and export the flow, train; returns the URLs it produced."""
    console.rule("prepare: import the raw table")
    try:
        ds = session.create_dataset(DATASET, sample_path("untidy_churn"))
    except ResourceInUse:
        ds = session.dataset(DATASET)
    console.print(f"dataset {DATASET}: {ds['row_count']:,} rows × {len(ds['schema'])} columns")

    console.rule("prepare: Data Quality and Insights report")
    with console.status("insights report job running…"):
        report = session.insights_report(DATASET, target="churn")
    for w in report.warnings[:8]:
        colour = {"high": "red", "medium": "yellow"}.get(w["severity"], "dim")
        console.print(f"  [{colour}]{w['severity']:>6}[/] {w['message']}")
    console.print(f"report: {report.local_html or report.html_url}")
    leaks = [
        x["column"] for x in report["leakage"] if x["verdict"] == "leak" and x["column"] != "churn"
    ]

    console.rule("prepare: a flow of transforms")
    flow = (
        sageforge.Flow.from_dataset(DATASET, target="churn", session=session)
        .drop_columns(["customer_id", *leaks])
        .strip(["churn", "contract", "internet_service", "payment_method"])
        .lower(["churn", "internet_service"])
        .drop_duplicates()
        .map_values("churn", {"yes": 1, "no": 0})
        .impute(["tenure_months", "monthly_charges"], strategy="median")
        .fill_missing(["payment_method"], "unknown")
        .handle_outliers(["total_charges"], method="iqr", action="clip")
        .ordinal_encode(
            ["contract"], order={"contract": ["month-to-month", "one-year", "two-year"]}
        )
        .one_hot_encode(["internet_service", "payment_method", "paperless_billing"])
        .move_column("churn", "start")
        .split([0.7, 0.2, 0.1], method="stratified", stratify_column="churn")
    )
    if leaks:
        console.print(f"dropping {', '.join(leaks)}: the report flagged it as leaking the target")
    preview = flow.preview(n=5)
    console.print(f"preview of the flow's output ({preview.width} columns, the first 8 shown):")
    console.print(preview.select(preview.columns[:8]))
    saved = flow.save("untidy-churn-prep")
    console.print(f"saved flow untidy-churn-prep v{saved['version']} ({len(flow)} steps)")
    with console.status("export job running the flow over every row…"):
        job = flow.export(PREPARED, format="xgboost", wait=True)
    outputs = flow.outputs
    for split, url in outputs.items():
        console.print(f"  {split:<10} {url}")

    console.rule("train: built-in XGBoost on the prepared splits")
    training = session.create_training_job(
        algorithm="xgboost",
        base_name="untidy-churn-xgboost",
        inputs={"train": outputs["train"], "validation": outputs["validation"]},
        hyperparameters={
            "num_round": 100,
            "early_stopping_rounds": 10,
            "max_depth": 4,
            "eta": 0.1,
            "objective": "binary:logistic",
            "eval_metric": "auc",
        },
    )
    with console.status(f"training job {training.name} running…"):
        desc = training.wait()
    auc = (
        training.final_metrics().get("validation:auc")
        if desc["training_job_status"] == "Completed"
        else None
    )
    console.print(f"{desc['training_job_status']} {training.name}: validation AUC {auc}")
    return {
        "dataset": DATASET,
        "report_url": report.html_url,
        "report_file": report.local_html,
        "leaking_columns": leaks,
        "flow": "untidy-churn-prep",
        "export_job": job.name,
        "splits": outputs,
        "training_job": training.name,
        "validation_auc": auc,
    }


if __name__ == "__main__":
    console = Console()
    with console.status("connecting to the sageforge server…"):
        session = sageforge.Session()
    console.print(run(session, console))
