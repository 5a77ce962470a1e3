"""Prices and amounts stored exactly: on SQLite a NUMERIC column is a binary float (and
``SUM()`` adds floats), so there they become scaled integers (``ExactDecimal``); PostgreSQL's
``NUMERIC(p, s)`` already is exact and is left alone.

Revision ID: pharmacy_0003
Revises: pharmacy_0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.money import ExactDecimal

revision: str = "pharmacy_0003"
down_revision: str | Sequence[str] | None = "pharmacy_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, column, precision, scale): unit prices to four places, amounts to the fen.
COLUMNS: tuple[tuple[str, str, int, int], ...] = (
    ("drugs", "unit_price", 14, 4),
    ("stock_lots", "unit_cost", 14, 4),
    ("stock_card_lines", "unit_cost", 14, 4),
    ("prescriptions", "total_amount", 16, 2),
    ("transfer_lines", "unit_price", 14, 4),
    ("transfer_lots", "unit_cost", 14, 4),
    ("expiry_scans", "near_expiry_value", 16, 2),
    ("expiry_scans", "expired_value", 16, 2),
)


def _convert(to_exact: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    tables: dict[str, list[tuple[str, int, int]]] = {}
    for table, column, precision, scale in COLUMNS:
        tables.setdefault(table, []).append((column, precision, scale))
    for table, columns in tables.items():
        for column, _, scale in columns:
            # Names and scales are this file's constants, never input.
            factor = 10**scale
            if to_exact:
                op.execute(
                    f"UPDATE {table} SET {column} = CAST(ROUND({column} * {factor}) AS INTEGER)"  # noqa: S608
                )
            else:
                op.execute(f"UPDATE {table} SET {column} = {column} / {factor}.0")  # noqa: S608
        # SQLite cannot change a column's type in place: batch mode copies the table.
        with op.batch_alter_table(table) as batch:
            for column, precision, scale in columns:
                exact, numeric = ExactDecimal(precision, scale), sa.Numeric(precision, scale)
                batch.alter_column(
                    column,
                    type_=exact if to_exact else numeric,
                    existing_type=numeric if to_exact else exact,
                )


def upgrade() -> None:
    _convert(to_exact=True)


def downgrade() -> None:
    _convert(to_exact=False)
