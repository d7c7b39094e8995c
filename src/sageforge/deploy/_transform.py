"""Batch transform jobs as resources: a job kind run by the shared JobSupervisor.

The request is checked before any process starts (the model exists, the input
is there, the JSONPath filters are ones SageMaker documents), the model's
containers are copied into the job's spec (a model deleted later does not
break a running job), and the job process runs `_transform_program`.
"""

from __future__ import annotations

from typing import Any

from sageforge.core.db import Job
from sageforge.core.jobs import JobSubmission, job_tags, transitions
from sageforge.core.jobs._service import JobService
from sageforge.core.jobs._supervisor import JobSupervisor
from sageforge.core.names import make_arn, validate_name
from sageforge.core.store import ArtifactStore
from sageforge.deploy._jsonpath import compile_path
from sageforge.deploy._resources import ModelService
from sageforge.deploy._spec import CreateTransformJob

KIND = "transform"
PROGRAM = "sageforge.deploy._transform_program:run_transform_job"


class TransformJobService(JobService):
    """CreateTransformJob, DescribeTransformJob, ListTransformJobs, StopTransformJob."""

    kind = KIND
    list_key = "transform_job_summaries"

    def __init__(
        self, supervisor: JobSupervisor, store: ArtifactStore, models: ModelService
    ) -> None:
        super().__init__(supervisor, store)
        self.models = models

    def create(self, req: CreateTransformJob) -> dict[str, Any]:
        name = validate_name(req.transform_job_name, "transform_job_name")
        containers = self.models.containers(req.model_name)
        self.check_exists(
            req.transform_input.data_source.s3_data_source.s3_uri,
            "transform_input.data_source.s3_data_source.s3_uri",
        )
        self.store.resolve(
            req.transform_output.s3_output_path, field="transform_output.s3_output_path"
        )
        compile_path(req.data_processing.input_filter, "data_processing.input_filter")
        compile_path(req.data_processing.output_filter, "data_processing.output_filter")
        spec = req.model_dump(exclude={"tags"})
        spec["containers"] = containers
        self.supervisor.submit(
            JobSubmission(
                kind=KIND,
                name=name,
                arn=make_arn("transform-job", name),
                spec=spec,
                program=PROGRAM,
                tags={t.key: t.value for t in req.tags},
                max_runtime_s=None,
            )
        )
        return self.describe(name)

    def render(self, job: Job) -> dict[str, Any]:
        """A job row in DescribeTransformJob's shape."""
        spec = job.spec
        return {
            "transform_job_name": job.name,
            "transform_job_arn": job.arn,
            "transform_job_status": job.status,
            "secondary_status": job.secondary_status,
            "failure_reason": job.failure_reason,
            "model_name": spec["model_name"],
            "max_concurrent_transforms": spec.get("max_concurrent_transforms"),
            "max_payload_in_mb": spec.get("max_payload_in_mb"),
            "batch_strategy": spec.get("batch_strategy"),
            "environment": spec.get("environment", {}),
            "transform_input": spec.get("transform_input"),
            "transform_output": spec.get("transform_output"),
            "transform_resources": spec.get("transform_resources"),
            "data_processing": spec.get("data_processing"),
            "outputs": job.outputs or {},
            "creation_time": job.creation_time,
            "transform_start_time": job.start_time,
            "transform_end_time": job.end_time,
            "last_modified_time": job.last_modified_time,
            "secondary_status_transitions": transitions(job),
            "tags": job_tags(self.supervisor.db, job.arn),
        }

    def summary(self, job: Job) -> dict[str, Any]:
        """One row of ListTransformJobs."""
        return {
            "transform_job_name": job.name,
            "transform_job_arn": job.arn,
            "transform_job_status": job.status,
            "secondary_status": job.secondary_status,
            "failure_reason": job.failure_reason,
            "creation_time": job.creation_time,
            "transform_end_time": job.end_time,
            "last_modified_time": job.last_modified_time,
        }
