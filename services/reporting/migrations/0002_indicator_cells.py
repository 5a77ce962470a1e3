"""Indicator cells and stationing spans.

Revision ID: reporting_0002
Revises: reporting_0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.money import ExactDecimal

revision: str = "reporting_0002"
down_revision: str | Sequence[str] | None = "reporting_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indicator_cells",
        sa.Column("indicator", sa.String(32), primary_key=True),
        sa.Column("level", sa.String(16), primary_key=True),
        sa.Column("unit_id", sa.String(64), primary_key=True),
        sa.Column("period_kind", sa.String(8), primary_key=True),
        sa.Column("period", sa.String(10), primary_key=True),
        sa.Column("numerator", ExactDecimal(18, 2), nullable=False),
        sa.Column("denominator", ExactDecimal(18, 2), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_indicator_cells_period", "indicator_cells", ["indicator", "period_kind", "period"]
    )
    op.create_table(
        "stationing_spans",
        sa.Column("stationing_id", sa.String(64), primary_key=True),
        sa.Column("facility_id", sa.String(64), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("ended", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stationing_spans")
    op.drop_index("ix_indicator_cells_period", table_name="indicator_cells")
    op.drop_table("indicator_cells")
