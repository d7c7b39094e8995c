"""Built-in algorithms: SageMaker's XGBoost and friends, selectable without user code."""

from sageforge.train.algorithms._base import (
    FLOAT_RE,
    Algorithm,
    AlgorithmError,
    Channel,
    MetricDefinition,
    TrainingEnvironment,
    available_algorithms,
    get_algorithm,
    register,
)
from sageforge.train.algorithms._hyperparameters import Hyperparameter, HyperparameterSpec

__all__ = [
    "FLOAT_RE",
    "Algorithm",
    "AlgorithmError",
    "Channel",
    "Hyperparameter",
    "HyperparameterSpec",
    "MetricDefinition",
    "TrainingEnvironment",
    "available_algorithms",
    "get_algorithm",
    "register",
]
