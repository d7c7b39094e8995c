"""Data preparation through a real server: import, insights report, flow, export, train."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import sageforge
from sageforge.core.errors import ResourceInUse, ResourceNotFound, ValidationError
from sageforge.datasets import sample_path
from sageforge.sdk import Session

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:.*Unknown file format.*:UserWarning"),
]


def churn_flow(session: Session, dataset: str) -> sageforge.Flow:
    return (
        sageforge.Flow.from_dataset(dataset, target="churn", session=session)
        .drop_columns(["customer_id", "cancellation_fee"])
        .strip(["churn", "contract", "internet_service"])
        .lower(["churn", "internet_service"])
        .drop_duplicates()
        .map_values("churn", {"yes": 1, "no": 0})
        .impute(["tenure_months", "monthly_charges"])
        .fill_missing(["payment_method"], "unknown")
        .clip_outliers(["total_charges"])
        .ordinal_encode(["contract"])
        .one_hot_encode(["internet_service", "payment_method", "paperless_billing"])
        .move_column("churn", "start")
        .split([0.7, 0.2, 0.1], method="stratified", stratify_column="churn")
    )


def test_import_report_flow_export_and_train(session: Session, tmp_path: Path) -> None:
    ds = session.create_dataset("untidy", sample_path("untidy_churn"))
    assert ds["row_count"] == 5150 and ds["format"] == "csv"
    assert {c["name"]: c["type"] for c in ds["schema"]}["tenure_months"] == "Int64"
    with pytest.raises(ResourceInUse):
        session.create_dataset("untidy", sample_path("untidy_churn"))
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(ValidationError) as err:
        session.create_dataset("ragged", ragged)
    assert "ragged.csv, line 3, column 3" in err.value.message
    assert session.dataset_sample("untidy", size=5).shape == (5, 12)

    report = session.insights_report("untidy", target="churn")
    assert report["summary"]["duplicate_rows"] == 150
    leak = report.warnings[0]
    assert leak["kind"] == "leakage" and leak["column"] == "cancellation_fee"
    assert "likely target leakage" in leak["message"]
    assert report.local_html and "plotly" in Path(report.local_html).read_text()[:20000].lower()

    bad = {"source": {"dataset": "untidy"}, "steps": [
        {"type": "format_string", "params": {"columns": ["contract"], "operation": "strip"}},
        {"type": "impute", "params": {"columns": ["tenure"], "strategy": "median"}},
    ]}  # fmt: skip
    with pytest.raises(ValidationError) as err:
        session.save_flow("bad-flow", bad)
    assert err.value.field == "steps[1].params.columns"
    assert err.value.message.startswith("step 1 (impute): no column 'tenure'")
    with pytest.raises(ResourceNotFound):
        session.describe_flow("bad-flow")

    flow = churn_flow(session, "untidy")
    assert flow.preview(step=4, n=3).shape[0] == 3
    job = flow.export("store://prepared/untidy", format="xgboost")
    desc = job.wait(timeout=120)
    assert desc["processing_job_status"] == "Completed", desc["failure_reason"]
    fitted = json.loads(session.read_bytes("store://prepared/untidy/flow.json"))
    counts = fitted["fitted"]["split_counts"]
    assert counts == {"train": 3500, "validation": 1000, "test": 500}
    train_csv = session.read_bytes("store://prepared/untidy/train/part-00000.csv").decode()
    first = train_csv.splitlines()[0].split(",")
    assert first[0] in ("0", "1")  # label first, no header
    assert session.describe_flow(flow.name or "")["fitted"]

    saved = session.flow(flow.name or "")
    record = session.dataset_sample("untidy", size=1).row(0, named=True)
    out = saved.apply_record({k: v for k, v in record.items() if k != "churn"})
    assert out is not None and len(out) == len(first) - 1  # every feature, no label

    training = session.create_training_job(
        algorithm="xgboost",
        inputs={"train": flow.outputs["train"], "validation": flow.outputs["validation"]},
        hyperparameters={"num_round": 30, "objective": "binary:logistic", "eval_metric": "auc"},
    )
    tdesc = training.wait(120)
    assert tdesc["training_job_status"] == "Completed", tdesc["failure_reason"]
    assert training.final_metrics()["validation:auc"] > 0.75

    with pytest.raises(ResourceInUse, match="reads dataset"):
        session.delete_dataset("untidy")


def test_api_errors_name_the_field(server, session: Session) -> None:
    base = f"{server.url}/api/v1"
    resp = httpx.post(f"{base}/datasets", json={"dataset_name": "bad name", "source_url": "/nope"})
    assert resp.status_code == 400 and resp.json()["error"]["field"] == "dataset_name"
    resp = httpx.post(
        f"{base}/datasets",
        json={
            "dataset_name": "x",
            "source_url": "/nope.csv",
            "read_options": {"encoding": "klingon"},
        },
    )
    assert resp.status_code == 400 and resp.json()["error"]["field"] == "read_options.encoding"
    assert httpx.get(f"{base}/datasets/nope").status_code == 404
    doc = {"source": {"url": str(sample_path("churn"))}, "steps": [
        {"type": "custom_python", "params": {"expression": "pl.col('tenure_months') * 2", "output_column": "t2"}}]}  # fmt: skip
    resp = httpx.post(f"{base}/flows/preview", json={"document": doc})
    assert resp.status_code == 400 and "does not run" in resp.json()["error"]["message"]
    check = httpx.post(f"{base}/flows/validate", json={"document": doc}).json()
    assert check["valid"] and "custom Python" in check["warnings"][0]
    resp = httpx.post(f"{base}/flows/nope/export", json={})
    assert resp.status_code == 404


def cli(server, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SAGEFORGE_HOME": str(server.home),
        "SAGEFORGE_URL": server.url,
        "COLUMNS": "200",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "sageforge.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_cli_report_and_flow_run(server, tmp_path: Path) -> None:
    out = cli(
        server, "data", "report", str(sample_path("untidy_churn")), "--target", "churn"
    ).stdout
    assert "column cancellation_fee is" in out and "likely target leakage" in out
    assert "report: store://reports/" in out
    cli(
        server,
        "data",
        "import",
        str(sample_path("churn")),
        "--name",
        "churn-cli",
        "--type",
        "senior_citizen=string",
    )
    assert "churn-cli" in cli(server, "data", "list").stdout
    assert "senior_citizen" in cli(server, "data", "describe", "churn-cli").stdout

    data = tmp_path / "raw.csv"
    data.write_bytes(sample_path("churn").read_bytes())
    flow = {
        "name": "cli-flow",
        "target": "churn",
        "source": {"url": "raw.csv"},  # relative to the flow file
        "steps": [
            {"type": "drop_columns", "params": {"columns": ["customer_id"]}},
            {"type": "map_values", "params": {"column": "churn", "mapping": {"yes": 1, "no": 0}}},
            {
                "type": "one_hot_encode",
                "params": {
                    "columns": [
                        "contract",
                        "internet_service",
                        "payment_method",
                        "paperless_billing",
                    ]
                },
            },
            {"type": "split", "params": {"fractions": [0.8, 0.2]}},
        ],
        "destinations": [{"url": "store://cli/prepared", "format": "xgboost"}],
    }
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(flow))
    assert "valid" in cli(server, "flow", "validate", str(path)).stdout
    preview = cli(server, "flow", "preview", str(path), "--step", "1", "-n", "3").stdout
    assert "after step 1 (map_values)" in preview
    ran = cli(server, "flow", "run", str(path)).stdout
    assert "Completed" in ran and "store://cli/prepared/train" in ran and "4,000" in ran
    assert "cli-flow" in cli(server, "flow", "list").stdout

    flow["steps"][1]["params"]["column"] = "churned"
    path.write_text(json.dumps(flow))
    proc = cli(server, "flow", "validate", str(path), check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(
        "error: steps[1].params.column: step 1 (map_values): no column 'churned'"
    )
