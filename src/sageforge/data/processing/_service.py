"""Processing jobs as resources: validate, submit, describe, list, stop."""

from __future__ import annotations

from typing import Any

from sageforge.core.db import Job
from sageforge.core.errors import ValidationError
from sageforge.core.jobs import (
    JobSubmission,
    job_tags,
    transitions,
)
from sageforge.core.jobs._service import JobService
from sageforge.core.names import make_arn, validate_name
from sageforge.data.processing._spec import CreateProcessingJob

KIND = "processing"
PROGRAM = "sageforge.data.processing._program:run_processing_job"


class ProcessingJobService(JobService):
    """The processing-job capability; routers and the compat layer call this."""

    kind = KIND
    list_key = "processing_job_summaries"

    def create(self, req: CreateProcessingJob) -> dict[str, Any]:
        """Validate inputs and outputs, then launch the job."""
        name = validate_name(req.processing_job_name, "processing_job_name")
        if req.app_specification.image_uri:
            raise ValidationError(
                "container images are not run here; give container_entrypoint "
                "(e.g. ['python3', '/opt/ml/processing/input/code/script.py'])",
                field="app_specification.image_uri",
            )
        for i, item in enumerate(req.processing_inputs):
            self.check_exists(item.s3_input.s3_uri, f"processing_inputs[{i}].s3_input.s3_uri")
        for i, out in enumerate(req.processing_output_config.outputs):
            self.store.resolve(
                out.s3_output.s3_uri,
                field=f"processing_output_config.outputs[{i}].s3_output.s3_uri",
            )
        self.supervisor.submit(
            JobSubmission(
                kind=KIND,
                name=name,
                arn=make_arn("processing-job", name),
                spec=req.model_dump(exclude={"tags"}),
                program=PROGRAM,
                tags={t.key: t.value for t in req.tags},
                max_runtime_s=float(req.stopping_condition.max_runtime_in_seconds),
            )
        )
        return self.describe(name)

    def render(self, job: Job) -> dict[str, Any]:
        """A job row in DescribeProcessingJob's shape."""
        spec = job.spec
        return {
            "processing_job_name": job.name,
            "processing_job_arn": job.arn,
            "processing_job_status": job.status,
            "secondary_status": job.secondary_status,
            "failure_reason": job.failure_reason,
            "exit_message": job.failure_reason,
            "app_specification": spec.get("app_specification"),
            "processing_inputs": spec.get("processing_inputs", []),
            "processing_output_config": spec.get("processing_output_config"),
            "processing_resources": spec.get("processing_resources"),
            "stopping_condition": spec.get("stopping_condition"),
            "environment": spec.get("environment", {}),
            "processing_outputs": job.outputs.get("processing_outputs"),
            "creation_time": job.creation_time,
            "processing_start_time": job.start_time,
            "processing_end_time": job.end_time,
            "last_modified_time": job.last_modified_time,
            "secondary_status_transitions": transitions(job),
            "tags": job_tags(self.supervisor.db, job.arn),
        }

    def summary(self, job: Job) -> dict[str, Any]:
        """One row of ListProcessingJobs."""
        return {
            "processing_job_name": job.name,
            "processing_job_arn": job.arn,
            "processing_job_status": job.status,
            "failure_reason": job.failure_reason,
            "creation_time": job.creation_time,
            "processing_end_time": job.end_time,
            "last_modified_time": job.last_modified_time,
        }
