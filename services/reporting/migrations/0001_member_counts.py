"""Member facility counts per community and tier.

Revision ID: reporting_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reporting_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("reporting",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_counts",
        sa.Column("community_id", sa.String(64), primary_key=True),
        sa.Column("tier", sa.String(20), primary_key=True),
        sa.Column("joined", sa.Integer(), nullable=False),
        sa.Column("left", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("member_counts")
