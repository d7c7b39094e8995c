"""SageMaker SDK / boto3 through the compat layer, against the same work through sageforge's SDK.

One local server, one small built-in XGBoost task (4,000 x 10 CSV rows, label first,
60 rounds), measured both ways in one run:

- fit: the SageMaker SDK's `Estimator.fit` (image from `image_uris.retrieve("xgboost",
  region, "1.7-1")`, default arguments, so its log tailing and polling are included), from
  the call until it returns, in the compat virtualenv; against `sageforge.Estimator(
  "xgboost").fit` on the same channels. The SDK sleeps between polls (`time.sleep` in its
  wait loops); the total is printed apart, since it is the SDK's choice, not our cost.
- invoke: p50 of a single-row CSV `invoke_endpoint` round trip with boto3's
  `sagemaker-runtime` client (SigV4-signed, through the AWS port), against sageforge's
  `Predictor.invoke` on the native runtime route, both on an endpoint of the model just
  trained by that side.

The compat side runs in `.venv-compat` (built on first use by the test set-up's builder,
`tests/compat/conftest.py`), with the environment `sageforge aws-env` prints.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np

ROWS = int(os.environ.get("BENCH_ROWS", "4000"))
FEATURES = 10
INVOCATIONS = int(os.environ.get("BENCH_INVOCATIONS", "300"))
RUNS = int(os.environ.get("BENCH_RUNS", "2"))
HYPERPARAMETERS = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "max_depth": 4,
    "eta": 0.2,
    "num_round": 60,
}
REPO = Path(__file__).resolve().parents[1]

CLIENT = textwrap.dedent(
    """
    import json, statistics, sys, time
    import boto3, sagemaker
    from sagemaker.inputs import TrainingInput

    # Count the SDK's own polling sleeps (its wait loops call time.sleep).
    slept = []
    _sleep = time.sleep
    def counting_sleep(seconds):
        slept.append(seconds)
        _sleep(seconds)
    time.sleep = counting_sleep

    data_dir, row, invocations, runs, hps = sys.argv[1:6]
    role = "arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole-bench"
    sess = sagemaker.Session()
    bucket = sess.default_bucket()
    train = sess.upload_data(f"{data_dir}/train", bucket, "bench/train")
    validation = sess.upload_data(f"{data_dir}/validation", bucket, "bench/validation")
    container = sagemaker.image_uris.retrieve("xgboost", sess.boto_region_name, "1.7-1")
    out = {"fit_s": [], "fit_sleep_s": []}
    for _ in range(int(runs)):
        est = sagemaker.estimator.Estimator(
            container, role, instance_count=1, instance_type="ml.m5.xlarge",
            output_path=f"s3://{bucket}/bench/output", sagemaker_session=sess)
        est.set_hyperparameters(**json.loads(hps))
        slept.clear()
        t0 = time.perf_counter()
        est.fit({"train": TrainingInput(train, content_type="text/csv"),
                 "validation": TrainingInput(validation, content_type="text/csv")})
        out["fit_s"].append(time.perf_counter() - t0)
        out["fit_sleep_s"].append(sum(slept))

    slept.clear()
    t0 = time.perf_counter()
    predictor = est.deploy(initial_instance_count=1, instance_type="ml.m5.xlarge")
    out["deploy_s"], out["deploy_sleep_s"] = time.perf_counter() - t0, sum(slept)
    runtime = boto3.client("sagemaker-runtime")
    latencies = []
    for i in range(int(invocations) + 20):
        t0 = time.perf_counter()
        body = runtime.invoke_endpoint(
            EndpointName=predictor.endpoint_name, ContentType="text/csv", Body=row
        )["Body"].read()
        if i >= 20:  # warm-up: connection, first predictions
            latencies.append(time.perf_counter() - t0)
    out["invoke_p50_ms"] = statistics.median(latencies) * 1000
    out["answer"] = body.decode()
    predictor.delete_model()
    predictor.delete_endpoint()
    print("RESULT " + json.dumps(out))
    """
)


def _compat_helpers() -> Any:
    """The compat venv builder and aws-env parser of the test set-up (one copy of that logic)."""
    spec = importlib.util.spec_from_file_location(
        "compat_conftest", REPO / "tests" / "compat" / "conftest.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def generate(folder: Path) -> str:
    """train/ and validation/ CSV folders; returns one feature row for invocations."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(ROWS, FEATURES))
    y = (X[:, 0] - 0.7 * X[:, 1] + 0.4 * X[:, 2] * X[:, 3] + rng.normal(0, 0.5, ROWS)) > 0
    data = np.column_stack([y.astype(float), X])
    cut = int(0.8 * ROWS)
    for name, part in (("train", data[:cut]), ("validation", data[cut:])):
        (folder / name).mkdir(parents=True)
        np.savetxt(folder / name / f"{name}.csv", part, delimiter=",", fmt="%.6g")
    return ",".join(f"{v:.6g}" for v in X[0])


def run_native(session: Any, data: Path, row: str) -> dict[str, Any]:
    from sageforge.sdk import Estimator, TrainingInput

    out: dict[str, Any] = {"fit_s": []}
    train = session.upload(data / "train", "bench-native/train")
    validation = session.upload(data / "validation", "bench-native/validation")
    for _ in range(RUNS):
        est = Estimator("xgboost", hyperparameters=HYPERPARAMETERS, session=session)
        t0 = time.perf_counter()
        job = est.fit(
            {
                "train": TrainingInput(train, "text/csv"),
                "validation": TrainingInput(validation, "text/csv"),
            },
            show_progress=False,
        )
        out["fit_s"].append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    predictor = job.deploy()
    out["deploy_s"] = time.perf_counter() - t0
    latencies = []
    body = row.encode()
    for i in range(INVOCATIONS + 20):
        t0 = time.perf_counter()
        answer = predictor.invoke(body, "text/csv")
        if i >= 20:
            latencies.append(time.perf_counter() - t0)
    out["invoke_p50_ms"] = statistics.median(latencies) * 1000
    out["answer"] = answer.body.decode()
    predictor.delete_endpoint()
    predictor.close()
    return out


def run_compat(
    python: Path, env: dict[str, str], data: Path, row: str, cwd: Path
) -> dict[str, Any]:
    script = cwd / "sagemaker_client.py"
    script.write_text(CLIENT)
    args = [str(data), row, str(INVOCATIONS), str(RUNS), json.dumps(HYPERPARAMETERS)]
    proc = subprocess.run(
        [str(python), str(script), *args], env=env, cwd=cwd, capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-5000:] + proc.stderr[-10000:])
        raise SystemExit(f"the SageMaker SDK client failed (exit {proc.returncode})")
    # Not startswith: the SDK's progress dots ("---!") may end without a newline.
    lines = [ln for ln in proc.stdout.splitlines() if "RESULT {" in ln]
    if not lines:
        sys.stderr.write(proc.stdout[-5000:] + proc.stderr[-10000:])
        raise SystemExit("the SageMaker SDK client printed no RESULT line")
    return dict(json.loads(lines[-1].split("RESULT ", 1)[1]))


def main() -> None:
    helpers = _compat_helpers()
    python = helpers.ensure_compat_venv(print)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        row = generate(tmpdir / "data")
        os.environ["SAGEFORGE_HOME"] = str(tmpdir / "home")
        os.environ.pop("SAGEFORGE_URL", None)
        from sageforge.sdk import Session
        from sageforge.sdk._local_server import stop_server

        session = Session()
        try:
            exports = helpers.aws_env_exports(session.settings.home)
            user = helpers.AwsServer(session.settings.home, session.url, "", exports)
            env = helpers.user_env(user, tmpdir / "user-home")
            compat = run_compat(python, env, tmpdir / "data", row, tmpdir)
            native = run_native(session, tmpdir / "data", row)
        finally:
            session.close()
            stop_server(session.settings)

    cfit, nfit = statistics.median(compat["fit_s"]), statistics.median(native["fit_s"])
    csleep = statistics.median(compat["fit_sleep_s"])
    print(f"SageMaker SDK Estimator.fit   median {cfit:.2f}s over {RUNS} run(s)")
    print(
        f"  of which the SDK slept {csleep:.2f}s in its wait loop (the job runs meanwhile;"
        " the SDK looks only after each sleep, so a fast job still costs whole sleeps)"
    )
    print(f"sageforge Estimator.fit       median {nfit:.2f}s over {RUNS} run(s)")
    print(
        f"deploy: SageMaker SDK {compat['deploy_s']:.2f}s (sleeps {compat['deploy_sleep_s']:.2f}s),"
        f" sageforge {native['deploy_s']:.2f}s"
    )
    print(
        f"invoke p50 over {INVOCATIONS}: boto3 invoke_endpoint {compat['invoke_p50_ms']:.2f} ms,"
        f" sageforge Predictor {native['invoke_p50_ms']:.2f} ms"
    )
    assert compat["answer"].strip() and native["answer"].strip()
    print(f"RESULT compat_fit_s {cfit:.3f}")
    print(f"RESULT compat_fit_sleep_s {csleep:.3f}")
    print(f"RESULT native_fit_s {nfit:.3f}")
    print(f"RESULT compat_invoke_p50_ms {compat['invoke_p50_ms']:.3f}")
    print(f"RESULT native_invoke_p50_ms {native['invoke_p50_ms']:.3f}")


if __name__ == "__main__":
    main()
