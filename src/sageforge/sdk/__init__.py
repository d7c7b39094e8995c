"""The Python SDK: Session, Estimator and job handles."""

from sageforge.sdk._jobs import Job, JobFailed, ProcessingJob, TrainingJob
from sageforge.sdk.estimator import Estimator, TrainingInput
from sageforge.sdk.session import Session

__all__ = [
    "Estimator",
    "Job",
    "JobFailed",
    "ProcessingJob",
    "Session",
    "TrainingInput",
    "TrainingJob",
]
