"""What each processed event said: a digest, so an id reused for other content is caught.

Revision ID: delivery_0002
Revises: delivery_0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "delivery_0002"
down_revision: str | Sequence[str] | None = "delivery_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: rows claimed before this revision, and unusable records claimed by position,
    # have no content to compare.
    with op.batch_alter_table("processed_events") as table:
        table.add_column(sa.Column("content_digest", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("processed_events") as table:
        table.drop_column("content_digest")
