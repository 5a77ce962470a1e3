"""The pharmacy service's tables (branch ``pharmacy``) and its migration plan.

The stock card (``stock_card_lines``) is append-only; ``stock_lots.on_hand`` is the running
balance of each lot, updated in the same transaction as the line that moves it and guarded
by a CHECK (on_hand >= 0), so no code path and no race can make stock negative.
``stock_items`` holds one row per facility and drug: locking it serialises everything that
moves that item (two dispenses, a dispense and an HTTP adjustment) on PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
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
from libs.platform.money import money_column, price_column

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_BigId = BigInteger().with_variant(Integer(), "sqlite")
# Exact on both databases (a scaled integer on SQLite, where NUMERIC is a float).
_Price = price_column(14)
_Money = money_column(16)


class Base(DeclarativeBase):
    metadata = MetaData()


class DrugRow(Base):
    """One entry of the unified formulary, current state (its history is on pharmacy.drug)."""

    __tablename__ = "drugs"

    drug_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    generic_name: Mapped[str | None] = mapped_column(String(200))
    dosage_form: Mapped[str] = mapped_column(String(200))
    strength: Mapped[str] = mapped_column(String(200))
    pack_size: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal] = mapped_column(_Price)
    essential: Mapped[bool] = mapped_column(Boolean)
    tcm: Mapped[bool] = mapped_column(Boolean)
    category: Mapped[str] = mapped_column(String(20))
    allowed_tiers: Mapped[list[str]] = mapped_column(JSON)
    allowed_facility_types: Mapped[list[str]] = mapped_column(JSON)
    listed: Mapped[bool] = mapped_column(Boolean)
    delisted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delist_reason: Mapped[str | None] = mapped_column(String(32))
    seed_fingerprint: Mapped[str | None] = mapped_column(
        String(64), comment="Digest of the seed entry last applied; a changed seed updates."
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("unit_price >= 0", name="ck_drugs_price"),)


class StockItem(Base):
    """One drug at one facility: the lock every stock movement of it takes first, and whether
    it is stocked out (for the stocked_out/restocked events)."""

    __tablename__ = "stock_items"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    drug_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    stocked_out: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_moved_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True),
        comment="Its first stock-card line: how old the item is, for the consumption window.",
    )


class StockLot(Base):
    """The balance of one lot at one facility: the sum of its stock-card lines."""

    __tablename__ = "stock_lots"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    drug_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    lot_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    expiry_date: Mapped[date] = mapped_column(Date)
    on_hand: Mapped[int] = mapped_column(Integer)
    unit_cost: Mapped[Decimal] = mapped_column(_Price)
    first_received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="ck_stock_lots_never_negative"),
        Index("ix_stock_lots_expiry", "expiry_date"),
    )


class StockCardLine(Base):
    """One append-only stock-card line: a signed movement of one lot."""

    __tablename__ = "stock_card_lines"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    drug_code: Mapped[str] = mapped_column(String(64))
    lot_number: Mapped[str] = mapped_column(String(64))
    expiry_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer, comment="Signed: credits +, debits -.")
    balance_after: Mapped[int] = mapped_column(Integer, comment="The lot's balance after it.")
    unit_cost: Mapped[Decimal] = mapped_column(_Price)
    reference_type: Mapped[str] = mapped_column(String(20))
    reference_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("quantity <> 0", name="ck_stock_card_lines_moves"),
        CheckConstraint("balance_after >= 0", name="ck_stock_card_lines_balance"),
        Index("ix_stock_card_item", "facility_id", "drug_code", "id"),
        Index("ix_stock_card_kind_time", "facility_id", "drug_code", "kind", "occurred_at"),
        Index("ix_stock_card_reference", "reference_type", "reference_id"),
    )


class DailyConsumption(Base):
    """Packs dispensed of a drug at a facility on one county business day: the running figure
    the re-order levels average, kept with the stock-card lines it sums (never re-summed)."""

    __tablename__ = "daily_consumption"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    drug_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    business_day: Mapped[date] = mapped_column(Date, primary_key=True)
    dispensed: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("dispensed >= 0", name="ck_daily_consumption_dispensed"),)


class PrescriptionRow(Base):
    """A prescription this service handled, so a resent one changes nothing."""

    __tablename__ = "prescriptions"

    prescription_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(20), comment="dispensed, partial or rejected.")
    total_amount: Mapped[Decimal] = mapped_column(_Money)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    handled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AwaitingReviewRow(Base):
    """A prescription held back for the review centre: its facility's type is reviewed before
    dispensing (``review_policy``), so it waits for its ``quality.prescription.released``. The
    row is deleted once that is handled; a prescription the review rejected keeps its row
    (pharmacy does not consume rejections: nothing is dispensed, nothing to undo)."""

    __tablename__ = "awaiting_review"

    prescription_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    held_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), comment="When pharmacy received it and held it back."
    )


class ReviewPolicyRow(Base):
    """The county's review policy as quality last published it (``quality.policy.published``):
    the facility types whose prescriptions are dispensed only once the review released them."""

    __tablename__ = "review_policy"

    county_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    review_before_dispensing: Mapped[list[str]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), comment="Quality's publication time; an older one loses."
    )
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ShortageRow(Base):
    """A demand that stock could not fill (缺药登记); resolved when the item is restocked."""

    __tablename__ = "shortages"

    shortage_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    drug_code: Mapped[str] = mapped_column(String(64))
    quantity_short: Mapped[int] = mapped_column(Integer)
    prescription_id: Mapped[str | None] = mapped_column(String(64))
    referral_id: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("quantity_short > 0", name="ck_shortages_quantity"),
        Index("ix_shortages_open", "facility_id", "drug_code", "resolved_at"),
    )


class ReferralPatient(Base):
    """Who a downward referral is for (from referral.requested), so the reservation made when
    it is accepted can be dispensed to that patient and held back from everyone else."""

    __tablename__ = "referral_patients"

    referral_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    patient_pseudonym: Mapped[str] = mapped_column(String(64))
    to_facility_id: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReservationRow(Base):
    """Stock set aside at a clinic for a patient referred down; ``quantity`` is what is left."""

    __tablename__ = "reservations"

    reservation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    drug_code: Mapped[str] = mapped_column(String(64))
    referral_id: Mapped[str] = mapped_column(String(64))
    patient_pseudonym: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    reserved_until: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean)
    released_reason: Mapped[str | None] = mapped_column(String(32))
    reserved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("quantity >= 0", name="ck_reservations_quantity"),
        UniqueConstraint("referral_id", "drug_code", name="uq_reservations_referral_drug"),
        Index("ix_reservations_item", "facility_id", "drug_code", "active"),
    )


class TransferRow(Base):
    """A transfer order (调拨单) and where it is in its lifecycle."""

    __tablename__ = "transfers"

    transfer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    from_facility_id: Mapped[str] = mapped_column(String(64), index=True)
    to_facility_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(20), index=True)
    referral_id: Mapped[str | None] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_reason: Mapped[str | None] = mapped_column(String(32))


class TransferLineRow(Base):
    """One drug on a transfer order, with the quantity at each step."""

    __tablename__ = "transfer_lines"

    transfer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    drug_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_price: Mapped[Decimal] = mapped_column(_Price)
    quantity_requested: Mapped[int] = mapped_column(Integer)
    quantity_approved: Mapped[int | None] = mapped_column(Integer)
    quantity_shipped: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("quantity_requested > 0", name="ck_transfer_lines_qty"),)


class TransferLotRow(Base):
    """A lot that left the sender on a transfer, and arrives as that lot at the receiver."""

    __tablename__ = "transfer_lots"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(String(64), index=True)
    drug_code: Mapped[str] = mapped_column(String(64))
    lot_number: Mapped[str] = mapped_column(String(64))
    expiry_date: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_cost: Mapped[Decimal] = mapped_column(_Price)

    __table_args__ = (CheckConstraint("quantity > 0", name="ck_transfer_lots_qty"),)


class ExpiryScanRow(Base):
    """The daily expiry scan of one facility: done at most once per facility and day."""

    __tablename__ = "expiry_scans"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scanned_on: Mapped[date] = mapped_column(Date, primary_key=True)
    horizon_days: Mapped[int] = mapped_column(Integer)
    near_expiry_value: Mapped[Decimal] = mapped_column(_Money)
    expired_value: Mapped[Decimal] = mapped_column(_Money)
    near_expiry_lots: Mapped[int] = mapped_column(Integer)
    scanned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LevelOverride(Base):
    """Re-order point and target level set by the pharmacy centre instead of computed ones."""

    __tablename__ = "level_overrides"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    drug_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    reorder_point: Mapped[int] = mapped_column(Integer)
    target_level: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "reorder_point >= 0 AND target_level > reorder_point", name="ck_level_overrides"
        ),
    )


def json_list(value: Any) -> list[str]:
    """A JSON column's list of strings, whatever the driver handed back."""
    return [str(v) for v in (value or [])]


MIGRATIONS = MigrationPlan(
    service="pharmacy",
    versions=Path(__file__).resolve().parents[1] / "migrations",
    metadata=(Base.metadata, delivery_metadata, DirectoryBase.metadata),
    shared_versions=(DELIVERY_VERSIONS, DIRECTORY_VERSIONS),
)
