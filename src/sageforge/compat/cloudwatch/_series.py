"""Where CloudWatch metrics come from in sageforge.

- namespace `/aws/sagemaker/TrainingJobs`, dimension `TrainingJobName`: every
  metric a training job reported (the `job_metrics` table, one sample per
  observation), as SageMaker publishes its jobs' metric definitions;
- namespace `AWS/SageMaker`, dimensions `EndpointName` and `VariantName`: an
  endpoint's traffic, from the deploy service's per-period points.
  `ModelLatency` and `OverheadLatency` are in microseconds as on AWS. sageforge
  keeps latency histograms per period, not single requests, so a latency
  sample is one period's average weighted by its invocations: Average and
  SampleCount are exact, Minimum/Maximum/percentiles are over those averages.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from sageforge.compat.cloudwatch._statistics import Sample
from sageforge.core.db import Database, Job, JobMetric

TRAINING_NAMESPACE = "/aws/sagemaker/TrainingJobs"
ENDPOINT_NAMESPACE = "AWS/SageMaker"
ENDPOINT_METRICS: dict[str, str] = {
    "Invocations": "None",
    "Invocation4XXErrors": "None",
    "Invocation5XXErrors": "None",
    "ModelLatency": "Microseconds",
    "OverheadLatency": "Microseconds",
}
"""Endpoint metric name → CloudWatch unit."""


@dataclass(frozen=True)
class MetricId:
    """A metric as ListMetrics names it."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "Namespace": self.namespace,
            "MetricName": self.name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
        }


def training_samples(db: Database, job_name: str, metric: str) -> list[Sample]:
    """Every observation of one training job's metric."""
    with db.session() as s:
        rows = s.execute(
            sa.select(JobMetric.timestamp, JobMetric.value)
            .join(Job, Job.id == JobMetric.job_id)
            .where(Job.kind == "training", Job.name == job_name, JobMetric.name == metric)
            .order_by(JobMetric.timestamp, JobMetric.step)
        ).all()
    return [Sample(time=t.timestamp(), value=float(v)) for t, v in rows]


def endpoint_samples(db: Database, endpoint: str, variant: str | None, metric: str) -> list[Sample]:
    """One sample per recorded period of an endpoint (all variants when `variant` is None)."""
    from sageforge.deploy._models import EndpointMetricPoint as Point

    query = sa.select(Point).where(Point.endpoint_name == endpoint).order_by(Point.timestamp)
    if variant is not None:
        query = query.where(Point.variant == variant)
    with db.session() as s:
        points = s.scalars(query).all()
    out = []
    for p in points:
        when = p.timestamp.timestamp()
        if metric == "Invocations":
            out.append(Sample(when, float(p.invocations)))
        elif metric == "Invocation4XXErrors":
            out.append(Sample(when, float(p.errors_4xx)))
        elif metric == "Invocation5XXErrors":
            out.append(Sample(when, float(p.errors_5xx)))
        else:
            summary = p.model_latency_ms if metric == "ModelLatency" else p.overhead_latency_ms
            average = (summary or {}).get("average")
            if average is not None and p.invocations:
                out.append(Sample(when, float(average) * 1000.0, float(p.invocations)))
    return out


def all_metrics(db: Database) -> list[MetricId]:
    """Every metric that has data, training jobs' first."""
    from sageforge.deploy._models import EndpointMetricPoint as Point

    with db.session() as s:
        training = s.execute(
            sa.select(Job.name, JobMetric.name)
            .join(Job, Job.id == JobMetric.job_id)
            .where(Job.kind == "training")
            .distinct()
            .order_by(Job.name, JobMetric.name)
        ).all()
        variants = s.execute(
            sa.select(Point.endpoint_name, Point.variant)
            .distinct()
            .order_by(Point.endpoint_name, Point.variant)
        ).all()
    out = [
        MetricId(TRAINING_NAMESPACE, metric, (("TrainingJobName", job),))
        for job, metric in training
    ]
    for endpoint, variant in variants:
        for metric in ENDPOINT_METRICS:
            out.append(
                MetricId(
                    ENDPOINT_NAMESPACE,
                    metric,
                    (("EndpointName", endpoint), ("VariantName", variant)),
                )
            )
    return out
