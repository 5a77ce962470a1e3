"""Repositories: the domain's stock items and transfers, and the records the use cases keep.

Each has a small interface (a Protocol) the service layer is written against, so unit tests
can stand in-memory ones behind the same unit of work; the classes here are the SQL ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.orm import Session

from libs.directory import KnownCommunity, KnownFacility
from libs.events.catalogue.pharmacy import DrugSnapshot
from libs.platform.clock import CountyClock
from services.pharmacy.adapters.schema import (
    AwaitingReviewRow,
    DailyConsumption,
    DrugRow,
    LevelOverride,
    PrescriptionRow,
    ReviewPolicyRow,
    ShortageRow,
    TransferLineRow,
    TransferLotRow,
    TransferRow,
    json_list,
)
from services.pharmacy.adapters.schema import (
    StockItem as StockItemRow,
)
from services.pharmacy.adapters.stock_items import ItemKey, SqlStockItems
from services.pharmacy.domain.formulary import Drug
from services.pharmacy.domain.items import StockItem
from services.pharmacy.domain.replenishment import ItemHistory
from services.pharmacy.domain.transfers import (
    OPEN_STATES,
    MovedLot,
    OrderLine,
    Transfer,
    TransferState,
)

__all__ = [
    "ItemKey",
    "Records",
    "SqlRecords",
    "SqlStockItems",
    "SqlTransfers",
    "StockItems",
    "Transfers",
    "drug_of",
    "snapshot_of",
]


def snapshot_of(row: DrugRow) -> DrugSnapshot:
    return DrugSnapshot(
        drug_code=row.drug_code,
        name=row.name,
        generic_name=row.generic_name,
        dosage_form=row.dosage_form,
        strength=row.strength,
        pack_size=row.pack_size,
        unit=row.unit,
        unit_price=Decimal(row.unit_price).quantize(Decimal("0.0001")),
        essential=row.essential,
        tcm=row.tcm,
        category=row.category,
        allowed_tiers=json_list(row.allowed_tiers),
        allowed_facility_types=json_list(row.allowed_facility_types),
    )


def drug_of(row: DrugRow) -> Drug:
    return Drug(snapshot_of(row), listed=row.listed)


class StockItems(Protocol):
    def lock(
        self, facility_id: str, drug_codes: Iterable[str], now: datetime
    ) -> dict[str, StockItem]:
        """The items (created if new), locked in drug-code order, with lots and reservations."""
        ...

    def lock_many(self, keys: Iterable[ItemKey], now: datetime) -> dict[ItemKey, StockItem]:
        """:meth:`lock` for items of several facilities at once, locked in (facility, drug)
        order."""
        ...

    def save(self, items: Iterable[StockItem], now: datetime) -> None:
        """Post the items' movements and write their reservations and stock-out flags."""
        ...


class Transfers(Protocol):
    def lock(self, transfer_id: str) -> Transfer | None: ...

    def save(self, transfer: Transfer) -> None: ...


class Records(Protocol):
    def drugs(self, drug_codes: Iterable[str]) -> dict[str, Drug]:
        """The formulary's entries among ``drug_codes`` (unknown ones are left out)."""
        ...

    def handled_prescriptions(self, prescription_ids: Iterable[str]) -> set[str]:
        """Those of ``prescription_ids`` already dispensed or rejected."""
        ...

    def remember_prescription(self, row: PrescriptionRow) -> None: ...

    def review_policies(self) -> dict[str, frozenset[str]]:
        """Per county, the facility types reviewed before dispensing (none kept: {})."""
        ...

    def keep_review_policy(self, row: ReviewPolicyRow) -> bool:
        """Keep the county's policy unless the one kept was published later; whether kept."""
        ...

    def awaiting_review(self, prescription_ids: Iterable[str]) -> set[str]:
        """Those of ``prescription_ids`` held back for the review."""
        ...

    def hold_for_review(self, row: AwaitingReviewRow) -> None: ...

    def end_review_wait(self, prescription_ids: Iterable[str]) -> None:
        """The prescriptions were released and handled: they no longer wait."""
        ...

    def add_shortage(self, row: ShortageRow) -> None: ...

    def resolve_shortages(self, facility_id: str, drug_code: str, now: datetime) -> None:
        """The item was restocked: its open shortages (缺药登记) are met."""
        ...

    def central_pharmacy_of(self, facility: KnownFacility) -> str | None:
        """The lead facility of the facility's community: the central pharmacy supplying it."""
        ...

    def open_transfer_drugs(self, facility_ids: Iterable[str]) -> dict[str, set[str]]:
        """Per facility, the drugs on their way to it (a transfer requested, approved or
        shipped)."""
        ...

    def item_histories(self, keys: Iterable[ItemKey], since: date) -> dict[ItemKey, ItemHistory]:
        """What the items' re-order levels are drawn from, with consumption from ``since``."""
        ...


class SqlTransfers:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._rows: dict[str, tuple[TransferRow, int]] = {}

    def lock(self, transfer_id: str) -> Transfer | None:
        """The order, its row locked for this step (a concurrent step waits, then is refused)."""
        row = self._session.scalar(
            select(TransferRow).where(TransferRow.transfer_id == transfer_id).with_for_update()
        )
        if row is None:
            return None
        lines = {
            line.drug_code: OrderLine(
                line.drug_code,
                Decimal(line.unit_price),
                line.quantity_requested,
                line.quantity_approved,
                line.quantity_shipped,
            )
            for line in self._lines(transfer_id)
        }
        moved = [
            MovedLot(m.drug_code, m.lot_number, m.expiry_date, m.quantity, Decimal(m.unit_cost))
            for m in self._session.scalars(
                select(TransferLotRow)
                .where(TransferLotRow.transfer_id == transfer_id)
                .order_by(TransferLotRow.drug_code, TransferLotRow.id)
            )
        ]
        self._rows[transfer_id] = (row, len(moved))
        return Transfer(
            transfer_id,
            row.from_facility_id,
            row.to_facility_id,
            TransferState(row.state),
            lines,
            moved,
            row.approved_at,
            row.shipped_at,
            row.received_at,
            row.closed_at,
            row.close_reason,
        )

    def _lines(self, transfer_id: str) -> list[TransferLineRow]:
        return list(
            self._session.scalars(
                select(TransferLineRow)
                .where(TransferLineRow.transfer_id == transfer_id)
                .order_by(TransferLineRow.drug_code)
            )
        )

    def save(self, transfer: Transfer) -> None:
        row, stored = self._rows[transfer.transfer_id]
        row.state = transfer.state.value
        row.approved_at, row.shipped_at = transfer.approved_at, transfer.shipped_at
        row.received_at = transfer.received_at
        row.closed_at, row.close_reason = transfer.closed_at, transfer.close_reason
        for line in self._lines(transfer.transfer_id):
            line.quantity_approved = transfer.lines[line.drug_code].approved
            line.quantity_shipped = transfer.lines[line.drug_code].shipped
        for m in transfer.moved[stored:]:
            self._session.add(
                TransferLotRow(
                    transfer_id=transfer.transfer_id,
                    drug_code=m.drug_code,
                    lot_number=m.lot_number,
                    expiry_date=m.expiry_date,
                    quantity=m.quantity,
                    unit_cost=m.unit_cost,
                )
            )
        self._rows[transfer.transfer_id] = (row, len(transfer.moved))


class SqlRecords:
    def __init__(self, session: Session, clock: CountyClock) -> None:
        self._session = session
        self._clock = clock

    def drugs(self, drug_codes: Iterable[str]) -> dict[str, Drug]:
        rows = self._session.scalars(select(DrugRow).where(DrugRow.drug_code.in_(set(drug_codes))))
        return {row.drug_code: drug_of(row) for row in rows}

    def handled_prescriptions(self, prescription_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(prescription_ids))
        if not wanted:
            return set()
        return set(
            self._session.scalars(
                select(PrescriptionRow.prescription_id).where(
                    PrescriptionRow.prescription_id.in_(wanted)
                )
            )
        )

    def remember_prescription(self, row: PrescriptionRow) -> None:
        self._session.add(row)

    def review_policies(self) -> dict[str, frozenset[str]]:
        rows = self._session.scalars(select(ReviewPolicyRow))
        return {row.county_code: frozenset(json_list(row.review_before_dispensing)) for row in rows}

    def keep_review_policy(self, row: ReviewPolicyRow) -> bool:
        kept = self._session.get(ReviewPolicyRow, row.county_code, with_for_update=True)
        if kept is None:
            self._session.add(row)
            return True
        published = kept.published_at
        if published.tzinfo is None:  # SQLite hands back naive datetimes, stored in UTC
            published = published.replace(tzinfo=UTC)
        if row.published_at <= published:
            return False
        kept.review_before_dispensing = row.review_before_dispensing
        kept.published_at, kept.received_at = row.published_at, row.received_at
        return True

    def awaiting_review(self, prescription_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(prescription_ids))
        if not wanted:
            return set()
        return set(
            self._session.scalars(
                select(AwaitingReviewRow.prescription_id).where(
                    AwaitingReviewRow.prescription_id.in_(wanted)
                )
            )
        )

    def hold_for_review(self, row: AwaitingReviewRow) -> None:
        self._session.add(row)

    def end_review_wait(self, prescription_ids: Iterable[str]) -> None:
        wanted = sorted(set(prescription_ids))
        if wanted:
            self._session.execute(
                delete(AwaitingReviewRow).where(AwaitingReviewRow.prescription_id.in_(wanted))
            )

    def add_shortage(self, row: ShortageRow) -> None:
        self._session.add(row)

    def resolve_shortages(self, facility_id: str, drug_code: str, now: datetime) -> None:
        self._session.execute(
            update(ShortageRow)
            .where(
                ShortageRow.facility_id == facility_id,
                ShortageRow.drug_code == drug_code,
                ShortageRow.resolved_at.is_(None),
            )
            .values(resolved_at=now)
        )

    def central_pharmacy_of(self, facility: KnownFacility) -> str | None:
        community = self._session.get(KnownCommunity, facility.community_id)
        return community.lead_facility_id if community is not None else None

    def open_transfer_drugs(self, facility_ids: Iterable[str]) -> dict[str, set[str]]:
        wanted = sorted(set(facility_ids))
        found: dict[str, set[str]] = {f: set() for f in wanted}
        if not wanted:
            return found
        for facility_id, drug_code in self._session.execute(
            select(TransferRow.to_facility_id, TransferLineRow.drug_code)
            .join(TransferRow, TransferRow.transfer_id == TransferLineRow.transfer_id)
            .where(
                TransferRow.to_facility_id.in_(wanted),
                TransferRow.state.in_([s.value for s in OPEN_STATES]),
            )
        ):
            found[facility_id].add(drug_code)
        return found

    def item_histories(self, keys: Iterable[ItemKey], since: date) -> dict[ItemKey, ItemHistory]:
        wanted = sorted(set(keys))
        found = {key: ItemHistory() for key in wanted}
        if not wanted:
            return found
        for f, d, first in self._session.execute(
            select(
                StockItemRow.facility_id, StockItemRow.drug_code, StockItemRow.first_moved_at
            ).where(tuple_(StockItemRow.facility_id, StockItemRow.drug_code).in_(wanted))
        ):
            found[(f, d)].first_moved_on = self._clock.date_of(first) if first else None
        for f, d, day, packs in self._session.execute(
            select(
                DailyConsumption.facility_id,
                DailyConsumption.drug_code,
                DailyConsumption.business_day,
                DailyConsumption.dispensed,
            ).where(
                tuple_(DailyConsumption.facility_id, DailyConsumption.drug_code).in_(wanted),
                DailyConsumption.business_day >= since,
            )
        ):
            found[(f, d)].dispensed[day] = packs
        for row in self._session.scalars(
            select(LevelOverride).where(
                tuple_(LevelOverride.facility_id, LevelOverride.drug_code).in_(wanted)
            )
        ):
            found[(row.facility_id, row.drug_code)].manual = (row.reorder_point, row.target_level)
        return found
