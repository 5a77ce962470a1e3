"""Result mutual recognition: the county's result index and the decisions on orders.

Revision ID: quality_0002
Revises: quality_0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "quality_0002"
down_revision: str | Sequence[str] | None = "quality_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Instant = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "result_index",
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("result_id", sa.String(length=64), nullable=False),
        sa.Column("patient_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("test_code", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("reported_at", _Instant, nullable=False),
        sa.PrimaryKeyConstraint("facility_id", "result_id"),
    )
    op.create_index(
        "ix_result_index_patient_item",
        "result_index",
        ["patient_pseudonym", "test_code", "reported_at"],
    )
    op.create_table(
        "order_decisions",
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("test_code", sa.String(length=32), nullable=False),
        sa.Column("recognised", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("earlier_result_id", sa.String(length=64), nullable=True),
        sa.Column("decided_at", _Instant, nullable=False),
        sa.PrimaryKeyConstraint("facility_id", "order_id"),
    )


def downgrade() -> None:
    op.drop_table("order_decisions")
    op.drop_index("ix_result_index_patient_item", table_name="result_index")
    op.drop_table("result_index")
