"""A local package the client ships with `dependencies=["my_custom_lib"]` (not pip-installed)."""

import pandas as pd


def read_channel(path: str) -> pd.DataFrame:
    """Every CSV file of a channel folder, label in the first column, no header."""
    import os

    files = sorted(os.path.join(path, f) for f in os.listdir(path) if not f.startswith("."))
    if not files:
        raise ValueError(f"There are no files in {path}.")
    return pd.concat(pd.read_csv(f, header=None) for f in files)
