"""The Python SDK: Session and job handles."""

from sageforge.sdk._jobs import Job, JobFailed, ProcessingJob, TrainingJob
from sageforge.sdk.session import Session

__all__ = ["Job", "JobFailed", "ProcessingJob", "Session", "TrainingJob"]
