"""The Python SDK: Session, Estimator and job handles."""

from sageforge.sdk._jobs import Job, JobFailed, ProcessingJob, TrainingJob
from sageforge.sdk.estimator import Estimator, TrainingInput
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
    "Estimator",
    "IntegerParameter",
    "Job",
    "JobFailed",
    "ProcessingJob",
    "Session",
    "TrainingInput",
    "TrainingJob",
    "Tuner",
    "TuningJob",
]
