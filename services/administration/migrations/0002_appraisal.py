"""The appraisal: the published figures it reads, its revisions, scorecards and notes.

Revision ID: administration_0002
Revises: administration_0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.money import ExactDecimal

revision: str = "administration_0002"
down_revision: str | Sequence[str] | None = "administration_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Instant = sa.DateTime(timezone=True)
_Money = ExactDecimal(16, 2)
_Score = ExactDecimal(7, 2)


def _inputs() -> None:
    op.create_table(
        "indicator_cells",
        sa.Column("cell_id", sa.String(200), primary_key=True),
        sa.Column("indicator", sa.String(64), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False, index=True),
        sa.Column("numerator", _Money, nullable=False),
        sa.Column("denominator", _Money, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "audit_results",
        sa.Column("facility_id", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("reviewed", sa.Integer(), nullable=False),
        sa.Column("irrational", sa.Integer(), nullable=False),
    )
    op.create_table(
        "delivered_sessions",
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("facility_id", sa.String(64), nullable=False, index=True),
        sa.Column("held_on", sa.Date(), nullable=False, index=True),
    )
    op.create_table(
        "budgets",
        sa.Column("budget_id", sa.String(64), primary_key=True),
        sa.Column("community_id", sa.String(64), nullable=False, index=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("total_amount", _Money, nullable=False),
    )
    op.create_table(
        "budget_settlements",
        sa.Column("budget_id", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("consumed", _Money, nullable=False),
    )


def upgrade() -> None:
    _inputs()
    op.create_table(
        "appraisals",
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("revision", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("drafted_at", _Instant, nullable=False),
        sa.Column("drafted_by", sa.String(64), nullable=False),
        sa.Column("computed_at", _Instant, nullable=False),
        sa.Column("approved_at", _Instant),
        sa.Column("approved_by", sa.String(64)),
        sa.Column("correction_reason", sa.Text()),
    )
    op.create_table(
        "scorecards",
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("revision", sa.Integer(), primary_key=True),
        sa.Column("facility_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("community_id", sa.String(64), nullable=False),
        sa.Column("facility_type", sa.String(32), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("computed", _Score, nullable=False),
        sa.Column("adjustment", _Score, nullable=False),
        sa.Column("adjustment_reason", sa.Text()),
        sa.Column("total", _Score, nullable=False),
    )
    op.create_table(
        "appraisal_notes",
        sa.Column("note_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("period", sa.String(7), nullable=False, index=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.String(64)),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("text", sa.Text()),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", _Instant, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "appraisal_notes",
        "scorecards",
        "appraisals",
        "budget_settlements",
        "budgets",
        "delivered_sessions",
        "audit_results",
        "indicator_cells",
    ):
        op.drop_table(table)
