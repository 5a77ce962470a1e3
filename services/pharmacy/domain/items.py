"""A stock item: one drug at one facility, with its lots and the reservations held on it.

Pure domain. The item decides what a movement takes (first-expiry-first-out from unexpired
lots, leaving reservations on the shelf), what a reservation lacks, and when the item goes
out of stock or is restocked. It records the stock-card lines it decided on
(:attr:`StockItem.movements`); the repository posts them, so the card stays the one record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from services.pharmacy.domain.stock import CardKind, LotBalance, Pick, available, pick_fefo

__all__ = [
    "Availability",
    "Draw",
    "Movement",
    "Reservation",
    "StockItem",
]


@dataclass
class Reservation:
    """Packs held at the item for a referred patient (or for no one in particular)."""

    reservation_id: str
    quantity: int
    patient_pseudonym: str | None = None
    referral_id: str | None = None
    reserved_until: date | None = None
    reserved_at: datetime | None = None
    active: bool = True
    released_reason: str | None = None

    def for_patient(self, patient: str) -> bool:
        return self.patient_pseudonym is not None and self.patient_pseudonym == patient

    def lapsed(self, today: date) -> bool:
        """Its hold ended before ``today``."""
        return self.reserved_until is not None and self.reserved_until < today


@dataclass(frozen=True)
class Draw:
    """Packs of a reservation handed to its patient (or given back when it is released)."""

    reservation_id: str
    facility_id: str
    drug_code: str
    quantity: int


@dataclass(frozen=True)
class Movement:
    """A stock-card line the item decided on; the repository posts it."""

    kind: CardKind
    lot_number: str
    quantity: int
    reference_type: str
    reference_id: str


class Availability(StrEnum):
    """A change of the item's availability worth announcing."""

    STOCKED_OUT = "stocked_out"
    RESTOCKED = "restocked"


@dataclass
class StockItem:
    """One drug at one facility: its lots, its active reservations and its stock-out flag."""

    facility_id: str
    drug_code: str
    lots: list[LotBalance] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)
    stocked_out: bool = False
    movements: list[Movement] = field(default_factory=list)
    added: list[Reservation] = field(default_factory=list)

    # --- what there is -----------------------------------------------------------------------

    def reserved(self, *, excluding_patient: str | None = None) -> int:
        """Packs held by active reservations, other than the given patient's."""
        return sum(
            r.quantity
            for r in self.reservations
            if r.active and (excluding_patient is None or not r.for_patient(excluding_patient))
        )

    def available(self, today: date) -> int:
        """Unexpired stock less every active reservation: what a new demand could get."""
        return available(self.lots, today, held_back=self.reserved())

    # --- taking stock ------------------------------------------------------------------------

    def pick(self, quantity: int, today: date, *, patient: str | None = None) -> list[Pick]:
        """What taking ``quantity`` would pick (first-expiry-first-out); may be less."""
        picks, _ = pick_fefo(
            self.lots, quantity, today, held_back=self.reserved(excluding_patient=patient)
        )
        return picks

    def take(self, picks: list[Pick], kind: CardKind, reference: tuple[str, str]) -> None:
        """Debit the picks: one card line each, the lots' balances moved here too."""
        by_lot = {lot.lot_number: lot for lot in self.lots}
        for pick in picks:
            by_lot[pick.lot_number].on_hand -= pick.quantity
            self.movements.append(Movement(kind, pick.lot_number, -pick.quantity, *reference))

    def dispense(
        self, quantity: int, today: date, patient: str, prescription_id: str
    ) -> tuple[list[Pick], list[Draw]]:
        """Dispense to ``patient``: others' reservations stay on the shelf, the patient's own
        are drawn on and shrink by what was dispensed (a used-up one is released)."""
        picks = self.pick(quantity, today, patient=patient)
        self.take(picks, CardKind.DISPENSE, ("prescription", prescription_id))
        return picks, self._draw_own(patient, sum(p.quantity for p in picks))

    def _draw_own(self, patient: str, dispensed: int) -> list[Draw]:
        draws = []
        for reservation in self.reservations:
            if dispensed <= 0:
                break
            if not reservation.active or not reservation.for_patient(patient):
                continue
            used = min(reservation.quantity, dispensed)
            reservation.quantity -= used
            dispensed -= used
            if reservation.quantity == 0:
                reservation.active, reservation.released_reason = False, "dispensed"
            draws.append(self._draw(reservation, used))
        return draws

    # --- reservations ------------------------------------------------------------------------

    def reserve(self, reservation: Reservation, today: date) -> int:
        """Hold ``reservation`` here; returns what the shelf lacks for it (0 if covered)."""
        free = self.available(today)
        self.reservations.append(reservation)
        self.added.append(reservation)
        return max(0, reservation.quantity - free)

    def release(self, reason: str, which: Callable[[Reservation], bool]) -> list[Draw]:
        """Release the active reservations ``which`` picks; returns each with the packs it
        gave back."""
        released = []
        for reservation in self.reservations:
            if reservation.active and which(reservation):
                reservation.active, reservation.released_reason = False, reason
                released.append(self._draw(reservation, reservation.quantity))
        return released

    def _draw(self, reservation: Reservation, quantity: int) -> Draw:
        return Draw(reservation.reservation_id, self.facility_id, self.drug_code, quantity)

    # --- availability ------------------------------------------------------------------------

    def refresh(self, today: date) -> Availability | None:
        """Flip the stock-out flag when availability crossed zero; the change, if any."""
        quantity = self.available(today)
        if quantity == 0 and not self.stocked_out:
            self.stocked_out = True
            return Availability.STOCKED_OUT
        if quantity > 0 and self.stocked_out:
            self.stocked_out = False
            return Availability.RESTOCKED
        return None
