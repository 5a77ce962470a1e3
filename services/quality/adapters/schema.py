"""The quality service's tables (branch ``quality``) and its migration plan."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.directory import DIRECTORY_VERSIONS, DirectoryBase
from libs.events.tables import delivery_metadata
from libs.platform.migrations import DELIVERY_VERSIONS, MigrationPlan
from libs.platform.money import money_column

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


class HerbalOrderRow(Base):
    """An order of the shared TCM pharmacy (共享中药房), one per released prescription that
    asked for it: what it issues, its fees as accepted, and where it stands."""

    __tablename__ = "herbal_orders"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    prescription_id: Mapped[str] = mapped_column(String(64))
    pharmacy_facility_id: Mapped[str] = mapped_column(String(64))
    patient_pseudonym: Mapped[str] = mapped_column(String(64))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    doses: Mapped[int] = mapped_column(Integer)
    decoct: Mapped[bool] = mapped_column(Boolean)
    deliver_home: Mapped[bool] = mapped_column(Boolean)
    preparation_fee: Mapped[Decimal] = mapped_column(money_column())
    decoction_fee: Mapped[Decimal] = mapped_column(money_column())
    delivery_fee: Mapped[Decimal] = mapped_column(money_column())
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    accepted_at: Mapped[datetime] = mapped_column(_Instant)
    deliver_by: Mapped[datetime] = mapped_column(_Instant)
    decoction_started_at: Mapped[datetime | None] = mapped_column(_Instant)
    dispatched_at: Mapped[datetime | None] = mapped_column(_Instant)
    delivered_at: Mapped[datetime | None] = mapped_column(_Instant)
    failed_at: Mapped[datetime | None] = mapped_column(_Instant)
    failure_reason: Mapped[str | None] = mapped_column(String(32))
    overdue_at: Mapped[datetime | None] = mapped_column(_Instant)
    updated_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("facility_id", "prescription_id", name="uq_herbal_orders_prescription"),
        Index("ix_herbal_orders_state_deliver_by", "state", "deliver_by"),
    )


class DispensedPrescription(Base):
    """A prescription pharmacy dispensed: the population the monthly audit (处方点评) samples,
    by the county month it was issued in (the prescriber's month). A dispensing that overtook
    its review has no month (nor issued time, nor prescriber) until the review comes."""

    __tablename__ = "dispensed_prescriptions"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    prescription_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str | None] = mapped_column(String(7))
    prescriber_id: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime | None] = mapped_column(_Instant)
    dispensed_at: Mapped[datetime] = mapped_column(_Instant)
    recorded_at: Mapped[datetime] = mapped_column(_Instant)
    """When quality learned of the dispensing: a sample was drawn from those recorded by then."""

    __table_args__ = (Index("ix_dispensed_prescriptions_month", "month", "facility_id"),)


class AuditSample(Base):
    """A member's month drawn for the audit: the seed, how many prescriptions it was drawn
    from, and whether its results were published (once)."""

    __tablename__ = "audit_samples"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seed: Mapped[str] = mapped_column(String(64))
    prescriptions: Mapped[int] = mapped_column(Integer)
    sampled: Mapped[int] = mapped_column(Integer)
    drawn_at: Mapped[datetime] = mapped_column(_Instant)
    drawn_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime | None] = mapped_column(_Instant)
    published_by: Mapped[str | None] = mapped_column(String(64))


class AuditItem(Base):
    """One sampled prescription in a reviewer's queue and its verdict; earlier verdicts (a
    reviewer changing their mind before publication) are kept in ``history``."""

    __tablename__ = "audit_items"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    prescription_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    prescriber_id: Mapped[str | None] = mapped_column(String(64))
    verdict: Mapped[str | None] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[datetime | None] = mapped_column(_Instant)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


MIGRATIONS = MigrationPlan(
    service="quality",
    versions=Path(__file__).resolve().parents[1] / "migrations",
    metadata=(Base.metadata, delivery_metadata, DirectoryBase.metadata),
    shared_versions=(DELIVERY_VERSIONS, DIRECTORY_VERSIONS),
)
