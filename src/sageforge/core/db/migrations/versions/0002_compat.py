"""compat: access keys for AWS-style (SigV4) requests

Revision ID: 0002_compat
Revises: 0001
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sageforge.core.db._types

revision: str = "0002_compat"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("compat",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    utc = sageforge.core.db._types.UTCDateTime(timezone=True)
    op.create_table(
        "compat_access_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("access_key_id", sa.String(length=128), nullable=False),
        sa.Column("secret_access_key", sa.String(length=128), nullable=False),
        sa.Column("description", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=True),
        sa.Column("creation_time", utc, nullable=False),
        sa.Column("last_used_time", utc, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compat_access_keys")),
        sa.UniqueConstraint("access_key_id", name=op.f("uq_compat_access_keys_access_key_id")),
        sa.UniqueConstraint("is_default", name=op.f("uq_compat_access_keys_is_default")),
    )


def downgrade() -> None:
    op.drop_table("compat_access_keys")
