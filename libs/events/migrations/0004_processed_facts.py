"""Business facts each consumer has applied, whatever event ids they arrived under.

Revision ID: delivery_0004
Revises: delivery_0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "delivery_0004"
down_revision: str | Sequence[str] | None = "delivery_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "processed_facts",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("fact", sa.String(400), primary_key=True),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("content_digest", sa.String(64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_processed_facts_processed_at", "processed_facts", ["processed_at"])


def downgrade() -> None:
    op.drop_table("processed_facts")
