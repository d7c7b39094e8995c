"""Built-in XGBoost training job against the same training in a plain script.

Data: 1,000,000 x 28 generated rows (a HIGGS-like binary task), CSV with the
label first and no header — SageMaker's XGBoost layout. Both sides train 100
rounds of `hist` with the same parameters and all cores.

- baseline: `python plain.py` — read the CSV with pyarrow, build a
  QuantileDMatrix, `xgboost.train`, save the model; wall time of the process.
- sageforge: a training job with `algorithm_name=xgboost` through a real local
  server, from the create call until the SDK sees Completed (includes copying the
  channel, the job process, packing and uploading model.tar.gz).

Target (issue 4): median ratio <= 1.10.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
FEATURES = 28
ROUNDS = 100
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
PARAMS = {"objective": "binary:logistic", "eval_metric": "auc", "max_depth": "6", "eta": "0.1"}

PLAIN = textwrap.dedent(
    """
    import sys, numpy as np, pyarrow.csv as pv, xgboost as xgb
    path, out, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    table = pv.read_csv(path, read_options=pv.ReadOptions(autogenerate_column_names=True))
    data = np.column_stack([c.to_numpy() for c in table.columns]).astype(np.float32)
    dtrain = xgb.QuantileDMatrix(data[:, 1:], label=data[:, 0], max_bin=256)
    params = {"objective": "binary:logistic", "eval_metric": "auc", "max_depth": 6, "eta": 0.1,
              "tree_method": "hist"}
    booster = xgb.train(params, dtrain, rounds, evals=[(dtrain, "train")], verbose_eval=True)
    booster.save_model(out)
    """
)


def generate(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.csv as pv

    rng = np.random.default_rng(42)
    X = rng.normal(size=(ROWS, FEATURES)).astype(np.float32)
    logit = X[:, 0] - 0.8 * X[:, 1] + 0.5 * X[:, 2] * X[:, 3] + 0.3 * np.sin(3 * X[:, 4])
    y = (logit + rng.normal(0, 1, ROWS) > 0).astype(np.float32)
    cols = [pa.array(y)] + [pa.array(X[:, j]) for j in range(FEATURES)]
    table = pa.table(cols, names=[f"c{j}" for j in range(FEATURES + 1)])
    pv.write_csv(table, path, write_options=pv.WriteOptions(include_header=False))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        data_dir = tmpdir / "train"
        data_dir.mkdir()
        t0 = time.perf_counter()
        generate(data_dir / "train.csv")
        size_mb = (data_dir / "train.csv").stat().st_size / 1e6
        print(
            f"generated {ROWS:,} x {FEATURES} rows ({size_mb:.0f} MB CSV) in {time.perf_counter() - t0:.1f}s"
        )
        (tmpdir / "plain.py").write_text(PLAIN)

        os.environ["SAGEFORGE_HOME"] = str(tmpdir / "home")
        os.environ.pop("SAGEFORGE_URL", None)
        from sageforge.sdk import Session
        from sageforge.sdk._local_server import stop_server

        session = Session()
        plain, built_in = [], []
        try:
            for i in range(RUNS):
                t0 = time.perf_counter()
                subprocess.run(
                    [
                        sys.executable,
                        str(tmpdir / "plain.py"),
                        str(data_dir / "train.csv"),
                        str(tmpdir / "m.json"),
                        str(ROUNDS),
                    ],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                plain.append(time.perf_counter() - t0)

                t0 = time.perf_counter()
                job = session.create_training_job(
                    f"bench-xgb-{i}",
                    algorithm="xgboost",
                    inputs={"train": {"uri": str(data_dir), "content_type": "text/csv"}},
                    hyperparameters={**PARAMS, "num_round": ROUNDS, "tree_method": "hist"},
                )
                desc = job.wait()
                built_in.append(time.perf_counter() - t0)
                assert desc["training_job_status"] == "Completed", desc["failure_reason"]
                print(f"run {i}: plain {plain[-1]:.2f}s  built-in job {built_in[-1]:.2f}s")
        finally:
            session.close()
            stop_server(session.settings)

    p, b = statistics.median(plain), statistics.median(built_in)
    print(f"plain script (pyarrow + xgboost.train)  median {p:.2f}s")
    print(f"built-in XGBoost training job           median {b:.2f}s")
    print(f"ratio {b / p:.3f}   target <= 1.10")
    print(f"RESULT train_xgboost_ratio {b / p:.3f}")


if __name__ == "__main__":
    main()
