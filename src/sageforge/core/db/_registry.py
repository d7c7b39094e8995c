"""Every capability's tables, so that one `Base.metadata` knows them all.

A capability keeps its SQLAlchemy models in its own folder (e.g.
`sageforge/deploy/_models.py`, importing `Base` from `sageforge.core.db`) and its
migration in `core/db/migrations/versions/` as a branch off `0001` with its own
`branch_labels`; the server upgrades to all heads. Add the models module here.
"""

from __future__ import annotations

import importlib

MODEL_MODULES: tuple[str, ...] = (
    "sageforge.deploy._models",
    "sageforge.data._models",
    "sageforge.compat._models",
    "sageforge.compat.sagemaker._records",
)


def load_all_models() -> None:
    """Import every capability's models module (idempotent)."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
