"""Writing a flow's splits: Parquet, CSV with a header, or SageMaker's XGBoost layout.

Each split goes to `<folder>/<split>/part-00000.<ext>`, so a split's folder is
exactly what a training channel takes (`store://…/train`), and the fitted
flow goes beside them as `<folder>/flow.json`, so the same transforms can be
replayed on new records later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from sageforge.core.errors import ValidationError
from sageforge.data.flow._document import FlowDocument

_EXT = {"parquet": "parquet", "csv": "csv", "xgboost": "csv"}


def xgboost_layout(df: pl.DataFrame, target: str | None, field: str = "format") -> pl.DataFrame:
    """The target first, every column numeric (booleans as 0/1): what the built-in reads."""
    if not target or target not in df.columns:
        raise ValidationError(
            f"the xgboost layout needs the target column first, but {target!r} is not among "
            f"the output columns ({', '.join(df.columns[:20])})",
            field=field,
        )
    bad = [c for c, t in df.schema.items() if not (t.is_numeric() or t == pl.Boolean)]
    if bad:
        raise ValidationError(
            "the xgboost layout needs numbers only, but "
            + ", ".join(f"{c!r} is {df.schema[c]}" for c in bad[:5])
            + ": encode or drop those columns in the flow (ordinal_encode, one_hot_encode)",
            field=field,
        )
    ordered = [target] + [c for c in df.columns if c != target]
    return df.select(
        pl.col(c).cast(pl.Int8) if df.schema[c] == pl.Boolean else pl.col(c) for c in ordered
    )


def write_splits(
    doc: FlowDocument,
    parts: dict[str, pl.DataFrame],
    folder: str | Path,
    fmt: str,
    *,
    splits: list[str] | None = None,
    field: str = "format",
) -> dict[str, Any]:
    """Write the splits and `flow.json` under `folder`; returns {split: {rows, file}}."""
    if fmt not in _EXT:
        raise ValidationError(f"unknown format {fmt!r}; use parquet, csv or xgboost", field=field)
    root = Path(folder)
    written: dict[str, Any] = {}
    for name, df in parts.items():
        if splits and name not in splits:
            continue
        out = root / name
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"part-00000.{_EXT[fmt]}"
        if fmt == "parquet":
            df.write_parquet(path)
        elif fmt == "csv":
            df.write_csv(path)
        else:
            xgboost_layout(df, doc.target, field).write_csv(path, include_header=False)
        written[name] = {"rows": df.height, "file": f"{name}/{path.name}"}
    root.mkdir(parents=True, exist_ok=True)
    (root / "flow.json").write_text(doc.to_json())
    return written
