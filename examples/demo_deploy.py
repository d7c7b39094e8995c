"""The demo's deployment step: serve the tuned model and score the test split through it.

`run(session, console, training_job_name, test_data_url)` deploys the model of
a finished training job (built-in XGBoost) to a real-time endpoint with data
capture on, sends every held-out test row through the endpoint (label column
stripped, in mini-batches of CSV rows, as a client would), computes the
confusion matrix and metrics from the endpoint's answers, and leaves the
endpoint running with its URLs printed. `examples/demo.py` calls it.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from rich.console import Console

from sageforge.sdk import DataCaptureConfig, Session

BATCH_ROWS = 100


def _test_rows(session: Session, url: str) -> tuple[np.ndarray, list[str]]:
    """Labels and feature lines of every CSV under the test prefix (label first, no header)."""
    labels: list[float] = []
    lines: list[str] = []
    prefix = url.removeprefix("store://").rstrip("/")
    for obj in session.list_store(prefix):
        if obj["key"].endswith("/"):
            continue
        for line in session.read_bytes(obj["url"]).decode().splitlines():
            if line.strip():
                label, _, features = line.partition(",")
                labels.append(float(label))
                lines.append(features)
    return np.asarray(labels), lines


def run(
    session: Session, console: Console, training_job_name: str, test_data_url: str
) -> dict[str, Any]:
    """Deploy, score the test split through the endpoint, print what the endpoint got right."""
    from sageforge.cli.evaluate import metrics_table
    from sageforge.train.evaluation import evaluate

    job = session.training_job(training_job_name)
    endpoint_name = f"churn-{training_job_name}"[:63].rstrip("-")
    with console.status(f"deploying {training_job_name} to endpoint {endpoint_name}…"):
        started = time.monotonic()
        predictor = job.deploy(
            instance_count=1,
            endpoint_name=endpoint_name,
            data_capture=DataCaptureConfig(f"store://demo/capture/{endpoint_name}"),
        )
        desc = predictor.describe()
    console.print(
        f"[green]InService[/] {endpoint_name} in {time.monotonic() - started:.1f}s: "
        f"{desc['endpoint_url']}/invocations"
    )

    y, lines = _test_rows(session, test_data_url)
    scores: list[float] = []
    started = time.monotonic()
    with console.status(f"sending {len(lines)} test rows through the endpoint…"):
        for i in range(0, len(lines), BATCH_ROWS):
            body = "\n".join(lines[i : i + BATCH_ROWS]).encode()
            answer = predictor.predict(body, content_type="text/csv")
            scores.extend(np.atleast_1d(answer).tolist())
    elapsed = time.monotonic() - started
    console.print(f"{len(scores)} answers in {elapsed:.2f}s from variant "
                  f"{predictor.invoke(lines[0].encode()).variant}")  # fmt: skip

    result = evaluate(y, np.asarray(scores), "binary")
    console.print(metrics_table(result))
    cm = result["confusion_matrix"]
    names = ["no churn" if float(x) == 0 else "churn" for x in cm["labels"]]
    console.print(
        "confusion matrix from the endpoint's answers (rows: actual, columns: predicted)\n"
        f"  {'':>10} {names[0]:>10} {names[1]:>10}\n"
        + "\n".join(
            f"  {names[i]:>10} {row[0]:>10} {row[1]:>10}" for i, row in enumerate(cm["matrix"])
        )
    )
    stats = predictor.describe()["metrics"]
    for variant, s in stats.items():
        console.print(
            f"  variant {variant}: {s['invocations']} invocations, model latency p50 "
            f"{s['model_latency_ms']['p50']} ms, p99 {s['model_latency_ms']['p99']} ms"
        )
    console.print(
        f"  endpoint URL   {desc['endpoint_url']}/invocations\n"
        f"  runtime route  {session.url}/endpoints/{endpoint_name}/invocations\n"
        f"  Studio charts  {session.url}/api/v1/endpoints/{endpoint_name}/metrics\n"
        f"  Prometheus     {session.url}/metrics\n"
        f"  try it:        sageforge endpoints invoke {endpoint_name} --body '{lines[0]}'\n"
        f"  remove it:     sageforge endpoints delete {endpoint_name}"
    )
    predictor.close()
    return {
        "endpoint_name": endpoint_name,
        "endpoint_url": desc["endpoint_url"],
        "rows": len(scores),
        "evaluation": result,
    }
