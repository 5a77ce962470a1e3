"""The administration service's tables (branch ``administration``) and its migration plan."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.events.tables import delivery_metadata
from libs.platform.migrations import DELIVERY_VERSIONS, MigrationPlan
from libs.platform.money import ExactDecimal, money_column

_Instant = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData()


class Community(Base):
    """A medical community (医共体) of the county: the authoritative record."""

    __tablename__ = "communities"

    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(String(32))
    lead_facility_id: Mapped[str] = mapped_column(String(64))


class Facility(Base):
    """A member facility: the authoritative record, published as organisation.facility."""

    __tablename__ = "facilities"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    community_id: Mapped[str] = mapped_column(String(64))
    county_code: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str] = mapped_column(String(20))
    facility_type: Mapped[str] = mapped_column(String(32))
    parent_facility_id: Mapped[str | None] = mapped_column(String(64))
    departments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    opening_hours: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    closed_on: Mapped[date | None] = mapped_column(Date)
    closure_reason: Mapped[str | None] = mapped_column(String(32))
    merged_into_facility_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(_Instant)


class Handover(Base):
    """The organisation taken over from what was already published (by staffing, its owner
    before this service): one row once it is done, so it is done once."""

    __tablename__ = "organisation_handover"

    handover_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    records_read: Mapped[int] = mapped_column(Integer)
    communities_adopted: Mapped[int] = mapped_column(Integer)
    facilities_adopted: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[datetime] = mapped_column(_Instant)


# --- what the other domains published, kept for the appraisal ---------------------------------


class IndicatorCell(Base):
    """A month cell of a reporting indicator the scorecard reads (its latest version)."""

    __tablename__ = "indicator_cells"

    cell_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    indicator: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7), index=True)
    numerator: Mapped[Decimal] = mapped_column(money_column())
    denominator: Mapped[Decimal] = mapped_column(money_column())
    version: Mapped[int] = mapped_column(Integer)


class AuditResult(Base):
    """A member's published monthly prescription audit (处方点评), by its counts."""

    __tablename__ = "audit_results"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    reviewed: Mapped[int] = mapped_column(Integer)
    irrational: Mapped[int] = mapped_column(Integer)


class DeliveredSession(Base):
    """An expert session that took place at a member (资源下沉)."""

    __tablename__ = "delivered_sessions"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64), index=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)


class Budget(Base):
    """A community's yearly insurance bundle (打包支付)."""

    __tablename__ = "budgets"

    budget_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_id: Mapped[str] = mapped_column(String(64), index=True)
    year: Mapped[int] = mapped_column(Integer)
    total_amount: Mapped[Decimal] = mapped_column(money_column())


class BudgetSettlement(Base):
    """A month's provisional settlement of a bundle: what was consumed in it."""

    __tablename__ = "budget_settlements"

    budget_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    consumed: Mapped[Decimal] = mapped_column(money_column())


# --- the appraisals ----------------------------------------------------------------------------


class AppraisalRow(Base):
    """One revision of a half-year's appraisal."""

    __tablename__ = "appraisals"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    drafted_at: Mapped[datetime] = mapped_column(_Instant)
    drafted_by: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(_Instant)
    approved_at: Mapped[datetime | None] = mapped_column(_Instant)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    correction_reason: Mapped[str | None] = mapped_column(Text)


class ScorecardRow(Base):
    """A member's scorecard in one revision: every line with the figures behind it."""

    __tablename__ = "scorecards"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    community_id: Mapped[str] = mapped_column(String(64))
    facility_type: Mapped[str] = mapped_column(String(32))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    computed: Mapped[Decimal] = mapped_column(ExactDecimal(7, 2))
    adjustment: Mapped[Decimal] = mapped_column(ExactDecimal(7, 2))
    adjustment_reason: Mapped[str | None] = mapped_column(Text)
    total: Mapped[Decimal] = mapped_column(ExactDecimal(7, 2))


class AppraisalNote(Base):
    """The appraisal's audit trail: every draft, recomputation, comment, adjustment,
    approval and correction, by whom and when."""

    __tablename__ = "appraisal_notes"

    note_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    facility_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(_Instant)


MIGRATIONS = MigrationPlan(
    service="administration",
    versions=Path(__file__).resolve().parents[1] / "migrations",
    metadata=(Base.metadata, delivery_metadata),
    shared_versions=(DELIVERY_VERSIONS,),
)
