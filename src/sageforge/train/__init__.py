"""Training: the job contract, built-in algorithms and evaluation metrics.

Heavy names load lazily so the job process and `import sageforge` stay fast.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CreateTrainingJob", "TrainingJobService"]


def __getattr__(name: str) -> Any:
    if name == "TrainingJobService":
        from sageforge.train._service import TrainingJobService

        return TrainingJobService
    if name == "CreateTrainingJob":
        from sageforge.train._spec import CreateTrainingJob

        return CreateTrainingJob
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
