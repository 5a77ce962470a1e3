"""The organisation replica (branch ``directory``).

Revision ID: directory_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "directory_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("directory",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_communities",
        sa.Column("community_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("county_code", sa.String(32), nullable=False),
        sa.Column("lead_facility_id", sa.String(64), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "directory_facilities",
        sa.Column("facility_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("community_id", sa.String(64), nullable=False),
        sa.Column("county_code", sa.String(32), nullable=False),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("facility_type", sa.String(32), nullable=False),
        sa.Column("parent_facility_id", sa.String(64)),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("closed_on", sa.Date()),
        sa.Column(
            "as_of",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="Time of the event this row reflects; older ones lose.",
        ),
    )
    op.create_index(
        "ix_directory_facilities_community_id", "directory_facilities", ["community_id"]
    )


def downgrade() -> None:
    op.drop_table("directory_facilities")
    op.drop_table("directory_communities")
