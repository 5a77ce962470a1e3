"""Repositories: the domain's stock items and transfers, and the records the use cases keep.

Each has a small interface (a Protocol) the service layer is written against, so unit tests
can stand in-memory ones behind the same unit of work; the classes here are the SQL ones.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from libs.directory import KnownCommunity, KnownFacility
from libs.events.catalogue.pharmacy import DrugSnapshot
from services.pharmacy.adapters.ledger import StockLedger
from services.pharmacy.adapters.schema import (
    DrugRow,
    PrescriptionRow,
    ReservationRow,
    ShortageRow,
    TransferLineRow,
    TransferLotRow,
    TransferRow,
    json_list,
)
from services.pharmacy.adapters.schema import (
    StockItem as StockItemRow,
)
from services.pharmacy.domain.formulary import Drug
from services.pharmacy.domain.items import Reservation, StockItem
from services.pharmacy.domain.stock import LotBalance
from services.pharmacy.domain.transfers import MovedLot, OrderLine, Transfer, TransferState

__all__ = [
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

    def prescription_handled(self, prescription_id: str) -> bool: ...

    def remember_prescription(self, row: PrescriptionRow) -> None: ...

    def add_shortage(self, row: ShortageRow) -> None: ...

    def resolve_shortages(self, facility_id: str, drug_code: str, now: datetime) -> None:
        """The item was restocked: its open shortages (缺药登记) are met."""
        ...

    def central_pharmacy_of(self, facility: KnownFacility) -> str | None:
        """The lead facility of the facility's community: the central pharmacy supplying it."""
        ...


class SqlStockItems:
    def __init__(self, session: Session, ledger: StockLedger) -> None:
        self._session = session
        self._ledger = ledger
        # What was loaded, to write back to: the rows, and the ledger's own lot balances
        # (the items get copies, so the ledger's debit check sees the stored balance).
        self._rows: dict[tuple[str, str], StockItemRow] = {}
        self._lots: dict[tuple[str, str, str], LotBalance] = {}
        self._reservations: dict[str, ReservationRow] = {}

    def lock(
        self, facility_id: str, drug_codes: Iterable[str], now: datetime
    ) -> dict[str, StockItem]:
        rows = self._ledger.lock_items(facility_id, drug_codes, now)
        lots = self._ledger.lots(facility_id, rows)
        held: dict[str, list[Reservation]] = {code: [] for code in rows}
        for reservation in self._session.scalars(
            select(ReservationRow)
            .where(
                ReservationRow.facility_id == facility_id,
                ReservationRow.drug_code.in_(sorted(rows)),
                ReservationRow.active.is_(True),
            )
            .order_by(ReservationRow.reserved_at, ReservationRow.reservation_id)
        ):
            self._reservations[reservation.reservation_id] = reservation
            held[reservation.drug_code].append(_reservation(reservation))
        items = {}
        for code, row in rows.items():
            self._rows[(facility_id, code)] = row
            for lot in lots[code]:
                self._lots[(facility_id, code, lot.lot_number)] = lot
            items[code] = StockItem(
                facility_id,
                code,
                [copy.copy(lot) for lot in lots[code]],
                held[code],
                row.stocked_out,
            )
        return items

    def save(self, items: Iterable[StockItem], now: datetime) -> None:
        for item in items:
            key = (item.facility_id, item.drug_code)
            for m in item.movements:
                self._ledger.post(
                    *key,
                    self._lots[(*key, m.lot_number)],
                    m.kind,
                    m.quantity,
                    reference_type=m.reference_type,
                    reference_id=m.reference_id,
                    at=now,
                )
            item.movements.clear()
            for reservation in item.added:
                self._add(item, reservation)
            item.added.clear()
            for reservation in item.reservations:
                self._write(reservation, now)
            row = self._rows[key]
            if row.stocked_out != item.stocked_out:
                row.stocked_out, row.changed_at = item.stocked_out, now

    def _add(self, item: StockItem, reservation: Reservation) -> None:
        row = ReservationRow(
            reservation_id=reservation.reservation_id,
            facility_id=item.facility_id,
            drug_code=item.drug_code,
            referral_id=reservation.referral_id,
            patient_pseudonym=reservation.patient_pseudonym,
            quantity=reservation.quantity,
            reserved_until=reservation.reserved_until,
            active=True,
            reserved_at=reservation.reserved_at,
        )
        self._session.add(row)
        self._reservations[reservation.reservation_id] = row

    def _write(self, reservation: Reservation, now: datetime) -> None:
        row = self._reservations[reservation.reservation_id]
        row.quantity = reservation.quantity
        if row.active and not reservation.active:
            row.active = False
            row.released_reason, row.released_at = reservation.released_reason, now


def _reservation(row: ReservationRow) -> Reservation:
    return Reservation(
        reservation_id=row.reservation_id,
        quantity=row.quantity,
        patient_pseudonym=row.patient_pseudonym,
        referral_id=row.referral_id,
        reserved_until=row.reserved_until,
        reserved_at=row.reserved_at,
    )


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
    def __init__(self, session: Session) -> None:
        self._session = session

    def drugs(self, drug_codes: Iterable[str]) -> dict[str, Drug]:
        rows = self._session.scalars(select(DrugRow).where(DrugRow.drug_code.in_(set(drug_codes))))
        return {row.drug_code: drug_of(row) for row in rows}

    def prescription_handled(self, prescription_id: str) -> bool:
        return self._session.get(PrescriptionRow, prescription_id) is not None

    def remember_prescription(self, row: PrescriptionRow) -> None:
        self._session.add(row)

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
