"""The gateway's tables: member systems, submissions and accepted facts, feed health.

Revision ID: gateway_0001
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("gateway",)
depends_on: str | Sequence[str] | None = None

_Instant = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "member_systems",
        sa.Column("system_id", sa.String(length=64), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("opening_hours", sa.JSON(), nullable=False),
        sa.Column("silent_after_minutes", sa.Float(), nullable=False),
        sa.Column("requests_per_minute", sa.Integer(), nullable=False),
        sa.Column("burst", sa.Integer(), nullable=False),
        sa.Column("max_request_bytes", sa.Integer(), nullable=False),
        sa.Column("secret_salt", sa.String(length=64), nullable=True),
        sa.Column("secret_digest", sa.String(length=64), nullable=True),
        sa.Column("secret_issued_at", _Instant, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("registered_at", _Instant, nullable=False),
        sa.PrimaryKeyConstraint("system_id"),
    )
    op.create_index("ix_member_systems_facility_id", "member_systems", ["facility_id"])
    op.create_table(
        "submissions",
        sa.Column("system_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("body_digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("received_at", _Instant, nullable=False),
        sa.PrimaryKeyConstraint("system_id", "message_id"),
    )
    op.create_table(
        "accepted_facts",
        sa.Column("fact", sa.String(length=300), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("system_id", sa.String(length=64), nullable=False),
        sa.Column("accepted_at", _Instant, nullable=False),
        sa.PrimaryKeyConstraint("fact"),
    )
    op.create_index("ix_accepted_facts_accepted_at", "accepted_facts", ["accepted_at"])
    op.create_table(
        "feed_states",
        sa.Column("system_id", sa.String(length=64), nullable=False),
        sa.Column("last_message_at", _Instant, nullable=True),
        sa.Column("last_refusal_at", _Instant, nullable=True),
        sa.Column("silent_since", _Instant, nullable=True),
        sa.PrimaryKeyConstraint("system_id"),
    )
    op.create_table(
        "feed_hours",
        sa.Column("system_id", sa.String(length=64), nullable=False),
        sa.Column("hour", _Instant, nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("system_id", "hour"),
    )
    op.create_table(
        "feed_refusals",
        sa.Column("system_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", _Instant, nullable=False),
        sa.PrimaryKeyConstraint("system_id", "reason"),
    )


def downgrade() -> None:
    for table in (
        "feed_refusals",
        "feed_hours",
        "feed_states",
        "accepted_facts",
        "submissions",
        "member_systems",
    ):
        op.drop_table(table)
