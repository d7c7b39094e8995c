"""The Python SDK: Session, Estimator and job handles."""

from sageforge.sdk._jobs import Job, JobFailed, ProcessingJob, TrainingJob
from sageforge.sdk.estimator import Estimator, TrainingInput
from sageforge.sdk.flow import Flow
from sageforge.sdk.model import (
    DataCaptureConfig,
    Model,
    PipelineModel,
    ServerlessConfig,
    Transformer,
    TransformJob,
)
from sageforge.sdk.predictor import ModelError, Predictor
from sageforge.sdk.session import Session
from sageforge.sdk.tuner import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    Tuner,
    TuningJob,
)

__all__ = [
    "CategoricalParameter",
    "ContinuousParameter",
    "DataCaptureConfig",
    "Estimator",
    "Flow",
    "IntegerParameter",
    "Job",
    "JobFailed",
    "Model",
    "ModelError",
    "PipelineModel",
    "Predictor",
    "ProcessingJob",
    "ServerlessConfig",
    "Session",
    "TrainingInput",
    "TrainingJob",
    "TransformJob",
    "Transformer",
    "Tuner",
    "TuningJob",
]
