"""The untidy table the data-preparation benchmarks share (generated once, cached in /tmp).

One row per customer: an id, padded text categories, an integer column with 5%
missing, an income column with data-entry outliers, and ~3% duplicated rows
(identical but for their id), so every step of the typical flow has work to do.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

CACHE = Path(tempfile.gettempdir()) / "sageforge-bench"


def _padded(rng: np.random.Generator, values: list[str], n: int) -> np.ndarray:
    picked = np.array(values, dtype=object)[rng.integers(0, len(values), n)]
    pads = rng.random(n)
    return np.where(pads < 0.1, "  " + picked, np.where(pads < 0.2, picked + " ", picked))


def table(rows: int = 1_000_000, seed: int = 42) -> Path:
    """Path of the CSV (written on first use)."""
    path = CACHE / f"untidy-{rows}-{seed}.csv"
    if path.is_file():
        return path
    import polars as pl

    rng = np.random.default_rng(seed)
    unique = rows - rows * 3 // 100
    age = rng.integers(18, 90, unique).astype(float)
    age[rng.random(unique) < 0.05] = np.nan
    income = rng.lognormal(10.5, 0.4, unique).round(2)
    outliers = rng.random(unique) < 0.002
    income[outliers] *= 1000
    base = pl.DataFrame(
        {
            "city": _padded(rng, [f"city-{i:02d}" for i in range(50)], unique),
            "segment": _padded(
                rng, ["consumer", "corporate", "home-office", "student", "public"], unique
            ),
            "plan": _padded(rng, ["basic", "plus", "premium", "enterprise"], unique),
            "channel": _padded(rng, ["web", "store", "phone", "partner", "app", "mail"], unique),
            "region": _padded(
                rng,
                ["north", "south", "east", "west", "centre", "islands", "abroad", "unknown"],
                unique,
            ),
            "age": age,
            "visits": rng.poisson(4, unique),
            "income": income,
            "score": rng.normal(0, 1, unique).round(5),
            "target": (rng.random(unique) < 0.3).astype(np.int64),
        }
    ).with_columns(pl.col("age").fill_nan(None).cast(pl.Int64))
    dup = base[rng.integers(0, unique, rows - unique).tolist()]
    df = (
        pl.concat([base, dup]).with_row_index("id").with_columns(pl.format("C{}", "id").alias("id"))
    )
    df = df.sample(fraction=1.0, shuffle=True, seed=seed)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    df.write_csv(tmp)
    tmp.replace(path)
    return path
