"""Sample data shipped with sageforge, so demos and tutorials need no download."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).parent


def sample_path(name: str = "churn") -> Path:
    """Path of a bundled sample table.

    `churn`: 5,000 customers, yes/no `churn` target. `untidy_churn`: the same
    customers as a raw CRM export (missing values, duplicates, padded text, an
    outlier-laden column, a leaking column), for the data-preparation demo.
    """
    path = _HERE / f"{name}.csv"
    if not path.is_file():
        known = sorted(p.stem for p in _HERE.glob("*.csv"))
        raise FileNotFoundError(f"no sample dataset {name!r}; bundled: {', '.join(known)}")
    return path


__all__ = ["sample_path"]
