"""Batch transform over 1,000,000 rows against `Booster.inplace_predict` in a plain script.

Data: 1,000,000 x 28 generated feature rows (no label, no header) as four CSV
files in the store; the model is an XGBoost Booster of 100 trees of depth 6.

- baseline: `python plain.py` — for each file, pyarrow reads the CSV, the
  Booster scores it with `inplace_predict` on every core, pyarrow writes the
  scores to `<file>.out`; wall time of the process.
- sageforge: a transform job (built-in XGBoost model, SplitType Line,
  MultiRecord, MaxPayloadInMB 6, AssembleWith Line) through a real local
  server, from the create call until the job is Completed (includes the job
  process, loading the model, reading, scoring and atomically writing every
  `<file>.out`).

Both produce the same float32 scores (checked). Target (issue 7):
transform rows/s >= 0.7 x the baseline's (`RESULT transform_ratio`).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
import numpy as np

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
FILES = 4
FEATURES = 28
RUNS = int(os.environ.get("BENCH_RUNS", "2"))

PLAIN = textwrap.dedent(
    """
    import sys, numpy as np, pyarrow as pa, pyarrow.csv as pv, xgboost as xgb
    model, out_dir, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    booster = xgb.Booster()
    booster.load_model(model)
    for path in files:
        table = pv.read_csv(path, read_options=pv.ReadOptions(autogenerate_column_names=True))
        X = np.column_stack([c.to_numpy() for c in table.columns]).astype(np.float32)
        scores = booster.inplace_predict(X)
        out = f"{out_dir}/{path.rsplit('/', 1)[1]}.out"
        pv.write_csv(pa.table({"s": scores}), out, write_options=pv.WriteOptions(include_header=False))
    """
)


def generate(folder: Path) -> None:
    import pyarrow as pa
    import pyarrow.csv as pv

    rng = np.random.default_rng(42)
    per = ROWS // FILES
    for i in range(FILES):
        X = rng.normal(size=(per, FEATURES)).astype(np.float32)
        table = pa.table(
            [pa.array(X[:, j]) for j in range(FEATURES)], names=[f"c{j}" for j in range(FEATURES)]
        )
        pv.write_csv(
            table, folder / f"part-{i}.csv", write_options=pv.WriteOptions(include_header=False)
        )


def train(path: Path) -> None:
    import xgboost as xgb

    rng = np.random.default_rng(1)
    X = rng.normal(size=(20000, FEATURES)).astype(np.float32)
    y = (X[:, 0] - 0.8 * X[:, 1] + 0.5 * X[:, 2] * X[:, 3] + rng.normal(0, 1, len(X)) > 0).astype(
        np.float32
    )
    params = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "tree_method": "hist"}
    xgb.train(params, xgb.DMatrix(X, label=y), 100).save_model(str(path))


def start_server(home: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "SAGEFORGE_HOME": str(home)}
    env.pop("SAGEFORGE_URL", None)
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sageforge.cli", "server", "--port", "0", "--log-level", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=fh,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            url = json.loads((home / "server.json").read_text())["url"]
            if httpx.get(f"{url}/health", timeout=1, trust_env=False).status_code == 200:
                return proc, url
        except (FileNotFoundError, ValueError, KeyError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="sageforge-bench-transform-"))
    server = None
    try:
        home = tmp / "home"
        data = home / "store" / "bench" / "input"
        data.mkdir(parents=True)
        print(f"generating {ROWS:,} x {FEATURES} rows in {FILES} CSV files …", flush=True)
        generate(data)
        model = tmp / "xgboost-model.ubj"
        train(model)
        files = sorted(str(p) for p in data.iterdir())
        size_mb = sum(os.path.getsize(f) for f in files) / 1e6
        print(f"input: {size_mb:.0f} MB; model: 100 trees of depth 6")

        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(str(model))
        X = np.random.default_rng(3).normal(size=(ROWS, FEATURES)).astype(np.float32)
        t = time.perf_counter()
        booster.inplace_predict(X)
        print(
            f"(for reference: inplace_predict alone on in-memory rows: {ROWS / (time.perf_counter() - t):,.0f} rows/s)"
        )
        del X

        (tmp / "plain.py").write_text(PLAIN)
        plain_out = tmp / "plain-out"
        plain_out.mkdir()
        baseline = []
        for _ in range(RUNS):
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, str(tmp / "plain.py"), str(model), str(plain_out), *files],
                check=True,
            )
            baseline.append(time.perf_counter() - t)

        server, url = start_server(home, tmp / "server.log")
        api = httpx.Client(base_url=f"{url}/api/v1", timeout=120, trust_env=False)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(model, arcname="xgboost-model")
        api.put("/store/bench/model/model.tar.gz", content=buf.getvalue()).raise_for_status()
        api.post("/models", json={"model_name": "bench", "primary_container": {
            "model_data_url": "store://bench/model/model.tar.gz", "algorithm_name": "xgboost"}}).raise_for_status()  # fmt: skip
        ours = []
        for run in range(RUNS):
            name = f"bench-transform-{run}"
            body = {
                "transform_job_name": name,
                "model_name": "bench",
                "batch_strategy": "MultiRecord",
                "max_payload_in_mb": 6,
                "transform_input": {"data_source": {"s3_data_source": {"s3_uri": "store://bench/input"}},
                                    "content_type": "text/csv", "split_type": "Line"},
                "transform_output": {"s3_output_path": f"store://bench/output-{run}", "assemble_with": "Line"},
            }  # fmt: skip
            t = time.perf_counter()
            api.post("/transform-jobs", json=body).raise_for_status()
            while True:
                desc = api.get(f"/transform-jobs/{name}/wait", params={"timeout": 30}).json()
                if desc["transform_job_status"] not in ("InProgress", "Stopping"):
                    break
            ours.append(time.perf_counter() - t)
            assert desc["transform_job_status"] == "Completed", desc["failure_reason"]
            assert desc["outputs"]["records"] == ROWS, desc["outputs"]

        out = home / "store" / "bench" / "output-0"
        for f in files:
            name = Path(f).name + ".out"
            a = np.loadtxt(out / name, dtype=np.float32, max_rows=20000)
            b = np.loadtxt(plain_out / name, dtype=np.float32, max_rows=20000)
            assert np.array_equal(a, b), f"scores differ in {name}"
        base_s, our_s = min(baseline), min(ours)
        print(
            f"baseline (pyarrow + inplace_predict script): {base_s:.2f}s  {ROWS / base_s:,.0f} rows/s  (runs: {', '.join(f'{x:.2f}' for x in baseline)})"
        )
        print(
            f"sageforge transform job:                     {our_s:.2f}s  {ROWS / our_s:,.0f} rows/s  (runs: {', '.join(f'{x:.2f}' for x in ours)})"
        )
        print("outputs: same float32 scores in every <file>.out")
        print(f"RESULT transform_ratio {base_s / our_s:.3f}")
        api.close()
        return 0
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
