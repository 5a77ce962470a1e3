"""The quality service's tables: prescription reviews, its copy of the prescribers, the
review policy it last published.

Revision ID: quality_0001
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "quality_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("quality",)
depends_on: str | Sequence[str] | None = None

_Instant = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("prescription_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("before_dispensing", sa.Boolean(), nullable=False),
        sa.Column("prescriber_id", sa.String(length=64), nullable=True),
        sa.Column("antibiotic", sa.Boolean(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("prescription", sa.JSON(), nullable=False),
        sa.Column("reviewed_at", _Instant, nullable=False),
        sa.Column("held_at", _Instant, nullable=True),
        sa.Column("decide_by", _Instant, nullable=True),
        sa.Column("decided_at", _Instant, nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("overdue_at", _Instant, nullable=True),
        sa.PrimaryKeyConstraint("facility_id", "prescription_id"),
    )
    op.create_index("ix_reviews_state_decide_by", "reviews", ["state", "decide_by"])
    op.create_table(
        "prescribers",
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=32), nullable=False),
        sa.Column("home_facility_id", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("as_of", _Instant, nullable=False),
        sa.PrimaryKeyConstraint("staff_id"),
    )
    op.create_table(
        "published_policy",
        sa.Column("county_code", sa.String(length=32), nullable=False),
        sa.Column("review_before_dispensing", sa.JSON(), nullable=False),
        sa.Column("published_at", _Instant, nullable=False),
        sa.PrimaryKeyConstraint("county_code"),
    )


def downgrade() -> None:
    for table in ("published_policy", "prescribers", "reviews"):
        op.drop_table(table)
