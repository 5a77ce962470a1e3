"""The transfer order's state machine and quantity rules (pure domain)."""

from __future__ import annotations

import pytest

from services.pharmacy.domain.transfers import (
    InvalidQuantities,
    InvalidTransition,
    TransferState,
    approved_quantities,
    beyond_stock,
    check_transition,
    shipping_quantities,
)

S = TransferState
ALLOWED = {
    (S.REQUESTED, S.APPROVED),
    (S.REQUESTED, S.REJECTED),
    (S.REQUESTED, S.CANCELLED),
    (S.APPROVED, S.SHIPPED),
    (S.APPROVED, S.CANCELLED),
    (S.SHIPPED, S.RECEIVED),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_only_the_lifecycle_steps_are_allowed_and_none_twice(current: S, target: S) -> None:
    if (current, target) in ALLOWED:
        check_transition(current, target)
    else:
        with pytest.raises(InvalidTransition):
            check_transition(current, target)


def test_approval_may_reduce_but_never_add() -> None:
    requested = {"A": 10, "B": 5}
    assert approved_quantities(requested, None) == requested
    assert approved_quantities(requested, {"A": 4}) == {"A": 4, "B": 5}
    assert approved_quantities(requested, {"B": 0}) == {"A": 10}
    for bad in ({"A": 11}, {"C": 1}, {"A": -1}, {"A": 0, "B": 0}):
        with pytest.raises(InvalidQuantities):
            approved_quantities(requested, bad)


def test_shipping_may_send_less_than_approved() -> None:
    approved = {"A": 10, "B": 5}
    assert shipping_quantities(approved, None) == approved
    assert shipping_quantities(approved, {"B": 0, "A": 7}) == {"A": 7}
    for bad in ({"A": 11}, {"Z": 1}, {"A": 0, "B": 0}, {"B": -2}):
        with pytest.raises(InvalidQuantities):
            shipping_quantities(approved, bad)


def test_an_approval_beyond_what_the_sender_can_offer_names_what_it_can() -> None:
    assert beyond_stock({"A": 5, "B": 3}, {"A": 5, "B": 10}) == {}
    assert beyond_stock({"A": 6, "B": 3}, {"A": 5}) == {"A": 5, "B": 0}
    assert beyond_stock({"A": 1}, {"A": -2}) == {"A": 0}  # more promised than on hand
