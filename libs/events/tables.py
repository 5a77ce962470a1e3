"""The backbone's own tables, present in every service's database.

``outbox`` holds records waiting to be published; ``processed_events`` remembers which events
a consumer has already applied and ``processed_facts`` which business facts (a visit, a
prescription) whatever event ids they came under; ``parked_events`` holds events waiting for
master data; ``dead_letter_replays`` says which of its dead letters an operator replayed, by
whom, with what correction and what became of it. All
are written in the same transaction as the service's own state change: that is what makes
publishing and consuming exactly-once in effect.
Their migrations are the shared ``delivery`` Alembic branch (``libs/events/migrations``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "DeadLetterReplay",
    "DeliveryBase",
    "OutboxRecord",
    "ParkedEvent",
    "ProcessedEvent",
    "ProcessedFact",
    "delivery_metadata",
]

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
    content_digest: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of what the event said (type, subject, data): a producer reusing an id for
    other content is refused, not silently taken for a redelivery."""

    __table_args__ = (Index("ix_processed_events_processed_at", "processed_at"),)


class ProcessedFact(DeliveryBase):
    """A business fact one consumer has applied (``<type>:<identity>``, see
    ``EventSpec.identity``), from which event, and what it said: a hospital system resending
    the same visit under a new event id is recognised here, not applied again."""

    __tablename__ = "processed_facts"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    fact: Mapped[str] = mapped_column(String(400), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200))
    content_digest: Mapped[str] = mapped_column(String(64))
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_processed_facts_processed_at", "processed_at"),)


class ParkedEvent(DeliveryBase):
    """A consumed event set aside, in record order per key (``id``).

    The head of a key waits for master data it names that this service's copy lacks (a
    facility another service knew of); every later event of that key waits behind it, so
    the key's order holds while the partition's other keys go on.
    """

    __tablename__ = "parked_events"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    consumer: Mapped[str] = mapped_column(String(100))
    park_key: Mapped[str] = mapped_column(String(300))
    event_id: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(249))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(String(100))
    parked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_parked_events_key", "consumer", "park_key", "id"),)


class DeadLetterReplay(DeliveryBase):
    """An operator's replay of one of this consumer's dead letters through its handlers.

    ``id`` also names the replayed record (its offset on the synthetic partition -1), so a
    replay that fails decoding again is claimed apart from every other record.
    """

    __tablename__ = "dead_letter_replays"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    consumer: Mapped[str] = mapped_column(String(100))
    letter: Mapped[str] = mapped_column(String(300))
    """The dead letter's position: ``<dlt topic>/<partition>/<offset>`` (logical topic)."""
    replayed_by: Mapped[str] = mapped_column(String(200))
    replayed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    corrected: Mapped[bool] = mapped_column(Boolean)
    original_sha256: Mapped[str] = mapped_column(String(64))
    replayed_sha256: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))
    """``pending`` until applied, then applied, duplicate, dead_lettered, parked or ignored."""
    detail: Mapped[str | None] = mapped_column(String(2000))

    __table_args__ = (Index("ix_dead_letter_replays_letter", "consumer", "letter", "id"),)
