"""Benchmark: a typical data-preparation flow on 1,000,000 rows — sageforge against the
same flow hand-written in pandas and in Polars (lazy).

The flow: drop a column, strip five text columns, drop duplicate rows, impute the
median of two columns, clip outliers at mean ± 3σ, ordinal-encode one column,
one-hot encode two, split 70/20/10 (seeded), write each split as CSV. Every
implementation learns its statistics (median, mean, σ, categories) from the
training rows only, as sageforge does, so the three do the same work.

sageforge runs what its export job runs (`sageforge.data.flow.run.run`: read,
fit, split, write). Each run is a process of its own, so its peak memory is its
own; times exclude interpreter start and imports; the median of R interleaved
runs (default 3) is reported, since a shared two-core machine is noisy.

    .venv/bin/python bench/flow.py [--rows N] [--repeats R]

Ends with `RESULT flow_speedup_vs_pandas <x>` (target ≥ 3), `RESULT
flow_ratio_vs_polars <x>` (target ≤ 1.3) and `RESULT flow_peak_rss_mb <MB>`.
Exits 0 whatever the result.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

FRACTIONS = (0.7, 0.2, 0.1)
NAMES = ("train", "validation", "test")
TEXT = ["city", "segment", "plan", "channel", "region"]
SEED = 7

FLOW = {
    "name": "bench",
    "target": "target",
    "steps": [
        {"type": "drop_columns", "params": {"columns": ["id"]}},
        {"type": "format_string", "params": {"columns": TEXT, "operation": "strip"}},
        {"type": "drop_duplicates"},
        {"type": "impute", "params": {"columns": ["age", "visits"], "strategy": "median"}},
        {"type": "handle_outliers", "params": {"columns": ["income"], "method": "std", "n_std": 3}},
        {"type": "ordinal_encode", "params": {"columns": ["plan"]}},
        {"type": "one_hot_encode", "params": {"columns": ["channel", "region"]}},
        {"type": "split", "params": {"fractions": list(FRACTIONS), "seed": SEED}},
    ],
    "destinations": [{"url": "store://bench", "format": "csv"}],
}


def run_sageforge(data: Path, out: Path) -> dict[str, int]:
    from sageforge.data.flow.run import run

    flow = out / "flow-in.json"
    flow.write_text(json.dumps(FLOW))
    written = run(flow, data, [out / "csv"])
    return {k: v["rows"] for k, v in next(iter(written.values())).items()}  # type: ignore[attr-defined]


def run_polars(data: Path, out: Path) -> dict[str, int]:
    import polars as pl

    lf = (
        pl.scan_csv(data)
        .drop("id")
        .with_columns(pl.col(TEXT).str.strip_chars())
        .unique(maintain_order=True)
    )
    n = pl.len()
    pos = pl.int_range(n).shuffle(seed=SEED)
    split = (
        pl.when(pos < (n * 0.7).round(0)).then(pl.lit("train"))
        .when(pos < (n * 0.9).round(0)).then(pl.lit("validation"))
        .otherwise(pl.lit("test"))
    )  # fmt: skip
    df = lf.with_columns(split.alias("split")).collect()
    train = df.lazy().filter(pl.col("split") == "train")
    medians = train.select(pl.col("age", "visits").median()).collect().row(0, named=True)
    imputed = [pl.col(c).fill_null(v) for c, v in medians.items()]
    stats = (
        train.with_columns(imputed)
        .select(pl.col("income").mean().alias("m"), pl.col("income").std(ddof=0).alias("s"))
        .collect()
        .row(0, named=True)
    )
    plans = sorted(train.select(pl.col("plan").unique().drop_nulls()).collect()["plan"].to_list())
    onehot = {
        c: sorted(train.select(pl.col(c).unique().drop_nulls()).collect()[c].to_list())
        for c in ("channel", "region")
    }
    result = (
        df.lazy()
        .with_columns(
            *imputed,
            pl.col("income").clip(stats["m"] - 3 * stats["s"], stats["m"] + 3 * stats["s"]),
            pl.col("plan").replace_strict(
                plans, list(range(len(plans))), default=None, return_dtype=pl.Int64
            ),
            *[
                (pl.col(c) == v).fill_null(False).cast(pl.Int8).alias(f"{c}_{v}")
                for c, vs in onehot.items()
                for v in vs
            ],
        )
        .drop("channel", "region")
        .collect()
    )
    counts = {}
    for (name,), part in result.group_by("split", maintain_order=True):
        folder = out / str(name)
        folder.mkdir(parents=True, exist_ok=True)
        part.drop("split").write_csv(folder / "part-00000.csv")
        counts[str(name)] = part.height
    return counts


def run_pandas(data: Path, out: Path) -> dict[str, int]:
    import numpy as np
    import pandas as pd

    df = pd.read_csv(data).drop(columns=["id"])
    for c in TEXT:
        df[c] = df[c].str.strip()
    df = df.drop_duplicates().reset_index(drop=True)
    n = len(df)
    order = np.random.default_rng(SEED).permutation(n)
    cut1, cut2 = round(n * 0.7), round(n * 0.9)
    label = np.empty(n, dtype=object)
    label[order[:cut1]], label[order[cut1:cut2]], label[order[cut2:]] = (
        "train",
        "validation",
        "test",
    )
    train = df[label == "train"]
    for c in ("age", "visits"):
        df[c] = df[c].fillna(train[c].median())
    train = df[label == "train"]
    m, s = train["income"].mean(), train["income"].std(ddof=0)
    df["income"] = df["income"].clip(m - 3 * s, m + 3 * s)
    plans = sorted(train["plan"].dropna().unique())
    df["plan"] = df["plan"].map({p: i for i, p in enumerate(plans)})
    for c in ("channel", "region"):
        cats = sorted(train[c].dropna().unique())
        dummies = pd.get_dummies(pd.Categorical(df[c], categories=cats), prefix=c, dtype="int8")
        df = pd.concat([df.drop(columns=[c]), dummies], axis=1)
    counts = {}
    for name in NAMES:
        part = df[label == name]
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        part.to_csv(folder / "part-00000.csv", index=False)
        counts[name] = len(part)
    return counts


IMPLS = {"sageforge": run_sageforge, "polars": run_polars, "pandas": run_pandas}


def child(impl: str, data: Path, out: Path) -> None:
    """Run one implementation and print its time and peak memory as JSON."""
    if impl == "pandas":
        import pandas  # noqa: F401
    import polars  # noqa: F401

    if impl == "sageforge":
        import sageforge.data.flow
        import sageforge.data.io  # noqa: F401
    started = time.perf_counter()
    counts = IMPLS[impl](data, out)
    wall = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "peak_rss_mb": rss, "counts": counts}))


def measure(impl: str, data: Path) -> dict[str, object]:
    out = Path(tempfile.mkdtemp(prefix=f"bench-flow-{impl}-"))
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", impl, "--data", str(data), "--out", str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs per implementation (median)")
    parser.add_argument("--child")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.out)
        return 0
    try:
        from _tables import table

        data = table(args.rows)
        print(
            f"table: {args.rows:,} rows, {data.stat().st_size / 1e6:.0f} MB CSV ({data}); {os.cpu_count()} cores"
        )
        runs: dict[str, list[dict[str, object]]] = {"sageforge": [], "polars": [], "pandas": []}
        for _ in range(args.repeats):  # interleaved, so a noisy moment hits every contender
            for impl in runs:
                runs[impl].append(measure(impl, data))
        results = {}
        for impl, rs in runs.items():
            walls = sorted(float(r["wall_s"]) for r in rs)  # type: ignore[arg-type]
            results[impl] = {**rs[0], "wall_s": statistics.median(walls)}
            results[impl]["peak_rss_mb"] = max(float(r["peak_rss_mb"]) for r in rs)  # type: ignore[arg-type]
            shown = ", ".join(f"{w:.2f}" for w in walls)
            print(
                f"{impl:<10} median {results[impl]['wall_s']:6.2f} s (runs {shown})   "
                f"peak RSS {results[impl]['peak_rss_mb']:5.0f} MB   splits {rs[0]['counts']}"
            )
        counts = {impl: r["counts"] for impl, r in results.items()}
        if len({json.dumps(c, sort_keys=True) for c in counts.values()}) != 1:
            print(f"WARNING: the implementations disagree on split sizes: {counts}")
        sf, pl_, pd_ = (float(results[k]["wall_s"]) for k in ("sageforge", "polars", "pandas"))  # type: ignore[arg-type]
        print(f"RESULT flow_speedup_vs_pandas {pd_ / sf:.2f}")
        print(f"RESULT flow_ratio_vs_polars {sf / pl_:.2f}")
        print(f"RESULT flow_peak_rss_mb {float(results['sageforge']['peak_rss_mb']):.0f}")  # type: ignore[arg-type]
    except Exception:
        traceback.print_exc()
    return 0


if __name__ == "__main__":
    sys.exit(main())
