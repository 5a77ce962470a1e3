"""The stock card and lot balances in the database: locking, reading and posting lines.

Every movement a use case books itself (a receipt, an adjustment, a count, a transfer in)
goes through :meth:`StockLedger.post`, which appends the stock-card line and moves the lot's
balance in the same transaction (``on_hand = on_hand + quantity``, guarded by the table's
CHECK); what a stock item decides (dispensing, shipping, write-offs) is posted in bulk by its
repository (``adapters/stock_items.py``). Callers lock the items they move first
(:meth:`lock_items`, in drug-code order, so two transactions never wait on each other in a
cycle).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.pharmacy.adapters.schema import (
    ReservationRow,
    StockCardLine,
    StockItem,
    StockLot,
)
from services.pharmacy.adapters.sql import insert_ignore
from services.pharmacy.domain.stock import CardKind, InsufficientStock, LotBalance

__all__ = ["LotMismatch", "StockLedger"]


class LotMismatch(ValueError):
    """A lot number already known at the facility with another expiry date."""


class StockLedger:
    def __init__(self, session: Session) -> None:
        self._session = session

    # --- locking ---------------------------------------------------------------------------

    def lock_items(
        self, facility_id: str, drug_codes: Iterable[str], now: datetime
    ) -> dict[str, StockItem]:
        """Create (if new) and lock the items, in drug-code order; returns them by code."""
        codes = sorted(set(drug_codes))
        insert_ignore(
            self._session,
            StockItem,
            [
                {
                    "facility_id": facility_id,
                    "drug_code": c,
                    "stocked_out": False,
                    "changed_at": now,
                }
                for c in codes
            ],
        )
        rows = self._session.scalars(
            select(StockItem)
            .where(StockItem.facility_id == facility_id, StockItem.drug_code.in_(codes))
            .order_by(StockItem.drug_code)
            .with_for_update()
        )
        return {row.drug_code: row for row in rows}

    # --- reading ---------------------------------------------------------------------------

    def lots(self, facility_id: str, drug_codes: Iterable[str]) -> dict[str, list[LotBalance]]:
        """Every lot of these drugs at the facility (empty lists for drugs with none)."""
        codes = sorted(set(drug_codes))
        result: dict[str, list[LotBalance]] = {c: [] for c in codes}
        rows = self._session.execute(
            select(
                StockLot.drug_code,
                StockLot.lot_number,
                StockLot.expiry_date,
                StockLot.on_hand,
                StockLot.unit_cost,
            )
            .where(StockLot.facility_id == facility_id, StockLot.drug_code.in_(codes))
            .order_by(StockLot.drug_code, StockLot.expiry_date, StockLot.lot_number)
        )
        for drug, lot, expiry, on_hand, cost in rows:
            result[drug].append(LotBalance(lot, expiry, on_hand, Decimal(cost)))
        return result

    def reserved(
        self, facility_id: str, drug_code: str, *, excluding_patient: str | None = None
    ) -> int:
        """Packs of active reservations for the item, other than the given patient's."""
        query = select(func.coalesce(func.sum(ReservationRow.quantity), 0)).where(
            ReservationRow.facility_id == facility_id,
            ReservationRow.drug_code == drug_code,
            ReservationRow.active.is_(True),
        )
        if excluding_patient is not None:
            query = query.where(
                (ReservationRow.patient_pseudonym.is_(None))
                | (ReservationRow.patient_pseudonym != excluding_patient)
            )
        return int(self._session.scalar(query) or 0)

    def reserved_by_drug(
        self, facility_id: str, drug_codes: Iterable[str], *, excluding_patient: str | None = None
    ) -> dict[str, int]:
        """:meth:`reserved` for several drugs in one query (0 for drugs with none)."""
        codes = sorted(set(drug_codes))
        query = (
            select(ReservationRow.drug_code, func.sum(ReservationRow.quantity))
            .where(
                ReservationRow.facility_id == facility_id,
                ReservationRow.drug_code.in_(codes),
                ReservationRow.active.is_(True),
            )
            .group_by(ReservationRow.drug_code)
        )
        if excluding_patient is not None:
            query = query.where(
                (ReservationRow.patient_pseudonym.is_(None))
                | (ReservationRow.patient_pseudonym != excluding_patient)
            )
        found = {code: int(total or 0) for code, total in self._session.execute(query)}
        return {code: found.get(code, 0) for code in codes}

    def has_reference(self, reference_type: str, reference_id: str) -> bool:
        """Whether some line was already posted for this document (e.g. a receipt id)."""
        return (
            self._session.scalar(
                select(StockCardLine.id)
                .where(
                    StockCardLine.reference_type == reference_type,
                    StockCardLine.reference_id == reference_id,
                )
                .limit(1)
            )
            is not None
        )

    # --- writing ---------------------------------------------------------------------------

    def ensure_lot(
        self,
        facility_id: str,
        drug_code: str,
        lot_number: str,
        expiry_date: date,
        unit_cost: Decimal,
        now: datetime,
    ) -> LotBalance:
        """The lot, created empty if new; a known lot number with another expiry is refused."""
        insert_ignore(
            self._session,
            StockLot,
            [
                {
                    "facility_id": facility_id,
                    "drug_code": drug_code,
                    "lot_number": lot_number,
                    "expiry_date": expiry_date,
                    "on_hand": 0,
                    "unit_cost": unit_cost,
                    "first_received_at": now,
                }
            ],
        )
        row = self._session.execute(
            select(StockLot.expiry_date, StockLot.on_hand, StockLot.unit_cost).where(
                StockLot.facility_id == facility_id,
                StockLot.drug_code == drug_code,
                StockLot.lot_number == lot_number,
            )
        ).one()
        if row.expiry_date != expiry_date:
            raise LotMismatch(
                f"lot {lot_number} of {drug_code} is known here with expiry {row.expiry_date}, "
                f"not {expiry_date}"
            )
        return LotBalance(lot_number, row.expiry_date, row.on_hand, Decimal(row.unit_cost))

    def post(
        self,
        facility_id: str,
        drug_code: str,
        lot: LotBalance,
        kind: CardKind,
        quantity: int,
        *,
        reference_type: str,
        reference_id: str,
        at: datetime,
        reason: str | None = None,
        unit_cost: Decimal | None = None,
    ) -> StockCardLine:
        """Append one line and move the lot's balance by ``quantity`` (signed); ``lot`` is
        updated in place. A debit beyond the balance raises :class:`InsufficientStock` (and the
        database would refuse it anyway)."""
        if quantity == 0:
            raise ValueError("a stock-card line moves stock")
        if lot.on_hand + quantity < 0:
            raise InsufficientStock(drug_code, -quantity, lot.on_hand)
        balance = self._session.execute(
            update(StockLot)
            .where(
                StockLot.facility_id == facility_id,
                StockLot.drug_code == drug_code,
                StockLot.lot_number == lot.lot_number,
            )
            .values(on_hand=StockLot.on_hand + quantity)
            .returning(StockLot.on_hand),
            execution_options={"synchronize_session": False},
        ).scalar_one()
        lot.on_hand = int(balance)
        self._mark_first_movement(facility_id, drug_code, at)
        line = StockCardLine(
            facility_id=facility_id,
            drug_code=drug_code,
            lot_number=lot.lot_number,
            expiry_date=lot.expiry_date,
            kind=kind.value,
            quantity=quantity,
            balance_after=lot.on_hand,
            unit_cost=unit_cost if unit_cost is not None else lot.unit_cost,
            reference_type=reference_type,
            reference_id=reference_id,
            reason=reason,
            occurred_at=at,
        )
        self._session.add(line)
        return line

    def _mark_first_movement(self, facility_id: str, drug_code: str, at: datetime) -> None:
        # The item's age sets its consumption window; the caller locked the item, so its row
        # is in the session already and this costs no query.
        row = self._session.get(StockItem, (facility_id, drug_code))
        if row is not None and row.first_moved_at is None:
            row.first_moved_at = at

    # --- the card --------------------------------------------------------------------------

    def movements(
        self,
        facility_id: str,
        drug_code: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Sequence[tuple[str, int]]:
        """Signed quantity per kind of line in ``[since, until)``."""
        query = (
            select(StockCardLine.kind, func.sum(StockCardLine.quantity))
            .where(StockCardLine.facility_id == facility_id, StockCardLine.drug_code == drug_code)
            .group_by(StockCardLine.kind)
        )
        if since is not None:
            query = query.where(StockCardLine.occurred_at >= since)
        if until is not None:
            query = query.where(StockCardLine.occurred_at < until)
        return [(kind, int(total)) for kind, total in self._session.execute(query)]

    def on_hand(self, facility_id: str, drug_code: str) -> int:
        """What the lots hold now, expired or not."""
        return int(
            self._session.scalar(
                select(func.coalesce(func.sum(StockLot.on_hand), 0)).where(
                    StockLot.facility_id == facility_id, StockLot.drug_code == drug_code
                )
            )
            or 0
        )
