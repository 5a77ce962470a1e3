"""The durations of decided prescription holds (the quality service's), ranked for the
review hold-time percentiles.

Revision ID: reporting_0004
Revises: reporting_0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reporting_0004"
down_revision: str | Sequence[str] | None = "reporting_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_holds",
        sa.Column("facility_id", sa.String(64), primary_key=True),
        sa.Column("prescription_id", sa.String(64), primary_key=True),
        sa.Column("community_id", sa.String(64), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("month", sa.String(10), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
    )
    op.create_index("ix_review_holds_day", "review_holds", ["day"])
    op.create_index("ix_review_holds_month", "review_holds", ["month"])


def downgrade() -> None:
    op.drop_index("ix_review_holds_month", table_name="review_holds")
    op.drop_index("ix_review_holds_day", table_name="review_holds")
    op.drop_table("review_holds")
