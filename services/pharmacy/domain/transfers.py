"""Transfer orders (调拨) between members: their lifecycle and the quantities they carry.

requested → approved → shipped → received; a request can be rejected, and a request or an
approved order can be cancelled until it ships. Every state is reached at most once, which
is what makes a retried command or a replayed event harmless: the second attempt is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from services.pharmacy.domain.items import StockItem
from services.pharmacy.domain.stock import CardKind, Pick

__all__ = [
    "OPEN_STATES",
    "InvalidQuantities",
    "InvalidTransition",
    "MovedLot",
    "OrderLine",
    "Shortfall",
    "Transfer",
    "TransferState",
    "approved_quantities",
    "check_transition",
    "shipping_quantities",
]


class TransferState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CANCELLED = "cancelled"


_NEXT: dict[TransferState, frozenset[TransferState]] = {
    TransferState.REQUESTED: frozenset(
        {TransferState.APPROVED, TransferState.REJECTED, TransferState.CANCELLED}
    ),
    TransferState.APPROVED: frozenset({TransferState.SHIPPED, TransferState.CANCELLED}),
    TransferState.SHIPPED: frozenset({TransferState.RECEIVED}),
    TransferState.REJECTED: frozenset(),
    TransferState.RECEIVED: frozenset(),
    TransferState.CANCELLED: frozenset(),
}

#: States in which stock is still on its way to the requesting facility.
OPEN_STATES = frozenset({TransferState.REQUESTED, TransferState.APPROVED, TransferState.SHIPPED})


class InvalidTransition(Exception):
    """The order is not in a state from which this step is possible."""

    def __init__(self, current: TransferState, target: TransferState) -> None:
        super().__init__(f"a {current.value} transfer cannot become {target.value}")
        self.current = current
        self.target = target


class InvalidQuantities(ValueError):
    """Quantities that do not fit the order (more than requested, unknown drugs...)."""


def check_transition(current: TransferState, target: TransferState) -> None:
    """Raise :class:`InvalidTransition` unless ``current → target`` is a step of the lifecycle."""
    if target not in _NEXT[current]:
        raise InvalidTransition(current, target)


def approved_quantities(
    requested: Mapping[str, int], approved: Mapping[str, int] | None
) -> dict[str, int]:
    """What the central pharmacy approves: as requested, or reduced per drug (0 drops it).

    Approving more than was requested, or a drug that was not requested, is refused; so is
    approving nothing (that is a rejection).
    """
    if approved is None:
        return dict(requested)
    unknown = sorted(set(approved) - set(requested))
    if unknown:
        raise InvalidQuantities(f"not on the request: {', '.join(unknown)}")
    result: dict[str, int] = {}
    for drug, quantity in approved.items():
        if quantity < 0:
            raise InvalidQuantities(f"{drug}: a quantity cannot be negative")
        if quantity > requested[drug]:
            raise InvalidQuantities(
                f"{drug}: {quantity} approved but only {requested[drug]} requested"
            )
        if quantity:
            result[drug] = quantity
    # Drugs not named in an explicit approval are approved as requested.
    for drug, quantity in requested.items():
        if drug not in approved:
            result[drug] = quantity
    if not result:
        raise InvalidQuantities("nothing approved: reject the request instead")
    return result


def shipping_quantities(
    approved: Mapping[str, int], shipped: Mapping[str, int] | None
) -> dict[str, int]:
    """What leaves the sender: the approved quantities, or less of some (0 drops a line)."""
    if shipped is None:
        return dict(approved)
    unknown = sorted(set(shipped) - set(approved))
    if unknown:
        raise InvalidQuantities(f"not approved on this transfer: {', '.join(unknown)}")
    result = dict(approved)
    for drug, quantity in shipped.items():
        if quantity < 0:
            raise InvalidQuantities(f"{drug}: a quantity cannot be negative")
        if quantity > approved[drug]:
            raise InvalidQuantities(
                f"{drug}: {quantity} to ship but only {approved[drug]} approved"
            )
        result[drug] = quantity
    result = {drug: q for drug, q in result.items() if q}
    if not result:
        raise InvalidQuantities("nothing to ship: cancel the transfer instead")
    return result


def beyond_stock(approved: Mapping[str, int], on_offer: Mapping[str, int]) -> dict[str, int]:
    """The drugs approved beyond what the sender can offer, each with what it can: usable
    stock (unexpired, not reserved for a patient) less what earlier approved transfers will
    take. Approving those would only fail at shipping, days later."""
    return {
        drug: max(0, on_offer.get(drug, 0))
        for drug, quantity in sorted(approved.items())
        if quantity > on_offer.get(drug, 0)
    }


class Shortfall(Exception):
    """The sender cannot supply every drug; ``available`` says what it can of each."""

    def __init__(self, available: Mapping[str, int]) -> None:
        super().__init__(", ".join(f"{code} {q}" for code, q in sorted(available.items())))
        self.available = dict(available)


@dataclass
class OrderLine:
    """One drug of an order, at the unified price of the day it was requested."""

    drug_code: str
    unit_price: Decimal
    requested: int
    approved: int | None = None
    shipped: int | None = None


@dataclass(frozen=True)
class MovedLot:
    """Packs of one lot that left the sender and arrive at the receiver as the same lot."""

    drug_code: str
    lot_number: str
    expiry_date: date
    quantity: int
    unit_cost: Decimal


@dataclass
class Transfer:
    """An order between two members: its state, its lines and the lots it carries."""

    transfer_id: str
    from_facility_id: str
    to_facility_id: str
    state: TransferState
    lines: dict[str, OrderLine]
    moved: list[MovedLot] = field(default_factory=list)
    approved_at: datetime | None = None
    shipped_at: datetime | None = None
    received_at: datetime | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None

    def ref(self) -> dict[str, str]:
        """The fields every transfer event starts with."""
        return {
            "transfer_id": self.transfer_id,
            "from_facility_id": self.from_facility_id,
            "to_facility_id": self.to_facility_id,
        }

    def step(self, target: TransferState) -> None:
        check_transition(self.state, target)
        self.state = target

    def to_approve(self, quantities: Mapping[str, int] | None) -> dict[str, int]:
        """Start approving: what is approved, as requested or less of some drugs."""
        self.step(TransferState.APPROVED)
        requested = {code: line.requested for code, line in self.lines.items()}
        return approved_quantities(requested, quantities)

    def approve(
        self, approved: Mapping[str, int], on_offer: Mapping[str, int], now: datetime
    ) -> None:
        """Approve what the sender can offer (see :func:`beyond_stock`), or raise
        :class:`Shortfall` naming what it can of each drug approved beyond it."""
        short = beyond_stock(approved, on_offer)
        if short:
            raise Shortfall(short)
        for code, line in self.lines.items():
            line.approved = approved.get(code, 0)
        self.approved_at = now

    def close(self, target: TransferState, reason: str, now: datetime) -> None:
        """Reject or cancel the order."""
        self.step(target)
        self.closed_at, self.close_reason = now, reason

    def to_ship(self, quantities: Mapping[str, int] | None) -> dict[str, int]:
        """Start shipping: what leaves, the approved quantities or less of some."""
        self.step(TransferState.SHIPPED)
        approved = {code: line.approved for code, line in self.lines.items() if line.approved}
        return shipping_quantities(approved, quantities)

    def ship(
        self,
        items: Mapping[str, StockItem],
        quantities: Mapping[str, int],
        today: date,
        now: datetime,
    ) -> dict[str, list[Pick]]:
        """Take every line from the sender's items first-expiry-first-out, or nothing: a line
        the sender cannot fill whole raises :class:`Shortfall` naming what it has."""
        picks = {code: items[code].pick(q, today) for code, q in sorted(quantities.items())}
        short = {
            code: sum(p.quantity for p in picked)
            for code, picked in picks.items()
            if sum(p.quantity for p in picked) < quantities[code]
        }
        if short:
            raise Shortfall(short)
        for code, picked in picks.items():
            items[code].take(picked, CardKind.TRANSFER_OUT, ("transfer", self.transfer_id))
            self.lines[code].shipped = quantities[code]
            self.moved.extend(
                MovedLot(code, p.lot_number, p.expiry_date, p.quantity, p.unit_cost) for p in picked
            )
        self.shipped_at = now
        return picks

    def receive(self, now: datetime) -> list[MovedLot]:
        """The shipped lots arrive, by drug; each is booked in at the order's price."""
        self.step(TransferState.RECEIVED)
        self.received_at = now
        return [
            MovedLot(
                m.drug_code,
                m.lot_number,
                m.expiry_date,
                m.quantity,
                self.lines[m.drug_code].unit_price,
            )
            for m in self.moved
        ]
