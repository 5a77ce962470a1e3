"""Migration pharmacy_0004 fills the running consumption and the items' first movement from
the stock card that is already there (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from alembic import command
from sqlalchemy import DateTime, bindparam, create_engine, text

from libs.platform.migrations import upgrade
from services.pharmacy.adapters.schema import MIGRATIONS

#: Instants bound as the service binds them (SQLite keeps them as naive UTC text).
AT = bindparam("at", type_=DateTime(timezone=True))

LINES = [
    # facility, drug, kind, quantity, when (UTC); the county is UTC+8
    ("F-1", "D-1", "receipt", 50, datetime(2026, 11, 1, 1, 0, tzinfo=UTC)),
    ("F-1", "D-1", "dispense", -3, datetime(2026, 11, 2, 15, 30, tzinfo=UTC)),  # 23:30 there
    ("F-1", "D-1", "dispense", -4, datetime(2026, 11, 2, 17, 0, tzinfo=UTC)),  # 3 Nov there
    ("F-1", "D-1", "dispense", -2, datetime(2026, 11, 2, 3, 0, tzinfo=UTC)),  # 2 Nov
    ("F-1", "D-1", "transfer_out", -5, datetime(2026, 11, 4, 3, 0, tzinfo=UTC)),
    ("F-2", "D-1", "transfer_in", 5, datetime(2026, 11, 5, 3, 0, tzinfo=UTC)),
]


def test_the_running_figures_are_filled_from_the_card(
    make_database: Callable[[str], str],
) -> None:
    url = make_database("pharmacy")
    upgrade(MIGRATIONS, url)
    command.downgrade(MIGRATIONS.config(url), "pharmacy_0003")
    engine = create_engine(url)
    with engine.begin() as conn:
        for facility, drug in {(f, d) for f, d, *_ in LINES}:
            conn.execute(
                text(
                    "INSERT INTO stock_items (facility_id, drug_code, stocked_out, changed_at)"
                    " VALUES (:f, :d, false, :at)"
                ).bindparams(AT),
                {"f": facility, "d": drug, "at": datetime(2026, 11, 1, tzinfo=UTC)},
            )
        for n, (facility, drug, kind, quantity, at) in enumerate(LINES):
            conn.execute(
                text(
                    "INSERT INTO stock_card_lines (facility_id, drug_code, lot_number,"
                    " expiry_date, kind, quantity, balance_after, unit_cost, reference_type,"
                    " reference_id, occurred_at) VALUES (:f, :d, 'L', :e, :k, :q, 1, 0,"
                    " 'test', :r, :at)"
                ).bindparams(AT),
                {
                    "f": facility,
                    "d": drug,
                    "e": date(2027, 1, 1),
                    "k": kind,
                    "q": quantity,
                    "r": str(n),
                    "at": at,
                },
            )

    upgrade(MIGRATIONS, url)

    with engine.connect() as conn:
        daily = conn.execute(
            text("SELECT facility_id, drug_code, business_day, dispensed FROM daily_consumption")
        ).all()
        first: dict[str, Any] = {
            facility: moved
            for facility, moved in conn.execute(
                text("SELECT facility_id, first_moved_at FROM stock_items")
            )
        }
    engine.dispose()
    assert sorted((f, d, str(day), packs) for f, d, day, packs in daily) == [
        ("F-1", "D-1", "2026-11-02", 5),
        ("F-1", "D-1", "2026-11-03", 4),
    ]
    assert _utc(first["F-1"]) == datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    assert _utc(first["F-2"]) == datetime(2026, 11, 5, 3, 0, tzinfo=UTC)


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
