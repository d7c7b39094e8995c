"""data preparation: datasets, flows, flow versions

Revision ID: 0002_data
Revises: 0001
Create Date: 2026-11-23 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sageforge.core.db._types

revision: str = "0002_data"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("data",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    utc = sageforge.core.db._types.UTCDateTime(timezone=True)
    op.create_table(
        "data_datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("arn", sa.String(length=256), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("read_options", sa.JSON(), nullable=False),
        sa.Column("schema", sa.JSON(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("creation_time", utc, nullable=False),
        sa.Column("last_modified_time", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_datasets")),
        sa.UniqueConstraint("arn", name=op.f("uq_data_datasets_arn")),
        sa.UniqueConstraint("name", name=op.f("uq_data_datasets_name")),
    )
    op.create_table(
        "data_flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("arn", sa.String(length=256), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("last_export_job", sa.String(length=63), nullable=True),
        sa.Column("creation_time", utc, nullable=False),
        sa.Column("last_modified_time", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_flows")),
        sa.UniqueConstraint("arn", name=op.f("uq_data_flows_arn")),
        sa.UniqueConstraint("name", name=op.f("uq_data_flows_name")),
    )
    op.create_table(
        "data_flow_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("fitted_document", sa.JSON(), nullable=True),
        sa.Column("fitted_by_job", sa.String(length=63), nullable=True),
        sa.Column("creation_time", utc, nullable=False),
        sa.ForeignKeyConstraint(
            ["flow_id"],
            ["data_flows.id"],
            name=op.f("fk_data_flow_versions_flow_id_data_flows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_flow_versions")),
        sa.UniqueConstraint(
            "flow_id", "version", name=op.f("uq_data_flow_versions_flow_id_version")
        ),
    )


def downgrade() -> None:
    op.drop_table("data_flow_versions")
    op.drop_table("data_flows")
    op.drop_table("data_datasets")
