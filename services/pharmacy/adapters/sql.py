"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["add_up", "aware", "insert_ignore"]


def insert_ignore(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, skipping any whose primary key exists (``ON CONFLICT DO NOTHING``).

    Concurrent transactions inserting the same key both succeed: the loser's insert waits
    for the winner and then does nothing, which is what lets a row be used as a lock.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(model).values(rows).on_conflict_do_nothing())


def add_up(
    session: Session, model: Any, rows: list[dict[str, Any]], keys: list[str], column: str
) -> None:
    """Insert ``rows``, adding ``column`` onto the stored figure where the key exists
    (``ON CONFLICT ... DO UPDATE SET column = column + excluded.column``): one statement."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(rows)
    target = model.__table__.c[column]
    session.execute(
        statement.on_conflict_do_update(
            index_elements=keys, set_={column: target + statement.excluded[column]}
        )
    )


def aware(value: datetime) -> datetime:
    """A datetime read back from the database, zone-aware (SQLite returns naive UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
