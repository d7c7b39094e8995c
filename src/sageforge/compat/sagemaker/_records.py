"""The AWS requests behind resources made through the SageMaker API, kept to echo them back.

SageMaker's Describe* answers repeat what the caller sent (RoleArn, the
TrainingImage, VpcConfig, DebugHookConfig …) and the SageMaker SDK reads those
fields back (`Estimator.attach` needs RoleArn and the image). sageforge's
native specs keep only what a local run uses, so the request as sent is kept
here, keyed by resource kind and name, next to the native resource it made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from sageforge.core.db import Base, Database, UTCDateTime, utcnow


class SageMakerRequest(Base):
    """One Create* request as received (PascalCase, S3 URLs as the caller wrote them)."""

    __tablename__ = "compat_sagemaker_requests"
    __table_args__ = (sa.UniqueConstraint("kind", "name"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(63))
    request: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    native_created: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """The native resource's creation time: a request only describes the resource it made."""
    creation_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def remember(db: Database, kind: str, name: str, request: dict[str, Any], created: Any) -> None:
    """Keep `request` for the resource `kind`/`name` made at `created` (replacing a stale one)."""
    with db.session() as s:
        s.execute(
            sa.delete(SageMakerRequest).where(
                SageMakerRequest.kind == kind, SageMakerRequest.name == name
            )
        )
        s.add(
            SageMakerRequest(
                kind=kind,
                name=name,
                request=_jsonable(request),
                native_created=created if isinstance(created, datetime) else None,
            )
        )
        s.commit()


def recall(db: Database, kind: str, name: str, created: Any = None) -> dict[str, Any]:
    """The request that made `kind`/`name` ({} if it was made natively or another made it)."""
    with db.session() as s:
        row = s.scalar(
            sa.select(SageMakerRequest).where(
                SageMakerRequest.kind == kind, SageMakerRequest.name == name
            )
        )
    if row is None:
        return {}
    if (
        isinstance(created, datetime)
        and row.native_created is not None
        and abs((row.native_created - created).total_seconds()) > 1e-3
    ):
        return {}
    return dict(row.request)


def forget(db: Database, kind: str, name: str) -> None:
    with db.session() as s:
        s.execute(
            sa.delete(SageMakerRequest).where(
                SageMakerRequest.kind == kind, SageMakerRequest.name == name
            )
        )
        s.commit()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value
