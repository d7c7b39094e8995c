"""sageforge: a self-hosted machine-learning platform that does what Amazon SageMaker does.

`import sageforge` stays cheap: the SDK and its dependencies load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "CategoricalParameter",
    "ClientError",
    "ContinuousParameter",
    "DataCaptureConfig",
    "Estimator",
    "Flow",
    "IntegerParameter",
    "JobFailed",
    "Model",
    "ModelError",
    "PipelineModel",
    "Predictor",
    "ProcessingJob",
    "ResourceInUse",
    "ResourceNotFound",
    "SageforgeError",
    "ServerUnavailable",
    "ServerlessConfig",
    "Session",
    "Throttled",
    "TrainingInput",
    "TrainingJob",
    "TransformJob",
    "Transformer",
    "Tuner",
    "TuningJob",
    "ValidationError",
    "__version__",
]

_LAZY = {
    "Session": "sageforge.sdk",
    "Tuner": "sageforge.sdk",
    "TuningJob": "sageforge.sdk",
    "ContinuousParameter": "sageforge.sdk",
    "IntegerParameter": "sageforge.sdk",
    "CategoricalParameter": "sageforge.sdk",
    "Estimator": "sageforge.sdk",
    "Flow": "sageforge.sdk",
    "TrainingInput": "sageforge.sdk",
    "JobFailed": "sageforge.sdk",
    "TrainingJob": "sageforge.sdk",
    "ProcessingJob": "sageforge.sdk",
    "DataCaptureConfig": "sageforge.sdk",
    "Model": "sageforge.sdk",
    "ModelError": "sageforge.sdk",
    "PipelineModel": "sageforge.sdk",
    "Predictor": "sageforge.sdk",
    "ServerlessConfig": "sageforge.sdk",
    "Transformer": "sageforge.sdk",
    "TransformJob": "sageforge.sdk",
    "SageforgeError": "sageforge.core.errors",
    "ClientError": "sageforge.core.errors",
    "ValidationError": "sageforge.core.errors",
    "ResourceNotFound": "sageforge.core.errors",
    "ResourceInUse": "sageforge.core.errors",
    "ServerUnavailable": "sageforge.core.errors",
    "Throttled": "sageforge.core.errors",
}

if TYPE_CHECKING:
    from sageforge.core.errors import (
        ClientError,
        ResourceInUse,
        ResourceNotFound,
        SageforgeError,
        ServerUnavailable,
        Throttled,
        ValidationError,
    )
    from sageforge.sdk import (
        CategoricalParameter,
        ContinuousParameter,
        DataCaptureConfig,
        Estimator,
        Flow,
        IntegerParameter,
        JobFailed,
        Model,
        ModelError,
        PipelineModel,
        Predictor,
        ProcessingJob,
        ServerlessConfig,
        Session,
        TrainingInput,
        TrainingJob,
        Transformer,
        TransformJob,
        Tuner,
        TuningJob,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sageforge' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
