"""The hosting tables: models, endpoint configurations, endpoints, their workers and metrics.

Models and endpoint configurations are immutable documents (SageMaker's are
too), so each is its validated request kept as JSON. An endpoint row carries
its lifecycle (status, failure reason), the port its URL keeps across server
restarts, and `state`: the variants it serves now (weights and instance counts
after UpdateEndpointWeightsAndCapacities) and what its last deployment did.
Worker rows record process identities so a server that died without stopping
its workers can find and end them before serving again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from sageforge.core.db import Base, UTCDateTime, utcnow


class DeployModel(Base):
    """A Model: artifact(s) plus how to serve them (built-in, inference.py, pipeline)."""

    __tablename__ = "deploy_models"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63), unique=True)
    arn: Mapped[str] = mapped_column(sa.String(256), unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    creation_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EndpointConfig(Base):
    """An EndpointConfig: production and shadow variants, data capture, async settings."""

    __tablename__ = "endpoint_configs"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63), unique=True)
    arn: Mapped[str] = mapped_column(sa.String(256), unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    creation_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Endpoint(Base):
    """An Endpoint: Creating → InService | Failed, Updating, Deleting."""

    __tablename__ = "endpoints"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63), unique=True)
    arn: Mapped[str] = mapped_column(sa.String(256), unique=True)
    status: Mapped[str] = mapped_column(sa.String(32))
    config_name: Mapped[str] = mapped_column(sa.String(63))
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    port: Mapped[int | None] = mapped_column(sa.Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    state: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    creation_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_modified_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EndpointWorker(Base):
    """One worker process of an endpoint, so orphans can be found after a crash."""

    __tablename__ = "endpoint_workers"
    __table_args__ = (sa.Index("ix_endpoint_workers_endpoint_name", "endpoint_name"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    endpoint_name: Mapped[str] = mapped_column(sa.String(63))
    fleet: Mapped[str] = mapped_column(sa.String(32))
    variant: Mapped[str] = mapped_column(sa.String(63))
    pid: Mapped[int] = mapped_column(sa.Integer)
    pid_create_time: Mapped[float] = mapped_column(sa.Float)


class EndpointMetricPoint(Base):
    """One period of one variant's traffic: what Studio charts."""

    __tablename__ = "endpoint_metric_points"
    __table_args__ = (
        sa.Index("ix_endpoint_metric_points_endpoint_name_timestamp", "endpoint_name", "timestamp"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    endpoint_name: Mapped[str] = mapped_column(sa.String(63))
    variant: Mapped[str] = mapped_column(sa.String(63))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    period_s: Mapped[float] = mapped_column(sa.Float)
    invocations: Mapped[int] = mapped_column(sa.Integer)
    errors_4xx: Mapped[int] = mapped_column(sa.Integer)
    errors_5xx: Mapped[int] = mapped_column(sa.Integer)
    model_latency_ms: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    overhead_latency_ms: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
