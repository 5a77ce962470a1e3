"""Transfer orders (调拨) between members: their lifecycle and the quantities they carry.

requested → approved → shipped → received; a request can be rejected, and a request or an
approved order can be cancelled until it ships. Every state is reached at most once, which
is what makes a retried command or a replayed event harmless: the second attempt is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

__all__ = [
    "OPEN_STATES",
    "InvalidQuantities",
    "InvalidTransition",
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
