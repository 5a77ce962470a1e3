"""Running consumption: packs dispensed per facility, drug and county business day, and each
stock item's first movement, so the re-order levels no longer sum the stock card each time.
Both are filled from the existing stock card.

Revision ID: pharmacy_0004
Revises: pharmacy_0003
Create Date: 2026-12-03
"""

from collections import Counter
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

from libs.platform.settings import PlatformSettings

revision: str = "pharmacy_0004"
down_revision: str | Sequence[str] | None = "pharmacy_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_card = sa.table(
    "stock_card_lines",
    sa.column("facility_id", sa.String),
    sa.column("drug_code", sa.String),
    sa.column("kind", sa.String),
    sa.column("quantity", sa.Integer),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    daily = op.create_table(
        "daily_consumption",
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("drug_code", sa.String(length=64), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("dispensed", sa.Integer(), nullable=False),
        sa.CheckConstraint("dispensed >= 0", name="ck_daily_consumption_dispensed"),
        sa.PrimaryKeyConstraint("facility_id", "drug_code", "business_day"),
    )
    op.add_column(
        "stock_items",
        sa.Column(
            "first_moved_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Its first stock-card line: how old the item is, for the consumption window.",
        ),
    )
    op.execute(
        "UPDATE stock_items SET first_moved_at = (SELECT min(c.occurred_at)"
        " FROM stock_card_lines c WHERE c.facility_id = stock_items.facility_id"
        " AND c.drug_code = stock_items.drug_code)"
    )
    _backfill_consumption(daily)


def _backfill_consumption(daily: sa.Table) -> None:
    # Business days are the county's (COUNTY_TIMEZONE, as the process that migrates has it):
    # summed here in Python because SQLite cannot shift an instant into a named zone.
    clock = PlatformSettings().county_clock()
    totals: Counter[tuple[str, str, date]] = Counter()
    lines = op.get_bind().execute(
        sa.select(_card.c.facility_id, _card.c.drug_code, _card.c.occurred_at, _card.c.quantity)
        .where(_card.c.kind == "dispense")
        .execution_options(yield_per=5000)
    )
    for facility_id, drug_code, occurred_at, quantity in lines:
        totals[(facility_id, drug_code, clock.date_of(occurred_at))] -= quantity
    rows = [
        {"facility_id": f, "drug_code": d, "business_day": day, "dispensed": packs}
        for (f, d, day), packs in sorted(totals.items())
    ]
    for start in range(0, len(rows), 5000):
        op.bulk_insert(daily, rows[start : start + 5000])


def downgrade() -> None:
    with op.batch_alter_table("stock_items") as batch:
        batch.drop_column("first_moved_at")
    op.drop_table("daily_consumption")
