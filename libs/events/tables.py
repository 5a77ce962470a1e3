"""The backbone's own tables, present in every service's database.

``outbox`` holds records waiting to be published; ``processed_events`` remembers which events
a consumer has already applied. Both are written in the same transaction as the service's
own state change: that is what makes publishing and consuming exactly-once in effect.
Their migrations are the shared ``delivery`` Alembic branch (``libs/events/migrations``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, LargeBinary, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["DeliveryBase", "OutboxRecord", "ProcessedEvent", "delivery_metadata"]

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


class DeliveryBase(DeclarativeBase):
    metadata = MetaData()


delivery_metadata = DeliveryBase.metadata


class OutboxRecord(DeliveryBase):
    """A Kafka record staged for publishing, in commit order (``id``)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str | None] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(249))
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_outbox_pending", "published_at", "id"),)


class ProcessedEvent(DeliveryBase):
    """One event one consumer has handled, and how (applied or dead-lettered)."""

    __tablename__ = "processed_events"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20))
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_processed_events_processed_at", "processed_at"),)
