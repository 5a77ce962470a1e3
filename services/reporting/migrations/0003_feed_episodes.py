"""Silent feed episodes (the gateway's), counted up to now while they last.

Revision ID: reporting_0003
Revises: reporting_0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reporting_0003"
down_revision: str | Sequence[str] | None = "reporting_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed_episodes",
        sa.Column("system_id", sa.String(64), primary_key=True),
        sa.Column("silent_since", sa.String(32), primary_key=True),
        sa.Column("facility_id", sa.String(64), nullable=False),
        sa.Column("counted_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resumed", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_feed_episodes_resumed", "feed_episodes", ["resumed"])


def downgrade() -> None:
    op.drop_index("ix_feed_episodes_resumed", table_name="feed_episodes")
    op.drop_table("feed_episodes")
