"""Training jobs as resources: validate, submit to the supervisor, describe, list, stop."""

from __future__ import annotations

from typing import Any

from sageforge.core.db import Job
from sageforge.core.errors import ValidationError
from sageforge.core.jobs import (
    JobSubmission,
    final_metrics,
    job_tags,
    transitions,
)
from sageforge.core.jobs._service import JobService
from sageforge.core.names import make_arn, validate_name
from sageforge.train._spec import CreateTrainingJob

KIND = "training"
PROGRAM = "sageforge.train._program:run_training_job"


class TrainingJobService(JobService):
    """The training-job capability; routers and the compat layer call this."""

    kind = KIND
    list_key = "training_job_summaries"

    def create(self, req: CreateTrainingJob) -> dict[str, Any]:
        """Validate everything a job needs before any process starts, then launch it."""
        name = validate_name(req.training_job_name, "training_job_name")
        algo = req.algorithm_specification
        hps = dict(req.hyper_parameters)
        metric_defs = [m.model_dump() for m in algo.metric_definitions]
        if algo.training_image:
            raise ValidationError(
                "container images are not run here; use algorithm_name for a built-in "
                "or entry_point for your own script",
                field="algorithm_specification.training_image",
            )
        if algo.algorithm_name:
            metric_defs = self._check_builtin(req) + metric_defs
        else:
            self.check_exists(algo.source_dir, "algorithm_specification.source_dir")
        for i, ch in enumerate(req.input_data_config):
            self.check_exists(
                ch.data_source.s3_data_source.s3_uri,
                f"input_data_config[{i}].data_source.s3_data_source.s3_uri",
            )
        out = req.output_data_config.s3_output_path
        self.store.resolve(out, field="output_data_config.s3_output_path")
        spec = req.model_dump(exclude={"tags"})
        spec["hyper_parameters"] = hps
        spec["resolved_metric_definitions"] = metric_defs
        self.supervisor.submit(
            JobSubmission(
                kind=KIND,
                name=name,
                arn=make_arn("training-job", name),
                spec=spec,
                program=PROGRAM,
                tags={t.key: t.value for t in req.tags},
                max_runtime_s=float(req.stopping_condition.max_runtime_in_seconds),
            )
        )
        return self.describe(name)

    def _check_builtin(self, req: CreateTrainingJob) -> list[dict[str, str]]:
        from sageforge.train.algorithms import get_algorithm

        algo = get_algorithm(req.algorithm_specification.algorithm_name or "")
        typed = algo.validate_hyperparameters(req.hyper_parameters)
        algo.validate_channels({c.channel_name: c.content_type for c in req.input_data_config})
        return [m.to_dict() for m in algo.metric_definitions(typed)]

    def render(self, job: Job) -> dict[str, Any]:
        """A job row in DescribeTrainingJob's shape."""
        spec = job.spec
        seconds = (
            int((job.end_time - job.start_time).total_seconds())
            if job.end_time and job.start_time
            else None
        )
        algo = dict(spec["algorithm_specification"])
        return {
            "training_job_name": job.name,
            "training_job_arn": job.arn,
            "training_job_status": job.status,
            "secondary_status": job.secondary_status,
            "failure_reason": job.failure_reason,
            "algorithm_specification": algo,
            "hyper_parameters": spec.get("hyper_parameters", {}),
            "input_data_config": spec.get("input_data_config", []),
            "output_data_config": spec.get("output_data_config"),
            "resource_config": spec.get("resource_config"),
            "stopping_condition": spec.get("stopping_condition"),
            "environment": spec.get("environment", {}),
            "metric_definitions": spec.get("resolved_metric_definitions", []),
            "model_artifacts": {"s3_model_artifacts": job.outputs.get("model_artifacts")}
            if job.outputs.get("model_artifacts")
            else None,
            "output_data": job.outputs.get("output_data"),
            "creation_time": job.creation_time,
            "training_start_time": job.start_time,
            "training_end_time": job.end_time,
            "last_modified_time": job.last_modified_time,
            "training_time_in_seconds": seconds,
            "billable_time_in_seconds": seconds,
            "secondary_status_transitions": transitions(job),
            "final_metric_data_list": final_metrics(self.supervisor.db, job.id),
            "tags": job_tags(self.supervisor.db, job.arn),
        }

    def summary(self, job: Job) -> dict[str, Any]:
        """One row of ListTrainingJobs."""
        return {
            "training_job_name": job.name,
            "training_job_arn": job.arn,
            "training_job_status": job.status,
            "secondary_status": job.secondary_status,
            "creation_time": job.creation_time,
            "training_end_time": job.end_time,
            "last_modified_time": job.last_modified_time,
        }
