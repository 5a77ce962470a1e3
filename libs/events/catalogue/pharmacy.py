"""Pharmacy (药械管理): the unified formulary, stock per facility and lot, dispensing, transfers.

Quantities are whole packs in the formulary's unit; prices are per pack (4 decimals). Every
amount is ``cents(price × quantity)`` of its own line, rounded half up, and every total is the
sum of its lines' amounts, so a consumer (finance) can recompute each figure from the event.

Longer than 400 lines because it is declarative: the domain's event catalogue, one payload
class per event type, read (and rendered into docs/events.md) as one list.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from libs.events.catalogue.values import (
    FacilityTier,
    FacilityType,
    ItemCategory,
    PrescriptionCategory,
)
from libs.events.payload import (
    Amount,
    Code,
    Count,
    Date,
    Identifier,
    Instant,
    Money,
    Name,
    Payload,
    Quantity,
    UnitPrice,
)
from libs.events.registry import event_type

PRODUCER = "pharmacy"


# --- formulary (统一药品目录): topic pharmacy.drug, keyed by drug code ----------------------


class DrugSnapshot(Payload):
    drug_code: Identifier
    name: Name
    generic_name: Name | None = None
    dosage_form: Name
    strength: Name
    pack_size: int = Field(gt=0, le=100_000, description="Dosage units per pack.")
    unit: Name = Field(description="The pack unit stock is counted in, e.g. 盒 (box).")
    unit_price: UnitPrice = Field(description="Unified price per pack (统一价格).")
    essential: bool = Field(description="On the national essential drug list (基本药物).")
    tcm: bool = Field(description="A traditional Chinese medicine.")
    category: ItemCategory = ItemCategory.DRUG
    allowed_tiers: list[FacilityTier] = Field(
        min_length=1, description="Tiers whose facilities may hold and dispense it."
    )
    allowed_facility_types: list[FacilityType] = Field(
        default_factory=lambda: list(FacilityType),
        min_length=1,
        description="Kinds of facility that may hold and dispense it (e.g. every kind but "
        "village clinics); a facility needs both its tier and its type allowed.",
    )


@event_type("pharmacy.drug.listed.v1", key="drug_code", producer=PRODUCER)
class DrugListed(DrugSnapshot):
    """A drug, consumable or device was added to the unified catalogue (full snapshot)."""


@event_type("pharmacy.drug.updated.v1", key="drug_code", producer=PRODUCER)
class DrugUpdated(DrugSnapshot):
    """A catalogue entry changed, e.g. its price or the tiers allowed to stock it (snapshot)."""


@event_type("pharmacy.drug.delisted.v1", key="drug_code", producer=PRODUCER)
class DrugDelisted(Payload):
    """A drug left the catalogue: it can no longer be received or dispensed."""

    drug_code: Identifier
    reason: Code
    delisted_at: Instant


# --- stock per facility (库存): topic pharmacy.stock, keyed by facility -------------------------


class ReceiptSource(StrEnum):
    PURCHASE = "purchase"
    OPENING_BALANCE = "opening_balance"
    RETURN = "return"


class AdjustmentReason(StrEnum):
    COUNT_CORRECTION = "count_correction"  # from a physical inventory (盘点)
    DAMAGED = "damaged"
    LOST = "lost"
    FOUND = "found"
    RETURNED_TO_SUPPLIER = "returned_to_supplier"
    OTHER = "other"


class WriteOffReason(StrEnum):
    EXPIRED = "expired"
    DAMAGED = "damaged"
    RECALLED = "recalled"


class LotQuantity(Payload):
    lot_number: Identifier
    expiry_date: Date
    quantity: Quantity
    unit_cost: UnitPrice | None = Field(default=None, description="Purchase cost per pack.")


@event_type(
    "pharmacy.stock.received.v1", key="facility_id", producer=PRODUCER, identity=("receipt_id",)
)
class StockReceived(Payload):
    """A lot arrived at a facility from a purchase, an opening balance or a return."""

    receipt_id: Identifier
    facility_id: Identifier
    drug_code: Identifier
    lot_number: Identifier
    expiry_date: Date
    quantity: Quantity
    unit_cost: UnitPrice
    source: ReceiptSource
    reference_id: Identifier | None = None
    received_at: Instant


@event_type(
    "pharmacy.stock.adjusted.v1", key="facility_id", producer=PRODUCER, identity=("adjustment_id",)
)
class StockAdjusted(Payload):
    """A balance adjustment line on a stock card, with its reason."""

    adjustment_id: Identifier
    facility_id: Identifier
    drug_code: Identifier
    lot_number: Identifier
    expiry_date: Date
    quantity_delta: int = Field(ge=-1_000_000, le=1_000_000)
    reason: AdjustmentReason
    unit_cost: UnitPrice
    value_delta: Money = Field(description="cents(unit_cost × quantity_delta).")
    count_id: Identifier | None = Field(
        default=None, description="The physical inventory this correction came from."
    )
    adjusted_at: Instant


class CountedLine(Payload):
    drug_code: Identifier
    lot_number: Identifier
    expiry_date: Date
    system_quantity: Count
    counted_quantity: Count


@event_type(
    "pharmacy.stock.counted.v1", key="facility_id", producer=PRODUCER, identity=("count_id",)
)
class StockCounted(Payload):
    """A physical inventory (盘点) was recorded; differences follow as adjustments."""

    count_id: Identifier
    facility_id: Identifier
    lines: list[CountedLine] = Field(min_length=1, max_length=5000)
    counted_at: Instant


@event_type(
    "pharmacy.stock.written_off.v1",
    key="facility_id",
    producer=PRODUCER,
    identity=("write_off_id",),
)
class StockWrittenOff(Payload):
    """Stock was written off (expired, damaged, recalled); finance posts the loss."""

    write_off_id: Identifier
    facility_id: Identifier
    drug_code: Identifier
    lot_number: Identifier
    expiry_date: Date
    quantity: Quantity
    unit_cost: UnitPrice
    value: Amount = Field(description="cents(unit_cost × quantity): the loss at cost.")
    reason: WriteOffReason
    written_off_at: Instant


@event_type(
    "pharmacy.stock.stocked_out.v1",
    key="facility_id",
    producer=PRODUCER,
    identity=("facility_id", "drug_code", "occurred_at"),
)
class StockedOut(Payload):
    """A facility has no available (unexpired, unreserved) stock of a drug any more."""

    facility_id: Identifier
    drug_code: Identifier
    occurred_at: Instant


@event_type(
    "pharmacy.stock.restocked.v1",
    key="facility_id",
    producer=PRODUCER,
    identity=("facility_id", "drug_code", "occurred_at"),
)
class Restocked(Payload):
    """A facility that was stocked out of a drug has available stock again."""

    facility_id: Identifier
    drug_code: Identifier
    available_quantity: Quantity
    occurred_at: Instant


@event_type(
    "pharmacy.stock.shortage_recorded.v1",
    key="facility_id",
    producer=PRODUCER,
    identity=("shortage_id",),
)
class ShortageRecorded(Payload):
    """A demand could not be filled from stock (缺药登记)."""

    shortage_id: Identifier
    facility_id: Identifier
    drug_code: Identifier
    quantity_short: Quantity
    prescription_id: Identifier | None = None
    referral_id: Identifier | None = None
    recorded_at: Instant


@event_type(
    "pharmacy.stock.reserved.v1", key="facility_id", producer=PRODUCER, identity=("reservation_id",)
)
class StockReserved(Payload):
    """Stock was set aside at a clinic for a patient referred down with a medication plan."""

    reservation_id: Identifier
    facility_id: Identifier
    drug_code: Identifier
    quantity: Quantity
    referral_id: Identifier
    reserved_until: Date
    reserved_at: Instant


@event_type(
    "pharmacy.stock.reservation_released.v1",
    key="facility_id",
    producer=PRODUCER,
    identity=("reservation_id",),
)
class ReservationReleased(Payload):
    """A reservation ended: dispensed, expired or the referral was cancelled."""

    reservation_id: Identifier
    facility_id: Identifier
    drug_code: Identifier
    quantity: Quantity
    reason: Code
    released_at: Instant


class ExpiringLot(Payload):
    drug_code: Identifier
    lot_number: Identifier
    expiry_date: Date
    quantity: Quantity
    value: Amount


@event_type("pharmacy.stock.expiry_scanned.v1", key="facility_id", producer=PRODUCER)
class ExpiryScanned(Payload):
    """The daily near-expiry scan of one facility (default horizon 180 days)."""

    facility_id: Identifier
    scanned_on: Date
    horizon_days: int = Field(ge=1, le=3650)
    near_expiry_value: Amount
    expired_value: Amount
    near_expiry_lots: list[ExpiringLot] = Field(default_factory=list, max_length=2000)
    scanned_at: Instant


# --- dispensing: topic pharmacy.prescription, keyed by prescription ---------------------------


class DispensedLine(Payload):
    line_no: int = Field(ge=1, le=200)
    drug_code: Identifier
    quantity_prescribed: Quantity
    quantity_dispensed: Count
    unit_price: UnitPrice = Field(description="The formulary's unified price per pack.")
    amount: Amount = Field(description="cents(unit_price × quantity_dispensed).")
    lots: list[LotQuantity] = Field(default_factory=list, max_length=50)


@event_type(
    "pharmacy.prescription.dispensed.v1",
    key="prescription_id",
    producer=PRODUCER,
    identity=("prescription_id",),
)
class PrescriptionDispensed(Payload):
    """A prescription was dispensed first-expiry-first-out; partial lines are not complete."""

    prescription_id: Identifier
    facility_id: Identifier
    category: PrescriptionCategory
    lines: list[DispensedLine] = Field(min_length=1, max_length=50)
    total_amount: Amount
    complete: bool
    dispensed_at: Instant


class RejectionReason(StrEnum):
    UNKNOWN_DRUG = "unknown_drug"
    DELISTED = "delisted"
    TIER_NOT_ALLOWED = "tier_not_allowed"
    UNKNOWN_FACILITY = "unknown_facility"


class RejectedLine(Payload):
    line_no: int = Field(ge=1, le=200)
    drug_code: Identifier
    reason: RejectionReason
    detail: str = Field(max_length=500)


@event_type(
    "pharmacy.prescription.rejected.v1",
    key="prescription_id",
    producer=PRODUCER,
    identity=("prescription_id",),
)
class PrescriptionRejected(Payload):
    """A prescription failed the formulary or tier check; nothing was dispensed."""

    prescription_id: Identifier
    facility_id: Identifier
    facility_tier: FacilityTier
    facility_type: FacilityType | None = None
    lines: list[RejectedLine] = Field(min_length=1, max_length=50)
    rejected_at: Instant


# --- transfers (调拨): topic pharmacy.transfer, keyed by transfer order ------------------------


class TransferReason(StrEnum):
    REPLENISHMENT = "replenishment"  # re-order point crossed
    SURPLUS_REBALANCE = "surplus_rebalance"  # 余缺调度
    REFERRAL_MEDICATION = "referral_medication"  # a patient referred down needs it
    MANUAL = "manual"


class TransferLine(Payload):
    drug_code: Identifier
    quantity: Quantity
    unit_price: UnitPrice


class ShippedLine(Payload):
    drug_code: Identifier
    unit_price: UnitPrice
    lots: list[LotQuantity] = Field(min_length=1, max_length=50)
    amount: Amount | None = Field(
        default=None, description="cents(unit_price × the lots' total quantity)."
    )


class _TransferRef(Payload):
    transfer_id: Identifier
    from_facility_id: Identifier
    to_facility_id: Identifier


@event_type(
    "pharmacy.transfer.requested.v1",
    key="transfer_id",
    producer=PRODUCER,
    identity=("transfer_id",),
)
class TransferRequested(_TransferRef):
    """A transfer order was raised (by the re-order point, a referral, or a pharmacist)."""

    reason: TransferReason
    lines: list[TransferLine] = Field(min_length=1, max_length=200)
    referral_id: Identifier | None = None
    requested_at: Instant


@event_type(
    "pharmacy.transfer.approved.v1", key="transfer_id", producer=PRODUCER, identity=("transfer_id",)
)
class TransferApproved(_TransferRef):
    """The central pharmacy approved a transfer, possibly with reduced quantities."""

    lines: list[TransferLine] = Field(min_length=1, max_length=200)
    approved_at: Instant


@event_type(
    "pharmacy.transfer.rejected.v1", key="transfer_id", producer=PRODUCER, identity=("transfer_id",)
)
class TransferRejected(_TransferRef):
    """The central pharmacy refused a transfer."""

    reason: Code
    rejected_at: Instant


@event_type(
    "pharmacy.transfer.shipped.v1", key="transfer_id", producer=PRODUCER, identity=("transfer_id",)
)
class TransferShipped(_TransferRef):
    """Stock left the sending facility, by lot."""

    lines: list[ShippedLine] = Field(min_length=1, max_length=200)
    shipped_at: Instant


@event_type(
    "pharmacy.transfer.received.v1", key="transfer_id", producer=PRODUCER, identity=("transfer_id",)
)
class TransferReceived(_TransferRef):
    """Stock arrived at the receiving facility; finance settles it at the unified price."""

    lines: list[ShippedLine] = Field(min_length=1, max_length=200)
    total_value: Amount = Field(description="The sum of the lines' amounts.")
    received_at: Instant


@event_type(
    "pharmacy.transfer.cancelled.v1",
    key="transfer_id",
    producer=PRODUCER,
    identity=("transfer_id",),
)
class TransferCancelled(_TransferRef):
    """A transfer was cancelled before it was shipped."""

    reason: Code
    cancelled_at: Instant
