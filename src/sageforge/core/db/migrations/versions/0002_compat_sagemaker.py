"""compat-sagemaker: the AWS requests behind resources made through the SageMaker API

Revision ID: 0002_compat_sagemaker
Revises: 0001
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sageforge.core.db._types

revision: str = "0002_compat_sagemaker"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("compat_sagemaker",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    utc = sageforge.core.db._types.UTCDateTime(timezone=True)
    op.create_table(
        "compat_sagemaker_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("native_created", utc, nullable=True),
        sa.Column("creation_time", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compat_sagemaker_requests")),
        sa.UniqueConstraint("kind", "name", name=op.f("uq_compat_sagemaker_requests_kind_name")),
    )


def downgrade() -> None:
    op.drop_table("compat_sagemaker_requests")
