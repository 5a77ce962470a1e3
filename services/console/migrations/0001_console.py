"""The console's tables: accounts, sessions, sign-in attempts, account changes.

Revision ID: console_0001
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "console_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("console",)
depends_on: str | Sequence[str] | None = None

_Instant = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=60), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _Instant, nullable=False),
        sa.Column("password_changed_at", _Instant, nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "console_sessions",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("created_at", _Instant, nullable=False),
        sa.Column("last_seen_at", _Instant, nullable=False),
        sa.Column("ended_at", _Instant, nullable=True),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index("ix_console_sessions_username", "console_sessions", ["username"])
    op.create_table(
        "sign_in_attempts",
        sa.Column("attempt_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("at", _Instant, nullable=False),
        sa.PrimaryKeyConstraint("attempt_id"),
    )
    for column in ("username", "client", "at"):
        op.create_index(f"ix_sign_in_attempts_{column}", "sign_in_attempts", [column])
    op.create_table(
        "account_changes",
        sa.Column("change_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("change", sa.String(length=200), nullable=False),
        sa.Column("at", _Instant, nullable=False),
        sa.PrimaryKeyConstraint("change_id"),
    )
    op.create_index("ix_account_changes_username", "account_changes", ["username"])


def downgrade() -> None:
    for table in ("account_changes", "sign_in_attempts", "console_sessions", "accounts"):
        op.drop_table(table)
