"""The stock item and transfer aggregates decide picks, reservations and shipping (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.pharmacy.domain.items import Availability, Reservation, StockItem
from services.pharmacy.domain.stock import CardKind, LotBalance
from services.pharmacy.domain.transfers import (
    InvalidTransition,
    OrderLine,
    Shortfall,
    Transfer,
    TransferState,
)

TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
PATIENT, OTHER = "a" * 64, "c" * 64


def lot(number: str, days: int, on_hand: int, cost: str = "2.0000") -> LotBalance:
    return LotBalance(number, TODAY + timedelta(days=days), on_hand, Decimal(cost))


def item(*lots: LotBalance, reservations: list[Reservation] | None = None) -> StockItem:
    return StockItem("F-1", "D-1", list(lots), reservations or [])


def test_dispensing_takes_the_earliest_expiry_first_and_records_the_card_lines() -> None:
    stock = item(lot("LATE", 300, 5), lot("GONE", -1, 9), lot("EARLY", 10, 3))
    picks, draws = stock.dispense(6, TODAY, PATIENT, "RX-1")
    assert [(p.lot_number, p.quantity) for p in picks] == [("EARLY", 3), ("LATE", 3)]
    assert draws == []
    assert [(m.kind, m.lot_number, m.quantity, m.reference_id) for m in stock.movements] == [
        (CardKind.DISPENSE, "EARLY", -3, "RX-1"),
        (CardKind.DISPENSE, "LATE", -3, "RX-1"),
    ]
    assert [lot.on_hand for lot in stock.lots] == [2, 9, 0]  # the expired lot is left alone
    assert stock.available(TODAY) == 2


def test_others_reservations_stay_on_the_shelf_and_the_patients_own_are_drawn() -> None:
    own = Reservation("RSV-OWN", 4, patient_pseudonym=PATIENT)
    other = Reservation("RSV-OTHER", 5, patient_pseudonym=OTHER)
    stock = item(lot("A", 30, 10), reservations=[other, own])
    picks, draws = stock.dispense(8, TODAY, PATIENT, "RX-1")
    assert sum(p.quantity for p in picks) == 5  # 10 on hand, 5 held for the other patient
    assert [(d.reservation_id, d.quantity) for d in draws] == [("RSV-OWN", 4)]
    assert own.active is False and own.released_reason == "dispensed" and own.quantity == 0
    assert other.active is True and other.quantity == 5
    assert stock.available(TODAY) == 0


def test_a_partly_drawn_reservation_stays_active_with_what_is_left() -> None:
    own = Reservation("RSV-OWN", 4, patient_pseudonym=PATIENT)
    stock = item(lot("A", 30, 10), reservations=[own])
    stock.dispense(3, TODAY, PATIENT, "RX-1")
    assert (own.active, own.quantity) == (True, 1)
    assert stock.reserved() == 1


def test_a_reservation_reports_what_the_shelf_lacks_and_holds_stock_back() -> None:
    stock = item(lot("A", 30, 6), reservations=[Reservation("RSV-0", 2)])
    lacking = stock.reserve(Reservation("RSV-1", 7, patient_pseudonym=PATIENT), TODAY)
    assert lacking == 3  # 6 on hand, 2 already held: 4 free for 7
    assert [r.reservation_id for r in stock.added] == ["RSV-1"]
    assert stock.available(TODAY) == 0


def test_only_lapsed_reservations_are_released_as_lapsed() -> None:
    lapsed = Reservation("RSV-OLD", 2, reserved_until=TODAY - timedelta(days=1))
    held = Reservation("RSV-NOW", 3, reserved_until=TODAY)
    stock = item(lot("A", 30, 6), reservations=[lapsed, held])
    released = stock.release("lapsed", lambda r: r.lapsed(TODAY))
    assert [(d.reservation_id, d.quantity) for d in released] == [("RSV-OLD", 2)]
    assert (lapsed.active, lapsed.released_reason) == (False, "lapsed")
    assert held.active is True


def test_availability_changes_are_reported_once_each_way() -> None:
    stock = item(lot("A", 30, 1))
    assert stock.refresh(TODAY) is None
    stock.dispense(1, TODAY, PATIENT, "RX-1")
    assert stock.refresh(TODAY) is Availability.STOCKED_OUT
    assert stock.refresh(TODAY) is None
    stock.lots.append(lot("B", 30, 2))
    assert stock.refresh(TODAY) is Availability.RESTOCKED


def transfer(state: TransferState = TransferState.APPROVED) -> Transfer:
    return Transfer(
        "TRF-1",
        "F-1",
        "F-2",
        state,
        {
            "D-1": OrderLine("D-1", Decimal("10.0000"), 8, approved=8),
            "D-2": OrderLine("D-2", Decimal("3.0000"), 5, approved=5),
        },
    )


def test_a_transfer_ships_every_line_or_nothing() -> None:
    order = transfer()
    items = {
        "D-1": StockItem("F-1", "D-1", [lot("A", 30, 10)]),
        "D-2": StockItem("F-1", "D-2", [lot("B", 30, 2)]),
    }
    quantities = order.to_ship(None)
    with pytest.raises(Shortfall) as caught:
        order.ship(items, quantities, TODAY, NOW)
    assert caught.value.available == {"D-2": 2}
    assert items["D-1"].movements == [] and order.moved == []


def test_a_shipped_transfer_carries_its_lots_and_arrives_at_the_order_price() -> None:
    order = transfer()
    items = {"D-1": StockItem("F-1", "D-1", [lot("A", 30, 10, cost="7.5000")])}
    picks = order.ship(items, order.to_ship({"D-2": 0, "D-1": 6}), TODAY, NOW)
    assert [(p.lot_number, p.quantity) for p in picks["D-1"]] == [("A", 6)]
    assert order.state is TransferState.SHIPPED and order.shipped_at == NOW
    assert (order.lines["D-1"].shipped, order.lines["D-2"].shipped) == (6, None)
    assert items["D-1"].movements[0].kind is CardKind.TRANSFER_OUT
    arriving = order.receive(NOW)
    assert [(m.lot_number, m.quantity, m.unit_cost) for m in arriving] == [
        ("A", 6, Decimal("10.0000"))
    ]
    with pytest.raises(InvalidTransition):
        order.receive(NOW)


def test_a_requested_transfer_cannot_ship() -> None:
    with pytest.raises(InvalidTransition):
        transfer(TransferState.REQUESTED).to_ship(None)


def test_approval_beyond_what_the_sender_offers_is_refused_with_what_it_can() -> None:
    order = transfer(TransferState.REQUESTED)
    approved = order.to_approve({"D-2": 3})
    assert approved == {"D-1": 8, "D-2": 3}
    with pytest.raises(Shortfall) as caught:
        order.approve(approved, {"D-1": 5, "D-2": 9}, NOW)
    assert caught.value.available == {"D-1": 5}
    order.approve(approved, {"D-1": 8, "D-2": 3}, NOW)
    assert (order.lines["D-1"].approved, order.lines["D-2"].approved) == (8, 3)
    assert order.approved_at == NOW


def test_a_shipped_transfer_can_no_longer_be_cancelled() -> None:
    order = transfer(TransferState.SHIPPED)
    with pytest.raises(InvalidTransition):
        order.close(TransferState.CANCELLED, "no longer needed", NOW)
    order = transfer()
    order.close(TransferState.CANCELLED, "no longer needed", NOW)
    assert (order.state, order.close_reason, order.closed_at) == (
        TransferState.CANCELLED,
        "no longer needed",
        NOW,
    )
