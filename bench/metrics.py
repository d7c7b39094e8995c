"""Benchmark: sageforge's ROC AUC and confusion matrix against scikit-learn's on 10M rows.

Evaluating a model on a large validation set should not take longer than
training a small one. This times `sageforge.train.metrics.roc_auc` and
`confusion_matrix` against `sklearn.metrics.roc_auc_score` and
`confusion_matrix` on the same seeded data (binary labels, float64 scores),
checks that they agree, and prints the ratio of total times (lower is better;
the target is <= 1).

    .venv/bin/python bench/metrics.py [--rows N] [--repeats R]

The last line is `RESULT metrics_vs_sklearn_ratio <sageforge time / sklearn time>`.
The script exits 0 whatever the result.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np


def _median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of `repeats` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _data(rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded labels (30 % positive), overlapping float64 scores, and 0.5-threshold labels."""
    rng = np.random.default_rng(20240611)
    y_true = (rng.random(rows) < 0.3).astype(np.int64)
    y_score = np.clip(0.35 + 0.2 * y_true + rng.normal(0.0, 0.2, rows), 0.0, 1.0)
    y_pred = (y_score >= 0.5).astype(np.int64)
    return y_true, y_score, y_pred


def run(rows: int, repeats: int) -> float:
    """Time both libraries, print the table, and return the total-time ratio."""
    from sklearn import metrics as skm

    from sageforge.train import metrics as sf

    y_true, y_score, y_pred = _data(rows)
    cases = {
        "roc_auc": (
            lambda: sf.roc_auc(y_true, y_score),
            lambda: skm.roc_auc_score(y_true, y_score),
        ),
        "confusion_matrix": (
            lambda: sf.confusion_matrix(y_true, y_pred),
            lambda: skm.confusion_matrix(y_true, y_pred),
        ),
    }
    print(f"rows={rows:,} repeats={repeats} (median wall time, seconds)")
    print(f"{'metric':<18}{'sageforge':>12}{'sklearn':>12}{'speed-up':>11}  agree")
    total_sf = total_sk = 0.0
    for name, (ours, theirs) in cases.items():
        t_sf, r_sf = _median_time(ours, repeats)
        t_sk, r_sk = _median_time(theirs, repeats)
        if name == "roc_auc":
            agree = f"|diff|={abs(r_sf - r_sk):.1e} (auc={r_sf:.6f})"
        else:
            agree = "equal" if np.array_equal(r_sf, r_sk) else "DIFFERENT"
        print(f"{name:<18}{t_sf:>12.3f}{t_sk:>12.3f}{t_sk / t_sf:>10.1f}x  {agree}")
        total_sf += t_sf
        total_sk += t_sk
    ratio = total_sf / total_sk
    print(f"{'total':<18}{total_sf:>12.3f}{total_sk:>12.3f}{total_sk / total_sf:>10.1f}x")
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        ratio = run(args.rows, args.repeats)
    except Exception:  # a benchmark reports its failure instead of failing the caller
        traceback.print_exc()
        ratio = float("nan")
    print(f"RESULT metrics_vs_sklearn_ratio {ratio:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
