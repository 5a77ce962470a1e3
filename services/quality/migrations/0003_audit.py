"""Prescription audit (处方点评): the dispensed prescriptions a month's sample is drawn from,
the samples per member and month, and the reviewers' verdicts.

Revision ID: quality_0003
Revises: quality_0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "quality_0003"
down_revision: str | Sequence[str] | None = "quality_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Instant = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dispensed_prescriptions",
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("prescription_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.Column("prescriber_id", sa.String(length=64), nullable=True),
        sa.Column("issued_at", _Instant, nullable=True),
        sa.Column("dispensed_at", _Instant, nullable=False),
        sa.Column("recorded_at", _Instant, nullable=False),
        sa.PrimaryKeyConstraint("facility_id", "prescription_id"),
    )
    op.create_index(
        "ix_dispensed_prescriptions_month", "dispensed_prescriptions", ["month", "facility_id"]
    )
    op.create_table(
        "audit_samples",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("prescriptions", sa.Integer(), nullable=False),
        sa.Column("sampled", sa.Integer(), nullable=False),
        sa.Column("drawn_at", _Instant, nullable=False),
        sa.Column("drawn_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", _Instant, nullable=True),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("month", "facility_id"),
    )
    op.create_table(
        "audit_items",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("prescription_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("prescriber_id", sa.String(length=64), nullable=True),
        sa.Column("verdict", sa.String(length=32), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("decided_at", _Instant, nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("month", "facility_id", "prescription_id"),
    )


def downgrade() -> None:
    op.drop_table("audit_items")
    op.drop_table("audit_samples")
    op.drop_index("ix_dispensed_prescriptions_month", table_name="dispensed_prescriptions")
    op.drop_table("dispensed_prescriptions")
