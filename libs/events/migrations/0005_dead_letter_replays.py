"""Operators' replays of a consumer's dead letters (the console's 运维 workbench).

Revision ID: delivery_0005
Revises: delivery_0004
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "delivery_0005"
down_revision: str | Sequence[str] | None = "delivery_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dead_letter_replays",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("letter", sa.String(300), nullable=False),
        sa.Column("replayed_by", sa.String(200), nullable=False),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("corrected", sa.Boolean(), nullable=False),
        sa.Column("original_sha256", sa.String(64), nullable=False),
        sa.Column("replayed_sha256", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.String(2000)),
    )
    op.create_index(
        "ix_dead_letter_replays_letter", "dead_letter_replays", ["consumer", "letter", "id"]
    )


def downgrade() -> None:
    op.drop_table("dead_letter_replays")
