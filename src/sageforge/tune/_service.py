"""Tuning jobs as resources: validate everything up front, run as a job, describe from trials.

A tuning job is a job like any other (its own process, its own log, stop,
recovery); its program asks the server for training jobs, one per trial,
tagged with the tuning job's name. Describe is computed from those training
jobs, so the counters and the best job are right even while it runs.
"""

from __future__ import annotations

import itertools
import math
import os
from typing import Any

import sqlalchemy as sa

from sageforge.core.db import Job, Tag
from sageforge.core.errors import ValidationError
from sageforge.core.jobs import JobSubmission, job_tags, transitions
from sageforge.core.jobs._service import JobService
from sageforge.core.names import make_arn, validate_name
from sageforge.tune._ranges import ParameterRange, ranges_from_spec
from sageforge.tune._spec import CreateTuningJob

KIND = "tuning"
PROGRAM = "sageforge.tune._program:run_tuning_job"
TRIAL_TAG = "sageforge:tuning-job"
TERMINAL = ("Completed", "Failed", "Stopped")


class TuningJobService(JobService):
    """The hyperparameter-tuning capability."""

    kind = KIND
    list_key = "hyper_parameter_tuning_job_summaries"

    def create(self, req: CreateTuningJob) -> dict[str, Any]:
        """Reject bad ranges, unknown hyperparameters and unreachable objectives, then launch."""
        name = validate_name(req.hyper_parameter_tuning_job_name, "hyper_parameter_tuning_job_name")
        cfg = req.hyper_parameter_tuning_job_config
        ranges = ranges_from_spec(cfg.parameter_ranges.model_dump())
        if not ranges:
            raise ValidationError(
                "give at least one range to tune",
                field="hyper_parameter_tuning_job_config.parameter_ranges",
            )
        max_jobs = self._budget(req, ranges)
        definition = req.training_job_definition
        overlap = sorted(set(definition.static_hyper_parameters) & {r.name for r in ranges})
        if overlap:
            raise ValidationError(
                f"{', '.join(overlap)} is both static and tuned; give it one or the other",
                field="training_job_definition.static_hyper_parameters",
            )
        self._check_training_definition(req, ranges)
        parents = self._check_warm_start(req)
        limits = cfg.resource_limits
        parallel = min(limits.max_parallel_training_jobs, max_jobs)
        spec = req.model_dump(exclude={"tags"})
        spec["resolved"] = {
            "max_number_of_training_jobs": max_jobs,
            "max_parallel_training_jobs": parallel,
            "threads_per_trial": max(1, (os.cpu_count() or 1) // parallel),
            "parent_trials": parents,
        }
        self.supervisor.submit(
            JobSubmission(
                kind=KIND,
                name=name,
                arn=make_arn("hyper-parameter-tuning-job", name),
                spec=spec,
                program=PROGRAM,
                tags={t.key: t.value for t in req.tags},
                max_runtime_s=float(limits.max_runtime_in_seconds) + 120
                if limits.max_runtime_in_seconds
                else None,
            )
        )
        return self.describe(name)

    def _budget(self, req: CreateTuningJob, ranges: list[ParameterRange]) -> int:
        cfg = req.hyper_parameter_tuning_job_config
        given = cfg.resource_limits.max_number_of_training_jobs
        field = "hyper_parameter_tuning_job_config.resource_limits.max_number_of_training_jobs"
        if cfg.strategy == "Grid":
            size = math.prod(len(r.grid_values()) for r in ranges)
            if size > 10000:
                raise ValidationError(
                    f"the grid has {size} combinations; at most 10000", field=field
                )
            if given is not None and given < size:
                raise ValidationError(
                    f"the grid has {size} combinations; leave this unset or give at least {size}",
                    field=field,
                )
            return size
        if given is None:
            raise ValidationError(f"is required for the {cfg.strategy} strategy", field=field)
        if cfg.strategy == "Hyperband":
            hb = cfg.strategy_config.hyperband_strategy_config if cfg.strategy_config else None
            if hb is None:
                raise ValidationError(
                    "Hyperband needs strategy_config.hyperband_strategy_config with max_resource "
                    "(the number of rounds or epochs a full trial runs)",
                    field="hyper_parameter_tuning_job_config.strategy_config",
                )
            if hb.min_resource > hb.max_resource:
                raise ValidationError(
                    "min_resource is greater than max_resource",
                    field="hyper_parameter_tuning_job_config.strategy_config.hyperband_strategy_config",
                )
            if cfg.training_job_early_stopping_type != "Off":
                raise ValidationError(
                    "Hyperband stops weak trials itself; set training_job_early_stopping_type to Off",
                    field="hyper_parameter_tuning_job_config.training_job_early_stopping_type",
                )
        return given

    def _check_training_definition(
        self, req: CreateTuningJob, ranges: list[ParameterRange]
    ) -> None:
        definition = req.training_job_definition
        algo_spec = definition.algorithm_specification
        objective = (
            req.hyper_parameter_tuning_job_config.hyper_parameter_tuning_job_objective.metric_name
        )
        obj_field = (
            "hyper_parameter_tuning_job_config.hyper_parameter_tuning_job_objective.metric_name"
        )
        channels = {c.channel_name for c in definition.input_data_config}
        for i, ch in enumerate(definition.input_data_config):
            self.check_exists(
                ch.data_source.s3_data_source.s3_uri,
                f"training_job_definition.input_data_config[{i}].data_source.s3_data_source.s3_uri",
            )
        if algo_spec.training_image:
            raise ValidationError(
                "container images are not run here; use algorithm_name or entry_point",
                field="training_job_definition.algorithm_specification.training_image",
            )
        user_metrics = {m.name for m in algo_spec.metric_definitions}
        if not algo_spec.algorithm_name:
            self.check_exists(
                algo_spec.source_dir, "training_job_definition.algorithm_specification.source_dir"
            )
            if objective not in user_metrics:
                raise ValidationError(
                    f"{objective!r} is not among the metric_definitions of the training job "
                    f"({', '.join(sorted(user_metrics)) or 'none'}), so no trial would report it",
                    field=obj_field,
                )
            return
        from sageforge.train.algorithms import get_algorithm

        algo = get_algorithm(algo_spec.algorithm_name)
        declared = algo.hyperparameters.by_name
        for r in ranges:
            canonical = algo.hyperparameters.aliases.get(r.name, r.name)
            field = f"hyper_parameter_tuning_job_config.parameter_ranges.{r.name}"
            if canonical not in declared:
                raise ValidationError(
                    f"{algo.name} has no hyperparameter {r.name!r}; tunable ones: "
                    f"{', '.join(sorted(n for n, p in declared.items() if p.tunable))}",
                    field=field,
                )
            if not declared[canonical].tunable:
                raise ValidationError(f"{r.name!r} cannot be tuned for {algo.name}", field=field)
            if r.kind == "integer" and declared[canonical].kind == "float":
                # The short syntax reads `eta=0..1` as integers: trials would try 0 and 1 only.
                raise ValidationError(
                    f"{r.name!r} is a continuous hyperparameter of {algo.name}, but its range "
                    f"is an integer range ({r.min_value:g}..{r.max_value:g}), so trials would "
                    "only try whole numbers; give a continuous range (in the short syntax, "
                    f"write the bounds as decimals: {r.name}={r.min_value:.1f}..{r.max_value:.1f})",
                    field=field,
                )
        samples = [dict(definition.static_hyper_parameters)]
        for corner in itertools.islice(itertools.product(*(_corners(r) for r in ranges)), 64):
            samples.append(
                {
                    **definition.static_hyper_parameters,
                    **dict(zip([r.name for r in ranges], corner, strict=True)),
                }
            )
        emitted: set[str] = set()
        for hps in samples[1:]:
            try:
                typed = algo.validate_hyperparameters(hps)
            except ValidationError as exc:
                raise ValidationError(
                    f"{exc.message} (with the range bounds {hps})",
                    field=(exc.field or "").replace(
                        "hyper_parameters", "training_job_definition.static_hyper_parameters"
                    ),
                ) from None
            emitted |= {m.name for m in algo.metric_definitions(typed)}
        algo.validate_channels(
            {c.channel_name: c.content_type for c in definition.input_data_config}
        )
        emitted |= user_metrics
        if objective not in emitted:
            raise ValidationError(
                f"{algo.name} never emits {objective!r} with this configuration; it emits "
                f"{', '.join(sorted(emitted))}",
                field=obj_field,
            )
        channel = objective.split(":", 1)[0]
        if ":" in objective and channel not in ("train",) and channel not in channels:
            raise ValidationError(
                f"{objective!r} is measured on the {channel!r} channel, which the training "
                "job definition does not give",
                field=obj_field,
            )

    def _check_warm_start(self, req: CreateTuningJob) -> list[dict[str, Any]]:
        """Earlier trials to seed the search with: [{hyper_parameters, objective}]."""
        ws = req.warm_start_config
        if ws is None:
            return []
        out: list[dict[str, Any]] = []
        mine = req.training_job_definition.algorithm_specification.algorithm_name
        objective = req.hyper_parameter_tuning_job_config.hyper_parameter_tuning_job_objective
        for i, parent in enumerate(ws.parent_hyper_parameter_tuning_jobs):
            field = f"warm_start_config.parent_hyper_parameter_tuning_jobs[{i}].hyper_parameter_tuning_job_name"
            job = self.supervisor.get(KIND, parent.hyper_parameter_tuning_job_name)
            if job.status not in TERMINAL:
                raise ValidationError("a parent tuning job must have ended", field=field)
            pspec = job.spec
            p_obj = pspec["hyper_parameter_tuning_job_config"][
                "hyper_parameter_tuning_job_objective"
            ]
            if p_obj["metric_name"] != objective.metric_name or p_obj["type"] != objective.type:
                raise ValidationError(
                    "a parent must have the same objective metric and type", field=field
                )
            if ws.warm_start_type == "IdenticalDataAndAlgorithm":
                p_def = pspec["training_job_definition"]
                if p_def["algorithm_specification"].get("algorithm_name") != mine:
                    raise ValidationError(
                        "IdenticalDataAndAlgorithm needs the same algorithm", field=field
                    )
                same_data = [c["data_source"] for c in p_def["input_data_config"]] == [
                    c.data_source.model_dump()
                    for c in req.training_job_definition.input_data_config
                ]
                if not same_data:
                    raise ValidationError(
                        "IdenticalDataAndAlgorithm needs the same input data; use TransferLearning",
                        field=field,
                    )
            for trial in self.trials(job.name):
                metric = trial.get("final_hyper_parameter_tuning_job_objective_metric")
                if trial["objective_status"] == "Succeeded" and metric:
                    out.append(
                        {
                            "hyper_parameters": trial["tuned_hyper_parameters"],
                            "objective": metric["value"],
                        }
                    )
        return out

    # -- reading ----------------------------------------------------------------

    def trial_rows(self, name: str) -> list[Job]:
        """The training jobs of a tuning job, oldest first."""
        with self.supervisor.db.session() as s:
            q = (
                sa.select(Job)
                .join(Tag, Tag.resource_arn == Job.arn)
                .where(Job.kind == "training", Tag.key == TRIAL_TAG, Tag.value == name)
                .order_by(Job.creation_time, Job.id)
            )
            return list(s.scalars(q))

    def trials(self, name: str, job: Job | None = None) -> list[dict[str, Any]]:
        """HyperParameterTrainingJobSummary rows (ListTrainingJobsForHyperParameterTuningJob)."""
        job = job or self.supervisor.get(KIND, name)
        cfg = job.spec["hyper_parameter_tuning_job_config"]
        objective = cfg["hyper_parameter_tuning_job_objective"]
        tuned = {r.name for r in ranges_from_spec(cfg["parameter_ranges"])}
        from sageforge.core.jobs import final_metrics

        rows = []
        for t in self.trial_rows(name):
            finals = {m["metric_name"]: m["value"] for m in final_metrics(self.supervisor.db, t.id)}
            value = finals.get(objective["metric_name"])
            if t.status not in TERMINAL:
                status = "Pending"
            elif value is None or (t.status == "Failed"):
                status = "Failed"
            else:
                status = "Succeeded"
            hps = t.spec.get("hyper_parameters", {})
            rows.append(
                {
                    "training_job_name": t.name,
                    "training_job_arn": t.arn,
                    "tuning_job_name": name,
                    "training_job_status": t.status,
                    "creation_time": t.creation_time,
                    "training_start_time": t.start_time,
                    "training_end_time": t.end_time,
                    "tuned_hyper_parameters": {k: v for k, v in hps.items() if k in tuned},
                    "final_hyper_parameter_tuning_job_objective_metric": None
                    if value is None
                    else {
                        "type": objective["type"],
                        "metric_name": objective["metric_name"],
                        "value": value,
                    },
                    "objective_status": status,
                    "failure_reason": t.failure_reason
                    or (
                        f"the objective metric {objective['metric_name']} was never reported"
                        if t.status in TERMINAL and value is None
                        else None
                    ),
                }
            )
        return rows

    def render(self, job: Job) -> dict[str, Any]:
        """DescribeHyperParameterTuningJob, snake_case."""
        trials = self.trials(job.name, job)
        cfg = job.spec["hyper_parameter_tuning_job_config"]
        sign = 1 if cfg["hyper_parameter_tuning_job_objective"]["type"] == "Maximize" else -1
        scored = [t for t in trials if t["objective_status"] == "Succeeded"]
        best = max(
            scored,
            key=lambda t: sign * t["final_hyper_parameter_tuning_job_objective_metric"]["value"],
            default=None,
        )
        counts = {s: 0 for s in ("Completed", "InProgress", "Stopped", "Failed")}
        for t in trials:
            key = t["training_job_status"] if t["training_job_status"] in counts else "InProgress"
            counts[key] += 1
        seconds = (job.end_time or job.last_modified_time) - job.creation_time
        return {
            "hyper_parameter_tuning_job_name": job.name,
            "hyper_parameter_tuning_job_arn": job.arn,
            "hyper_parameter_tuning_job_status": job.status,
            "failure_reason": job.failure_reason,
            "hyper_parameter_tuning_job_config": cfg,
            "training_job_definition": job.spec["training_job_definition"],
            "warm_start_config": job.spec.get("warm_start_config"),
            "creation_time": job.creation_time,
            "hyper_parameter_tuning_end_time": job.end_time,
            "last_modified_time": job.last_modified_time,
            "training_job_status_counters": {
                "completed": counts["Completed"],
                "in_progress": counts["InProgress"],
                "retryable_error": 0,
                "non_retryable_error": counts["Failed"],
                "stopped": counts["Stopped"],
            },
            "objective_status_counters": {
                "succeeded": len(scored),
                "pending": sum(t["objective_status"] == "Pending" for t in trials),
                "failed": sum(t["objective_status"] == "Failed" for t in trials),
            },
            "best_training_job": best,
            "consumed_resources": {"runtime_in_seconds": int(seconds.total_seconds())},
            "max_number_of_training_jobs": job.spec["resolved"]["max_number_of_training_jobs"],
            "analysis_report": (job.outputs or {}).get("analysis_report"),
            "secondary_status_transitions": transitions(job),
            "tags": job_tags(self.supervisor.db, job.arn),
        }

    def summary(self, job: Job) -> dict[str, Any]:
        """One row of ListHyperParameterTuningJobs."""
        d = self.render(job)
        return {
            k: d[k]
            for k in (
                "hyper_parameter_tuning_job_name",
                "hyper_parameter_tuning_job_arn",
                "hyper_parameter_tuning_job_status",
                "creation_time",
                "hyper_parameter_tuning_end_time",
                "last_modified_time",
                "training_job_status_counters",
                "objective_status_counters",
            )
        } | {"strategy": job.spec["hyper_parameter_tuning_job_config"]["strategy"]}


def _corners(r: ParameterRange) -> list[str]:
    """Extreme values of a range, to validate every combination the search may try."""
    if r.kind == "categorical":
        return list(r.values)
    cast = int if r.kind == "integer" else float
    return sorted({str(cast(r.min_value)), str(cast(r.max_value))})
