"""The shared TCM pharmacy (共享中药房): its orders and where each stands.

Revision ID: quality_0004
Revises: quality_0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.money import ExactDecimal

revision: str = "quality_0004"
down_revision: str | Sequence[str] | None = "quality_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Instant = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "herbal_orders",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("prescription_id", sa.String(length=64), nullable=False),
        sa.Column("pharmacy_facility_id", sa.String(length=64), nullable=False),
        sa.Column("patient_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("doses", sa.Integer(), nullable=False),
        sa.Column("decoct", sa.Boolean(), nullable=False),
        sa.Column("deliver_home", sa.Boolean(), nullable=False),
        sa.Column("preparation_fee", ExactDecimal(16, 2), nullable=False),
        sa.Column("decoction_fee", ExactDecimal(16, 2), nullable=False),
        sa.Column("delivery_fee", ExactDecimal(16, 2), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("accepted_at", _Instant, nullable=False),
        sa.Column("deliver_by", _Instant, nullable=False),
        sa.Column("decoction_started_at", _Instant, nullable=True),
        sa.Column("dispatched_at", _Instant, nullable=True),
        sa.Column("delivered_at", _Instant, nullable=True),
        sa.Column("failed_at", _Instant, nullable=True),
        sa.Column("failure_reason", sa.String(length=32), nullable=True),
        sa.Column("overdue_at", _Instant, nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("order_id"),
        sa.UniqueConstraint("facility_id", "prescription_id", name="uq_herbal_orders_prescription"),
    )
    op.create_index("ix_herbal_orders_state_deliver_by", "herbal_orders", ["state", "deliver_by"])


def downgrade() -> None:
    op.drop_index("ix_herbal_orders_state_deliver_by", table_name="herbal_orders")
    op.drop_table("herbal_orders")
