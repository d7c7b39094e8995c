"""Processing jobs: a user's script run over store data, SageMaker's ProcessingJob."""

from sageforge.data.processing._service import ProcessingJobService
from sageforge.data.processing._spec import CreateProcessingJob

__all__ = ["CreateProcessingJob", "ProcessingJobService"]
