"""Start of the finance branch (the service's own tables come in later revisions).

Revision ID: finance_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

revision: str = "finance_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("finance",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
