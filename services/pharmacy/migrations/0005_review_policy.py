"""Review before dispensing: pharmacy's copy of the county's review policy (from
``quality.policy.published.v1``) and the prescriptions it holds back for the review centre.

Revision ID: pharmacy_0005
Revises: pharmacy_0004
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "pharmacy_0005"
down_revision: str | Sequence[str] | None = "pharmacy_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_policy",
        sa.Column("county_code", sa.String(length=32), nullable=False),
        sa.Column("review_before_dispensing", sa.JSON(), nullable=False),
        sa.Column(
            "published_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="Quality's publication time; an older one loses.",
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("county_code"),
    )
    op.create_table(
        "awaiting_review",
        sa.Column("prescription_id", sa.String(length=64), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "held_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="When pharmacy received it and held it back.",
        ),
        sa.PrimaryKeyConstraint("prescription_id"),
    )
    with op.batch_alter_table("awaiting_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_awaiting_review_facility_id"), ["facility_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("awaiting_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_awaiting_review_facility_id"))
    op.drop_table("awaiting_review")
    op.drop_table("review_policy")
