"""The table of access keys that sign AWS-style requests to sageforge."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from sageforge.core.db import Base, UTCDateTime, utcnow


class AccessKeyRecord(Base):
    """One key pair. The secret is stored as is: SigV4 verification needs the secret itself
    (the server recomputes the HMAC), so it cannot be hashed like a password."""

    __tablename__ = "compat_access_keys"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    access_key_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
    secret_access_key: Mapped[str] = mapped_column(sa.String(128))
    description: Mapped[str] = mapped_column(sa.String(256), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="Active")
    """Active or Inactive (revoked); revoked keys stay listed so their use is explained."""
    is_default: Mapped[bool | None] = mapped_column(sa.Boolean, unique=True, nullable=True)
    """True for the one local default key, NULL otherwise (so the unique index allows one)."""
    creation_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
