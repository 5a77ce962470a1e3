"""The organisation the staffing service owns: communities and facilities.

Revision ID: staffing_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "staffing_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("staffing",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "communities",
        sa.Column("community_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("county_code", sa.String(32), nullable=False),
        sa.Column("lead_facility_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "facilities",
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
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("facilities")
    op.drop_table("communities")
