"""The metadata DB's tables.

Jobs of every kind share one table: their lifecycle (status, secondary status,
failure reason, process identity, times) is the same and is what the
supervisor works on; what differs per kind (channels, inputs, outputs) is the
validated request kept as JSON in `spec`, and what the job produced in
`outputs`. Nothing here is SQLite-specific; PostgreSQL runs the same models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from sageforge.core.db._types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints stably."""

    metadata = sa.MetaData(naming_convention=NAMING)


class Job(Base):
    """A training or processing job (later: transform, tuning trials …)."""

    __tablename__ = "jobs"
    __table_args__ = (
        sa.UniqueConstraint("kind", "name"),
        sa.Index("ix_jobs_kind_status", "kind", "status"),
        sa.Index("ix_jobs_creation_time", "creation_time"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(63))
    arn: Mapped[str] = mapped_column(sa.String(256), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    secondary_status: Mapped[str | None] = mapped_column(sa.String(32))
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    spec: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    outputs: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    workdir: Mapped[str] = mapped_column(sa.Text)
    pid: Mapped[int | None] = mapped_column(sa.Integer)
    pid_create_time: Mapped[float | None] = mapped_column(sa.Float)
    stop_reason: Mapped[str | None] = mapped_column(sa.String(32))
    stop_requested_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    creation_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_modified_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    start_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime)

    transitions: Mapped[list[JobStatusTransition]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="JobStatusTransition.id"
    )


class JobStatusTransition(Base):
    """One secondary-status step of a job, as SageMaker's SecondaryStatusTransitions."""

    __tablename__ = "job_status_transitions"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(sa.ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(32))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    start_time: Mapped[datetime] = mapped_column(UTCDateTime)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime)

    job: Mapped[Job] = relationship(back_populates="transitions")


class JobMetric(Base):
    """One observation of a job's metric (a time series per metric name)."""

    __tablename__ = "job_metrics"
    __table_args__ = (sa.Index("ix_job_metrics_job_id_name_step", "job_id", "name", "step"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(sa.ForeignKey("jobs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(255))
    value: Mapped[float] = mapped_column(sa.Float)
    step: Mapped[int] = mapped_column(sa.Integer)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)


class Tag(Base):
    """A key/value tag on any resource, keyed by the resource's ARN."""

    __tablename__ = "tags"
    __table_args__ = (sa.UniqueConstraint("resource_arn", "key"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    resource_arn: Mapped[str] = mapped_column(sa.String(256), index=True)
    key: Mapped[str] = mapped_column(sa.String(128))
    value: Mapped[str] = mapped_column(sa.String(256), default="")
