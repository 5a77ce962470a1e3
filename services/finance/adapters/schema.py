"""The finance service's tables (branch ``finance``) and its migration plan.

The journal is append-only: entries and lines are inserted, never updated; a correction is a
reversing entry. Balances are sums over lines (indexed by book, account and period), so
posting never contends on a balance row.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.directory import DIRECTORY_VERSIONS, DirectoryBase
from libs.events.tables import delivery_metadata
from libs.platform.migrations import DELIVERY_VERSIONS, MigrationPlan
from libs.platform.money import ExactDecimal, money_column

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData()


class AccountingPeriod(Base):
    """A period that has been posted in or closed; a closed one refuses postings."""

    __tablename__ = "accounting_periods"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class JournalEntry(Base):
    __tablename__ = "journal_entries"

    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entry_type: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7), index=True)
    original_period: Mapped[str | None] = mapped_column(String(7))
    memo: Mapped[str] = mapped_column(String(500))
    source_key: Mapped[str | None] = mapped_column(
        String(200), unique=True, comment="What caused it, e.g. visit:<facility>/<visit>."
    )
    causation_event_id: Mapped[str | None] = mapped_column(String(64), index=True)
    causation_event_type: Mapped[str | None] = mapped_column(String(100))
    reverses_entry_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_journal_entries_type_period", "entry_type", "period"),)


class JournalLine(Base):
    __tablename__ = "journal_lines"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("journal_entries.entry_id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(7))
    community_id: Mapped[str] = mapped_column(String(64))
    facility_id: Mapped[str | None] = mapped_column(String(64))
    account_code: Mapped[str] = mapped_column(String(32))
    debit: Mapped[Decimal] = mapped_column(money_column())
    credit: Mapped[Decimal] = mapped_column(money_column())

    __table_args__ = (
        Index("ix_journal_lines_book", "community_id", "facility_id", "period"),
        Index("ix_journal_lines_account", "account_code", "period"),
        Index("ix_journal_lines_facility_entry", "facility_id", "entry_id"),
    )


class Budget(Base):
    """A community's insurance bundle for one year, with its running consumption."""

    __tablename__ = "budgets"

    budget_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_id: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(money_column())
    prepaid: Mapped[Decimal] = mapped_column(money_column())
    consumed: Mapped[Decimal] = mapped_column(money_column())
    consumed_out_of_county: Mapped[Decimal] = mapped_column(money_column())
    paid_provisional: Mapped[Decimal] = mapped_column(money_column())
    claims: Mapped[int] = mapped_column(Integer)
    thresholds_crossed: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reconciled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reconciliation: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("community_id", "year", name="uq_budgets_community_year"),)


class Claim(Base):
    """A visit of a county insuree valued against a bundle; one per visit."""

    __tablename__ = "claims"

    claim_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    visit_key: Mapped[str] = mapped_column(String(140), unique=True)
    visit_id: Mapped[str] = mapped_column(String(64))
    facility_id: Mapped[str] = mapped_column(String(64))
    community_id: Mapped[str] = mapped_column(String(64))
    budget_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    in_county: Mapped[bool] = mapped_column(Boolean)
    facility_tier: Mapped[str] = mapped_column(String(20))
    insurance_type: Mapped[str] = mapped_column(String(32))
    eligible_amount: Mapped[Decimal] = mapped_column(money_column())
    ratio: Mapped[Decimal] = mapped_column(ExactDecimal(7, 6))
    payout: Mapped[Decimal] = mapped_column(money_column())
    copay: Mapped[Decimal] = mapped_column(money_column())
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    entry_id: Mapped[str | None] = mapped_column(String(64))
    settlement_run_id: Mapped[str | None] = mapped_column(
        String(64), comment="The run that paid the member for it (in-county claims)."
    )

    __table_args__ = (Index("ix_claims_budget_period", "budget_id", "period"),)


class InternalCharge(Base):
    """What one member owes another (a transfer, a referral fee, a session fee) until a
    settlement run pays it."""

    __tablename__ = "internal_charges"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    source_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(7))
    payer_facility_id: Mapped[str] = mapped_column(String(64))
    payee_facility_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(money_column())
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    settlement_run_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_internal_charges_unsettled", "settlement_run_id", "period"),)


class AppraisalPoints(Base):
    """Points one member of staff (or a facility's team) earned for one piece of work."""

    __tablename__ = "appraisal_points"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    source_key: Mapped[str] = mapped_column(String(200))
    community_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    staff_id: Mapped[str] = mapped_column(String(64))
    facility_id: Mapped[str] = mapped_column(String(64))
    points: Mapped[Decimal] = mapped_column(ExactDecimal(12, 2))

    __table_args__ = (
        UniqueConstraint("source_key", "staff_id", name="uq_appraisal_points_source_staff"),
        Index("ix_appraisal_points_community_period", "community_id", "period"),
    )


class SettlementRun(Base):
    """One run of a kind of settlement for one period and scope; each happens once."""

    __tablename__ = "settlement_runs"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    scope: Mapped[str] = mapped_column(String(64))
    total: Mapped[Decimal] = mapped_column(money_column())
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("kind", "period", "scope", name="uq_settlement_runs_kind_period_scope"),
    )


MIGRATIONS = MigrationPlan(
    service="finance",
    versions=Path(__file__).resolve().parents[1] / "migrations",
    metadata=(Base.metadata, delivery_metadata, DirectoryBase.metadata),
    shared_versions=(DELIVERY_VERSIONS, DIRECTORY_VERSIONS),
)
