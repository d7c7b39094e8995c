"""Tables of data preparation: datasets, flows and every saved version of a flow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sageforge.core.db import Base, UTCDateTime, utcnow


class DatasetRecord(Base):
    """An imported table: where it lives, how to read it, its schema and size."""

    __tablename__ = "data_datasets"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63), unique=True)
    arn: Mapped[str] = mapped_column(sa.String(256), unique=True)
    source_url: Mapped[str] = mapped_column(sa.Text)
    format: Mapped[str] = mapped_column(sa.String(16))
    read_options: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    schema: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    """[{name, type, inferred_type}] — `type` is the inferred type unless overridden."""
    row_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    creation_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_modified_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlowRecord(Base):
    """A named flow; its documents are its versions, the newest being current."""

    __tablename__ = "data_flows"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63), unique=True)
    arn: Mapped[str] = mapped_column(sa.String(256), unique=True)
    latest_version: Mapped[int] = mapped_column(sa.Integer, default=1)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    last_export_job: Mapped[str | None] = mapped_column(sa.String(63))
    creation_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_modified_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[FlowVersionRecord]] = relationship(
        back_populates="flow", cascade="all, delete-orphan", order_by="FlowVersionRecord.version"
    )


class FlowVersionRecord(Base):
    """One saved document of a flow; `fitted_document` is filled by its export job."""

    __tablename__ = "data_flow_versions"
    __table_args__ = (sa.UniqueConstraint("flow_id", "version"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    flow_id: Mapped[int] = mapped_column(sa.ForeignKey("data_flows.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(sa.Integer)
    document: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    fitted_document: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    fitted_by_job: Mapped[str | None] = mapped_column(sa.String(63))
    creation_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    flow: Mapped[FlowRecord] = relationship(back_populates="versions")
