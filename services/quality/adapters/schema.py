"""The quality service's tables (branch ``quality``) and its migration plan."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.directory import DIRECTORY_VERSIONS, DirectoryBase
from libs.events.tables import delivery_metadata
from libs.platform.migrations import DELIVERY_VERSIONS, MigrationPlan

_Instant = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData()


class Review(Base):
    """One prescription's review and where it stands: released, held or rejected. The
    prescription is kept as reviewed (pseudonymous) to release it after a hold."""

    __tablename__ = "reviews"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    prescription_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(32))
    before_dispensing: Mapped[bool] = mapped_column(Boolean)
    prescriber_id: Mapped[str | None] = mapped_column(String(64))
    antibiotic: Mapped[bool] = mapped_column(Boolean, default=False)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    prescription: Mapped[dict[str, Any]] = mapped_column(JSON)
    reviewed_at: Mapped[datetime] = mapped_column(_Instant)
    held_at: Mapped[datetime | None] = mapped_column(_Instant)
    decide_by: Mapped[datetime | None] = mapped_column(_Instant)
    decided_at: Mapped[datetime | None] = mapped_column(_Instant)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_note: Mapped[str | None] = mapped_column(String(500))
    overdue_at: Mapped[datetime | None] = mapped_column(_Instant)

    __table_args__ = (Index("ix_reviews_state_decide_by", "state", "decide_by"),)


class Prescriber(Base):
    """The quality service's copy of the staff registry: a prescriber's title decides the
    antibiotic grades they may prescribe."""

    __tablename__ = "prescribers"

    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(32))
    home_facility_id: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    as_of: Mapped[datetime] = mapped_column(_Instant)


class IndexedResult(Base):
    """The county's result index (检查检验结果索引): every result a member reported, by
    patient (pseudonym) and item, to recognise it when another member orders the item."""

    __tablename__ = "result_index"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    result_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    patient_pseudonym: Mapped[str] = mapped_column(String(64))
    test_code: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str | None] = mapped_column(String(64))
    reported_at: Mapped[datetime] = mapped_column(_Instant)

    __table_args__ = (
        Index("ix_result_index_patient_item", "patient_pseudonym", "test_code", "reported_at"),
    )


class OrderDecision(Base):
    """What quality decided for an order: recognised (the earlier result named) or why not."""

    __tablename__ = "order_decisions"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    test_code: Mapped[str] = mapped_column(String(32))
    recognised: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(32))
    earlier_result_id: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(_Instant)


class PublishedPolicy(Base):
    """The review policy last published (so a restart publishes it only when it changed)."""

    __tablename__ = "published_policy"

    county_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    review_before_dispensing: Mapped[list[str]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(_Instant)


MIGRATIONS = MigrationPlan(
    service="quality",
    versions=Path(__file__).resolve().parents[1] / "migrations",
    metadata=(Base.metadata, delivery_metadata, DirectoryBase.metadata),
    shared_versions=(DELIVERY_VERSIONS, DIRECTORY_VERSIONS),
)
