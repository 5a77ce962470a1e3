"""The organisation administration owns: communities, member facilities, the handover.

Revision ID: administration_0001
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "administration_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("administration",)
depends_on: str | Sequence[str] | None = None

_Instant = sa.DateTime(timezone=True)


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
        sa.Column("opening_hours", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("closed_on", sa.Date()),
        sa.Column("closure_reason", sa.String(32)),
        sa.Column("merged_into_facility_id", sa.String(64)),
        sa.Column("updated_at", _Instant, nullable=False),
    )
    op.create_table(
        "organisation_handover",
        sa.Column("handover_id", sa.String(32), primary_key=True),
        sa.Column("records_read", sa.Integer(), nullable=False),
        sa.Column("communities_adopted", sa.Integer(), nullable=False),
        sa.Column("facilities_adopted", sa.Integer(), nullable=False),
        sa.Column("completed_at", _Instant, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("organisation_handover")
    op.drop_table("facilities")
    op.drop_table("communities")
