"""The referral service's tables (branch ``referral``) and its migration plan."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.directory import DIRECTORY_VERSIONS, DirectoryBase
from libs.events.tables import delivery_metadata
from libs.platform.migrations import DELIVERY_VERSIONS, MigrationPlan

_BigId = BigInteger().with_variant(Integer(), "sqlite")
_Instant = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData()


class Referral(Base):
    """One referral and where it stands. The patient's name, identity number and the free
    note are encrypted (see adapters/crypto.py); the pseudonym is what leaves the service."""

    __tablename__ = "referrals"

    referral_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))
    priority: Mapped[str] = mapped_column(String(16))
    green_channel: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    from_facility_id: Mapped[str] = mapped_column(String(64), index=True)
    from_department_id: Mapped[str | None] = mapped_column(String(64))
    to_facility_id: Mapped[str] = mapped_column(String(64), index=True)
    to_department_id: Mapped[str | None] = mapped_column(String(64))
    needs_bed: Mapped[bool] = mapped_column(Boolean)
    patient_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    patient_name: Mapped[bytes] = mapped_column(LargeBinary, comment="encrypted")
    patient_national_id: Mapped[bytes] = mapped_column(LargeBinary, comment="encrypted")
    clinical_note: Mapped[bytes | None] = mapped_column(LargeBinary, comment="encrypted")
    reason_code: Mapped[str] = mapped_column(String(32))
    diagnosis_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    follow_up_plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    follow_up_specialty: Mapped[str | None] = mapped_column(String(200))
    follow_up_from: Mapped[date | None] = mapped_column(Date)
    follow_up_by: Mapped[date | None] = mapped_column(Date)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(_Instant)
    accept_due_at: Mapped[datetime] = mapped_column(_Instant)
    expire_at: Mapped[datetime] = mapped_column(_Instant)
    arrive_due_at: Mapped[datetime | None] = mapped_column(_Instant)
    decided_at: Mapped[datetime | None] = mapped_column(_Instant)
    accept_seconds: Mapped[float | None] = mapped_column(Float)
    scheduled_for: Mapped[datetime | None] = mapped_column(_Instant)
    arrived_at: Mapped[datetime | None] = mapped_column(_Instant)
    completed_at: Mapped[datetime | None] = mapped_column(_Instant)
    record_returned: Mapped[bool | None] = mapped_column(Boolean)
    ended_at: Mapped[datetime | None] = mapped_column(_Instant)
    end_reason_code: Mapped[str | None] = mapped_column(String(32))
    escalated_to_role: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(_Instant)

    __table_args__ = (
        Index("ix_referrals_state_accept_due", "state", "accept_due_at"),
        Index("ix_referrals_state_arrive_due", "state", "arrive_due_at"),
        Index("ix_referrals_requested_at", "requested_at"),
    )


class TimelineEntry(Base):
    """One step in a referral's history: a transition, a breach, a follow-up booking."""

    __tablename__ = "referral_timeline"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(_Instant)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    event_id: Mapped[str | None] = mapped_column(String(64))


class SlaBreach(Base):
    """A stage a referral missed. The primary key is the guarantee of one breach (and one
    event) per referral and stage, however many SLA jobs run."""

    __tablename__ = "sla_breaches"

    referral_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    priority: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(_Instant)
    breached_at: Mapped[datetime] = mapped_column(_Instant)
    escalated_to_role: Mapped[str] = mapped_column(String(32))


class DepartmentCapacity(Base):
    """Slots and beds a receiving department published for one day."""

    __tablename__ = "department_capacity"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    department_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    slots: Mapped[int] = mapped_column(Integer)
    beds: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(_Instant)
    published_by: Mapped[str] = mapped_column(String(200))


class CapacityHold(Base):
    """A slot or bed held by a scheduled referral; released when it is moved or cancelled."""

    __tablename__ = "capacity_holds"

    hold_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    referral_id: Mapped[str] = mapped_column(String(64), index=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    held_at: Mapped[datetime] = mapped_column(_Instant)
    released_at: Mapped[datetime | None] = mapped_column(_Instant)

    __table_args__ = (Index("ix_capacity_holds_day", "facility_id", "department_id", "day"),)


class FormularyDrug(Base):
    """This service's copy of the unified catalogue (from pharmacy.drug events)."""

    __tablename__ = "formulary_drugs"

    drug_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    allowed_tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    listed: Mapped[bool] = mapped_column(Boolean)
    as_of: Mapped[datetime] = mapped_column(_Instant)


class SpecialistSession(Base):
    """A visiting specialist's half-day at a member clinic (from staffing.timetable events)."""

    __tablename__ = "specialist_sessions"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    week_start: Mapped[date] = mapped_column(Date)
    day: Mapped[date] = mapped_column(Date)
    half_day: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[str] = mapped_column(String(64))
    specialty: Mapped[str] = mapped_column(String(200))
    specialty_key: Mapped[str] = mapped_column(String(200))
    cancelled: Mapped[bool] = mapped_column(Boolean)
    as_of: Mapped[datetime] = mapped_column(_Instant)

    __table_args__ = (Index("ix_specialist_sessions_facility_day", "facility_id", "day"),)


class FollowUpBooking(Base):
    """The session a downward referral's follow-up visit is booked on."""

    __tablename__ = "follow_up_bookings"

    referral_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    booked_at: Mapped[datetime] = mapped_column(_Instant)


MIGRATIONS = MigrationPlan(
    service="referral",
    versions=Path(__file__).resolve().parents[1] / "migrations",
    metadata=(Base.metadata, delivery_metadata, DirectoryBase.metadata),
    shared_versions=(DELIVERY_VERSIONS, DIRECTORY_VERSIONS),
)
