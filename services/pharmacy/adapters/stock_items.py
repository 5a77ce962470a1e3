"""The stock-item repository on SQL: items locked and loaded by the set, saved in bulk.

A use case locks every item it moves in one statement (created first if new; ordered by
facility and drug, so two transactions never wait on each other in a cycle), loads their lots
and active reservations in one query each, and saves what the items decided with one
statement per kind of write however many items and lines: the stock-card lines, the lots'
balances, the day's consumption (``daily_consumption``, the running figure the re-order
levels read), then reservations and stock-out flags through the session.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, tuple_, update
from sqlalchemy.orm import Session

from libs.platform.clock import CountyClock
from services.pharmacy.adapters.schema import (
    DailyConsumption,
    ReservationRow,
    StockCardLine,
    StockLot,
)
from services.pharmacy.adapters.schema import StockItem as StockItemRow
from services.pharmacy.adapters.sql import add_up, insert_ignore
from services.pharmacy.domain.items import Movement, Reservation, StockItem
from services.pharmacy.domain.stock import CardKind, InsufficientStock, LotBalance

__all__ = ["ItemKey", "SqlStockItems"]

#: (facility, drug): one stock item.
ItemKey = tuple[str, str]

_LOTS = cast(Table, StockLot.__table__)
_CARD = cast(Table, StockCardLine.__table__)
_MOVE_LOT = (
    update(_LOTS)
    .where(
        _LOTS.c.facility_id == bindparam("f"),
        _LOTS.c.drug_code == bindparam("d"),
        _LOTS.c.lot_number == bindparam("lot"),
    )
    .values(on_hand=_LOTS.c.on_hand + bindparam("delta"))
)


class SqlStockItems:
    def __init__(self, session: Session, clock: CountyClock) -> None:
        self._session = session
        self._clock = clock
        # What was loaded, to write back to: the rows, the stored lot balances (the items get
        # copies, so a debit is checked against what is stored) and the reservation rows.
        self._rows: dict[ItemKey, StockItemRow] = {}
        self._lots: dict[tuple[str, str, str], LotBalance] = {}
        self._reservations: dict[str, ReservationRow] = {}

    def lock(
        self, facility_id: str, drug_codes: Iterable[str], now: datetime
    ) -> dict[str, StockItem]:
        items = self.lock_many([(facility_id, code) for code in drug_codes], now)
        return {code: item for (_, code), item in items.items()}

    def lock_many(self, keys: Iterable[ItemKey], now: datetime) -> dict[ItemKey, StockItem]:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        insert_ignore(
            self._session,
            StockItemRow,
            [
                {"facility_id": f, "drug_code": d, "stocked_out": False, "changed_at": now}
                for f, d in wanted
            ],
        )
        for row in self._session.scalars(
            select(StockItemRow)
            .where(tuple_(StockItemRow.facility_id, StockItemRow.drug_code).in_(wanted))
            .order_by(StockItemRow.facility_id, StockItemRow.drug_code)
            .with_for_update()
        ):
            self._rows[(row.facility_id, row.drug_code)] = row
        lots = self._load_lots(wanted)
        held = self._load_reservations(wanted)
        return {
            key: StockItem(
                *key,
                [copy.copy(lot) for lot in lots.get(key, [])],
                held.get(key, []),
                self._rows[key].stocked_out,
            )
            for key in wanted
        }

    def _load_lots(self, keys: list[ItemKey]) -> dict[ItemKey, list[LotBalance]]:
        found: dict[ItemKey, list[LotBalance]] = {}
        for f, d, number, expiry, on_hand, cost in self._session.execute(
            select(
                StockLot.facility_id,
                StockLot.drug_code,
                StockLot.lot_number,
                StockLot.expiry_date,
                StockLot.on_hand,
                StockLot.unit_cost,
            )
            .where(tuple_(StockLot.facility_id, StockLot.drug_code).in_(keys))
            .order_by(
                StockLot.facility_id, StockLot.drug_code, StockLot.expiry_date, StockLot.lot_number
            )
        ):
            lot = LotBalance(number, expiry, on_hand, Decimal(cost))
            self._lots[(f, d, number)] = lot
            found.setdefault((f, d), []).append(lot)
        return found

    def _load_reservations(self, keys: list[ItemKey]) -> dict[ItemKey, list[Reservation]]:
        found: dict[ItemKey, list[Reservation]] = {}
        for row in self._session.scalars(
            select(ReservationRow)
            .where(
                tuple_(ReservationRow.facility_id, ReservationRow.drug_code).in_(keys),
                ReservationRow.active.is_(True),
            )
            .order_by(ReservationRow.reserved_at, ReservationRow.reservation_id)
        ):
            self._reservations[row.reservation_id] = row
            found.setdefault((row.facility_id, row.drug_code), []).append(_reservation(row))
        return found

    def save(self, items: Iterable[StockItem], now: datetime) -> None:
        lines: list[dict[str, Any]] = []
        deltas: Counter[tuple[str, str, str]] = Counter()
        consumed: Counter[ItemKey] = Counter()
        for item in items:
            key = (item.facility_id, item.drug_code)
            for m in item.movements:
                lines.append(self._card_line(key, m, now))
                deltas[(*key, m.lot_number)] += m.quantity
                if m.kind is CardKind.DISPENSE:
                    consumed[key] -= m.quantity
            self._write_item(item, now)
        self._post(lines, deltas, consumed, now)

    def _card_line(self, key: ItemKey, movement: Movement, now: datetime) -> dict[str, Any]:
        """One line, its balance taken from the stored lot (moved here, line by line)."""
        quantity = movement.quantity
        lot = self._lots[(*key, movement.lot_number)]
        if quantity == 0:
            raise ValueError("a stock-card line moves stock")
        if lot.on_hand + quantity < 0:
            raise InsufficientStock(key[1], -quantity, lot.on_hand)
        lot.on_hand += quantity
        return {
            "facility_id": key[0],
            "drug_code": key[1],
            "lot_number": movement.lot_number,
            "expiry_date": lot.expiry_date,
            "kind": movement.kind.value,
            "quantity": quantity,
            "balance_after": lot.on_hand,
            "unit_cost": lot.unit_cost,
            "reference_type": movement.reference_type,
            "reference_id": movement.reference_id,
            "reason": None,
            "occurred_at": now,
        }

    def _post(
        self,
        lines: list[dict[str, Any]],
        deltas: Counter[tuple[str, str, str]],
        consumed: Counter[ItemKey],
        now: datetime,
    ) -> None:
        if not lines:
            return
        # The balance moves by the stored figure (on_hand + delta), so the table's CHECK
        # stays the backstop whatever this process believed.
        self._session.execute(
            _MOVE_LOT,
            [{"f": f, "d": d, "lot": lot, "delta": delta} for (f, d, lot), delta in deltas.items()],
        )
        self._session.execute(insert(_CARD), lines)
        day = self._clock.date_of(now)
        add_up(
            self._session,
            DailyConsumption,
            [
                {"facility_id": f, "drug_code": d, "business_day": day, "dispensed": packs}
                for (f, d), packs in sorted(consumed.items())
                if packs
            ],
            ["facility_id", "drug_code", "business_day"],
            "dispensed",
        )

    def _write_item(self, item: StockItem, now: datetime) -> None:
        row = self._rows[(item.facility_id, item.drug_code)]
        if item.movements and row.first_moved_at is None:
            row.first_moved_at = now
        item.movements.clear()
        for reservation in item.added:
            self._add(item, reservation)
        item.added.clear()
        for reservation in item.reservations:
            self._write(reservation, now)
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
