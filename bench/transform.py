"""Batch transform over 1,000,000 rows against `Booster.inplace_predict` on the same rows.

Data: 1,000,000 x 28 generated float32 feature rows (no label, no header) as
four CSV files in the store; the model is an XGBoost Booster of 100 trees of
depth 6 (binary:logistic). Three measurements, interleaved run by run so that
a busy machine slows them alike; medians are reported, with the load average:

- in-memory: `Booster.inplace_predict` on the same rows already in memory as a
  float32 matrix, on every core — the issue's reference: nothing read, parsed,
  formatted or written, no process started.
- plain script: `python plain.py` — for each file, pyarrow reads the CSV, the
  Booster scores it with `inplace_predict` on every core, pyarrow writes the
  scores to `<file>.out`; wall time of the process (its imports included).
- sageforge: a transform job (built-in XGBoost model, SplitType Line,
  MultiRecord, MaxPayloadInMB 6, AssembleWith Line) through a real local
  server, from the create call until the job is Completed (includes launching
  the job process, its imports, loading the model, reading, parsing, scoring,
  formatting and atomically writing every `<file>.out`). The phases come from
  the job's own log.

- sageforge over Parquet: the same job over the same rows written as four
  Parquet files (ContentType application/x-parquet). Parsing 305 MB of CSV
  costs about as much CPU as scoring it, so on two cores the CSV job cannot
  reach 0.7 of a scorer that parses nothing; the Parquet job shows what the
  job itself (process, model load, mini-batches, scoring, writing) costs.

Every job's outputs are checked bit for bit against the in-memory scores.
Target (issue 7): the job's rows/s >= 0.7 x in-memory `inplace_predict`'s
(`RESULT transform_ratio`, the CSV job); the ratio to the plain script and the
Parquet job's ratio (`RESULT transform_ratio_parquet`) are printed after it.

    .venv/bin/python bench/transform.py   # BENCH_ROWS, BENCH_RUNS (default 3) to change
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
FILES = 4
FEATURES = 28
RUNS = int(os.environ.get("BENCH_RUNS", "3"))

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


def generate(folder: Path, parquet_folder: Path) -> np.ndarray:
    """Write the CSV and the Parquet files; returns the same rows as one float32 matrix."""
    import pyarrow as pa
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(42)
    per = ROWS // FILES
    parts = []
    for i in range(FILES):
        X = rng.normal(size=(per, FEATURES)).astype(np.float32)
        table = pa.table(
            [pa.array(X[:, j]) for j in range(FEATURES)], names=[f"c{j}" for j in range(FEATURES)]
        )
        pv.write_csv(
            table, folder / f"part-{i}.csv", write_options=pv.WriteOptions(include_header=False)
        )
        pq.write_table(table, parquet_folder / f"part-{i}.parquet")
        parts.append(X)
    return np.concatenate(parts)


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


def read_scores(path: Path) -> np.ndarray:
    import pyarrow.csv as pv

    table = pv.read_csv(path, read_options=pv.ReadOptions(autogenerate_column_names=True))
    return table.column(0).to_numpy().astype(np.float32)


def job_phases(log: Path) -> tuple[float, float, float]:
    """(model load s, MB of input read meanwhile, transform s after the load), from the job's log."""
    text = log.read_text()
    load = re.search(r"Model loaded in ([0-9.]+)s \(([0-9]+) MB", text)
    work = re.search(r"in ([0-9.]+)s after the model loaded", text)
    if load is None or work is None:
        return math.nan, math.nan, math.nan
    return float(load.group(1)), float(load.group(2)), float(work.group(1))


_CSV, _PARQUET = "text/csv", "application/x-parquet"


def run_job(
    api: httpx.Client, home: Path, name: str, prefix: str, content_type: str
) -> tuple[float, dict[str, Any], np.ndarray]:
    """One transform job from create to Completed: (seconds, its description, its scores)."""
    body = {
        "transform_job_name": name,
        "model_name": "bench",
        "batch_strategy": "MultiRecord",
        "max_payload_in_mb": 6,
        "transform_input": {"data_source": {"s3_data_source": {"s3_uri": f"store://bench/{prefix}"}},
                            "content_type": content_type,
                            "split_type": "Line" if content_type == _CSV else "None"},
        "transform_output": {"s3_output_path": f"store://bench/output-{name}", "assemble_with": "Line"},
    }  # fmt: skip
    t = time.perf_counter()
    api.post("/transform-jobs", json=body).raise_for_status()
    while True:
        desc = api.get(f"/transform-jobs/{name}/wait", params={"timeout": 30}).json()
        if desc["transform_job_status"] not in ("InProgress", "Stopping"):
            break
    seconds = time.perf_counter() - t
    assert desc["transform_job_status"] == "Completed", desc["failure_reason"]
    assert desc["outputs"]["records"] == ROWS, desc["outputs"]
    out = home / "store" / "bench" / f"output-{name}"
    inputs = sorted((home / "store" / "bench" / prefix).iterdir())
    got = np.concatenate([read_scores(out / (p.name + ".out")) for p in inputs])
    return seconds, desc, got


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def runs(xs: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in xs)


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="sageforge-bench-transform-"))
    server = None
    try:
        home = tmp / "home"
        data = home / "store" / "bench" / "input"
        data.mkdir(parents=True)
        parquet_data = home / "store" / "bench" / "input-parquet"
        parquet_data.mkdir(parents=True)
        print(
            f"generating {ROWS:,} x {FEATURES} rows in {FILES} CSV and Parquet files …", flush=True
        )
        X = generate(data, parquet_data)
        model = tmp / "xgboost-model.ubj"
        train(model)
        files = sorted(str(p) for p in data.iterdir())
        size_mb = sum(os.path.getsize(f) for f in files) / 1e6
        print(f"input: {size_mb:.0f} MB; model: 100 trees of depth 6; {os.cpu_count()} CPUs")

        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(str(model))
        expected = booster.inplace_predict(X)  # warm, and the scores every output must match

        (tmp / "plain.py").write_text(PLAIN)
        plain_out = tmp / "plain-out"
        plain_out.mkdir()
        server, url = start_server(home, tmp / "server.log")
        api = httpx.Client(base_url=f"{url}/api/v1", timeout=120, trust_env=False)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(model, arcname="xgboost-model")
        api.put("/store/bench/model/model.tar.gz", content=buf.getvalue()).raise_for_status()
        api.post("/models", json={"model_name": "bench", "primary_container": {
            "model_data_url": "store://bench/model/model.tar.gz", "algorithm_name": "xgboost"}}).raise_for_status()  # fmt: skip

        load_before = os.getloadavg()
        memory, baseline, ours, parquet, phases = [], [], [], [], []
        for run in range(RUNS):
            for _ in range(3):
                t = time.perf_counter()
                booster.inplace_predict(X)
                memory.append(time.perf_counter() - t)

            t = time.perf_counter()
            subprocess.run(
                [sys.executable, str(tmp / "plain.py"), str(model), str(plain_out), *files],
                check=True,
            )
            baseline.append(time.perf_counter() - t)

            t, desc, got = run_job(api, home, f"bench-transform-{run}", "input", _CSV)
            ours.append(t)
            phases.append(job_phases(home / "jobs" / "transform" / desc["transform_job_name"] / "logs" / "output.log"))  # fmt: skip
            assert np.array_equal(got, expected), f"run {run}: scores differ from inplace_predict"
            t, desc, got = run_job(api, home, f"bench-parquet-{run}", "input-parquet", _PARQUET)
            parquet.append(t)
            assert np.array_equal(got, expected), f"run {run}: Parquet scores differ"
        load_after = os.getloadavg()

        mem_s, base_s, our_s = median(memory), median(baseline), median(ours)
        parquet_s = median(parquet)
        load_s = median([p[0] for p in phases])
        ahead_mb = median([p[1] for p in phases])
        work_s = median([p[2] for p in phases])
        print(
            f"load average: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} before, "
            f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} after (1/5/15 min)"
        )
        print(f"medians of {RUNS} interleaved runs (each run's time in brackets):")
        print(f"  in-memory inplace_predict (rows already a float32 matrix): {mem_s:6.2f}s {ROWS / mem_s:>11,.0f} rows/s  [{runs(memory)}]")  # fmt: skip
        print(f"  plain script (pyarrow read + inplace_predict + write):     {base_s:6.2f}s {ROWS / base_s:>11,.0f} rows/s  [{runs(baseline)}]")  # fmt: skip
        print(f"  sageforge transform job (create -> Completed):             {our_s:6.2f}s {ROWS / our_s:>11,.0f} rows/s  [{runs(ours)}]")  # fmt: skip
        print(
            f"    job phases (medians, from its log): model load {load_s:.2f}s (with "
            f"{ahead_mb:.0f} MB of the input parsed meanwhile), transform after the load "
            f"{work_s:.2f}s, the rest (server, process start-up, first imports) "
            f"{our_s - load_s - work_s:.2f}s"
        )
        print(f"  sageforge transform job over Parquet:                      {parquet_s:6.2f}s {ROWS / parquet_s:>11,.0f} rows/s  [{runs(parquet)}]")  # fmt: skip
        print("outputs: every <file>.out holds the in-memory inplace_predict scores, bit for bit")
        print(f"vs in-memory inplace_predict: {mem_s / our_s:.3f} (target >= 0.7)")
        print(f"vs the plain script:          {base_s / our_s:.3f}")
        print(f"Parquet job vs in-memory:     {mem_s / parquet_s:.3f}")
        print(f"RESULT transform_ratio {mem_s / our_s:.3f}")
        print(f"RESULT transform_ratio_parquet {mem_s / parquet_s:.3f}")
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
