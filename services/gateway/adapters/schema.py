"""The gateway's tables (branch ``gateway``) and its migration plan.

Nothing here holds a national id: submissions keep a keyed digest of what was sent (the
county key, so a digest cannot be tested against guessed ids) and the answer given, which
names events and problems, never values.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.directory import DIRECTORY_VERSIONS, DirectoryBase
from libs.events.tables import delivery_metadata
from libs.platform.migrations import DELIVERY_VERSIONS, MigrationPlan

_Instant = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData()


class MemberSystem(Base):
    """A member's HIS, LIS or PACS allowed to submit, scoped to one facility."""

    __tablename__ = "member_systems"

    system_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    format: Mapped[str] = mapped_column(String(8))
    product: Mapped[str] = mapped_column(String(200))
    opening_hours: Mapped[list[str]] = mapped_column(JSON, default=list)
    silent_after_minutes: Mapped[float] = mapped_column(Float)
    requests_per_minute: Mapped[int] = mapped_column(Integer)
    burst: Mapped[int] = mapped_column(Integer)
    max_request_bytes: Mapped[int] = mapped_column(Integer)
    secret_salt: Mapped[str | None] = mapped_column(String(64))
    secret_digest: Mapped[str | None] = mapped_column(String(64))
    secret_issued_at: Mapped[datetime | None] = mapped_column(_Instant)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_at: Mapped[datetime] = mapped_column(_Instant)


class Submission(Base):
    """A message id a system used, what it sent under it (digest) and the answer it got."""

    __tablename__ = "submissions"

    system_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    body_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(_Instant)


class AcceptedFact(Base):
    """A fact a member's messages made into an event: what the business calls it (visit,
    prescription, order, result), the event and a digest of its content, so the same fact
    sent under a new message id is answered with the first event and publishes nothing."""

    __tablename__ = "accepted_facts"

    fact: Mapped[str] = mapped_column(String(300), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64))
    content_digest: Mapped[str] = mapped_column(String(64))
    system_id: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[datetime] = mapped_column(_Instant, index=True)


class FeedState(Base):
    """The health of one system's feed."""

    __tablename__ = "feed_states"

    system_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_message_at: Mapped[datetime | None] = mapped_column(_Instant)
    last_refusal_at: Mapped[datetime | None] = mapped_column(_Instant)
    silent_since: Mapped[datetime | None] = mapped_column(_Instant)


class FeedHour(Base):
    """Messages accepted and refused per system per hour (rates and error rates)."""

    __tablename__ = "feed_hours"

    system_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hour: Mapped[datetime] = mapped_column(_Instant, primary_key=True)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)


class FeedRefusal(Base):
    """Why a system's messages were refused, by reason code."""

    __tablename__ = "feed_refusals"

    system_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(_Instant)


MIGRATIONS = MigrationPlan(
    service="gateway",
    versions=Path(__file__).resolve().parents[1] / "migrations",
    metadata=(Base.metadata, delivery_metadata, DirectoryBase.metadata),
    shared_versions=(DELIVERY_VERSIONS, DIRECTORY_VERSIONS),
)
