"""The staffing service's tables (branch ``staffing``) and its migration plan."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.events.tables import delivery_metadata
from libs.platform.migrations import DELIVERY_VERSIONS, MigrationPlan


class Base(DeclarativeBase):
    metadata = MetaData()


class Community(Base):
    """A medical community: staffing's copy, kept from organisation.community events."""

    __tablename__ = "communities"

    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(String(32))
    lead_facility_id: Mapped[str] = mapped_column(String(64))


class Facility(Base):
    """A member facility: staffing's copy, kept from organisation.facility events."""

    __tablename__ = "facilities"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    community_id: Mapped[str] = mapped_column(String(64))
    county_code: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str] = mapped_column(String(20))
    facility_type: Mapped[str] = mapped_column(String(32))
    parent_facility_id: Mapped[str | None] = mapped_column(String(64))
    departments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    closed_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- the workforce: registry, rotations, sessions, timetables ------------------------------


class Position(Base):
    """A post in a facility's establishment; vacant while no active member of staff holds it."""

    __tablename__ = "positions"

    position_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64), index=True)
    department_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(20))
    specialty: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffMember(Base):
    """A person in the registry: the authoritative record, published as staffing.staff."""

    __tablename__ = "staff_members"

    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    home_facility_id: Mapped[str] = mapped_column(String(64), index=True)
    department_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(20))
    specialty: Mapped[str] = mapped_column(String(200))
    active_from: Mapped[date] = mapped_column(Date)
    active_until: Mapped[date | None] = mapped_column(Date)
    position_id: Mapped[str | None] = mapped_column(String(64), index=True)
    seeded: Mapped[bool] = mapped_column(Boolean)
    """Still exactly as the seed list defines it; an administrator's change takes it over."""
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Leave(Base):
    """Leave or declared unavailability: whole days, or one half of each day in the range."""

    __tablename__ = "leave"

    leave_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    half_day: Mapped[str | None] = mapped_column(String(10))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Rotation(Base):
    """A recurring weekly pattern of one person at one member facility over a period."""

    __tablename__ = "rotations"

    rotation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(64), index=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    slots: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled_from: Mapped[date | None] = mapped_column(Date)


class ExpertSession(Base):
    """One half-day session of one person at one member facility, and its attendance.

    ``version`` guards every transition: two requests racing to check the same session out
    cannot both succeed (the loser's UPDATE matches no row), so one delivery is one event.
    """

    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_week_facility", "week_start", "facility_id"),
        Index("ix_sessions_staff_date", "staff_id", "date"),
    )

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(64))
    home_facility_id: Mapped[str] = mapped_column(String(64))
    facility_id: Mapped[str] = mapped_column(String(64))
    date: Mapped[dt.date] = mapped_column(Date)
    half_day: Mapped[str] = mapped_column(String(10))
    week_start: Mapped[dt.date] = mapped_column(Date)
    rotation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))
    planned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(String(32))
    cancellation_announced: Mapped[bool] = mapped_column(Boolean, default=False)
    """Cancelled after its week was published: residents saw it, so it stays shown as off."""
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    missed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    patients_seen: Mapped[int | None] = mapped_column(Integer)
    home_visits: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class StaffBooking(Base):
    """The half-days a person holds: the primary key makes double booking impossible even
    for two requests committing at once (the second insert fails)."""

    __tablename__ = "staff_bookings"

    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    half_day: Mapped[str] = mapped_column(String(10), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), unique=True)


class PublishedWeek(Base):
    """A week announced to residents; the row's existence freezes the week."""

    __tablename__ = "published_weeks"

    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str] = mapped_column(String(200))


class Stationing(Base):
    """A lead-hospital physician stationed at a member facility (派驻)."""

    __tablename__ = "stationings"

    stationing_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(64), index=True)
    facility_id: Mapped[str] = mapped_column(String(64), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    planned_end_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


MIGRATIONS = MigrationPlan(
    service="staffing",
    versions=Path(__file__).resolve().parents[1] / "migrations",
    metadata=(Base.metadata, delivery_metadata),
    shared_versions=(DELIVERY_VERSIONS,),
)
