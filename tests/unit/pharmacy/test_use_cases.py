"""Dispensing and shipping through an in-memory unit of work: the use cases load, let the
aggregates decide, save and publish (no database)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from libs.events import new_event
from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionLine
from libs.events.catalogue.pharmacy import (
    PrescriptionDispensed,
    PrescriptionRejected,
    ReservationReleased,
    ShortageRecorded,
    StockedOut,
    TransferShipped,
)
from libs.events.catalogue.values import FacilityTier, PrescriptionCategory
from libs.events.consuming.sets import RecordSet
from libs.events.retry import PermanentError
from services.pharmacy.domain.items import Reservation
from services.pharmacy.domain.transfers import OrderLine, Transfer, TransferState
from services.pharmacy.service_layer.dispensing import dispense_set
from services.pharmacy.service_layer.errors import Conflict
from services.pharmacy.service_layer.shipping import ship_transfer
from tests.unit.pharmacy.fakes import CENTRE, NOW, FakeUnitOfWork

CLINIC = "F-CLINIC"
PATIENT = "b" * 64


def prescription(*lines: tuple[str, int], prescription_id: str = "RX-1") -> PrescriptionIssued:
    return PrescriptionIssued(
        prescription_id=prescription_id,
        facility_id=CENTRE,
        facility_tier=FacilityTier.PRIMARY,
        patient_pseudonym=PATIENT,
        category=PrescriptionCategory.WESTERN,
        lines=[
            PrescriptionLine(line_no=n, drug_code=code, quantity=quantity)
            for n, (code, quantity) in enumerate(lines, start=1)
        ],
        total_amount=Decimal("0.00"),
        issued_at=NOW,
    )


def dispense_prescription(uow: FakeUnitOfWork, *prescriptions: PrescriptionIssued) -> str:
    """Dispense as the consumer does, a set at a time; the last record's outcome."""
    events = [new_event(p, source=f"/his/{p.facility_id}") for p in prescriptions]
    records = RecordSet(uow, events)  # type: ignore[arg-type]
    outcomes = dispense_set(uow.as_pharmacy(), records)
    if records.refused:
        raise next(iter(records.refused.values()))
    return outcomes[-1][1]


@pytest.fixture
def uow() -> FakeUnitOfWork:
    fake = FakeUnitOfWork()
    fake.member(CENTRE)  # the central pharmacy: it never asks itself for a transfer
    fake.member(CLINIC)
    fake.drug("D-1", "12.5000")
    fake.drug("D-2", "3.0000")
    return fake


def test_a_prescription_is_dispensed_first_expiry_first_and_remembered(
    uow: FakeUnitOfWork,
) -> None:
    uow.stock(CENTRE, "D-1", ("LATE", 200, 10), ("EARLY", 20, 2))
    outcome = dispense_prescription(uow, prescription(("D-1", 5)))
    assert outcome == "dispensed"
    assert uow.items.posted == [(CENTRE, "D-1", "EARLY", -2), (CENTRE, "D-1", "LATE", -3)]
    [dispensed] = uow.of_type(PrescriptionDispensed)
    assert dispensed.complete is True
    assert dispensed.total_amount == Decimal("62.50")
    assert [(lot.lot_number, lot.quantity) for lot in dispensed.lines[0].lots] == [
        ("EARLY", 2),
        ("LATE", 3),
    ]
    assert uow.records.prescriptions["RX-1"].outcome == "dispensed"
    assert [lot.on_hand for lot in uow.items.stored[(CENTRE, "D-1")].lots] == [7, 0]


def test_what_cannot_be_filled_is_a_shortage_and_the_item_goes_out_of_stock(
    uow: FakeUnitOfWork,
) -> None:
    uow.stock(CENTRE, "D-1", ("A", 30, 4))
    outcome = dispense_prescription(uow, prescription(("D-1", 6), ("D-2", 1)))
    assert outcome == "partial"
    [dispensed] = uow.of_type(PrescriptionDispensed)
    assert [line.quantity_dispensed for line in dispensed.lines] == [4, 0]
    assert dispensed.complete is False
    shortages = {(s.drug_code, s.quantity_short) for s in uow.of_type(ShortageRecorded)}
    assert shortages == {("D-1", 2), ("D-2", 1)}
    assert {(s.drug_code, s.quantity_short) for s in uow.records.shortages} == shortages
    assert {e.drug_code for e in uow.of_type(StockedOut)} == {"D-1", "D-2"}
    assert uow.items.stored[(CENTRE, "D-1")].stocked_out is True


def test_the_patients_own_reservation_is_drawn_and_others_are_held_back(
    uow: FakeUnitOfWork,
) -> None:
    uow.stock(CENTRE, "D-1", ("A", 30, 10))
    uow.items.stored[(CENTRE, "D-1")].reservations = [
        Reservation("RSV-OWN", 3, patient_pseudonym=PATIENT),
        Reservation("RSV-OTHER", 6, patient_pseudonym="c" * 64),
    ]
    dispense_prescription(uow, prescription(("D-1", 5)))
    [dispensed] = uow.of_type(PrescriptionDispensed)
    assert dispensed.lines[0].quantity_dispensed == 4  # 10 less the other patient's 6
    [released] = uow.of_type(ReservationReleased)
    assert (released.reservation_id, released.quantity, released.reason) == (
        "RSV-OWN",
        3,
        "dispensed",
    )
    stored = {r.reservation_id: r for r in uow.items.stored[(CENTRE, "D-1")].reservations}
    assert stored["RSV-OWN"].active is False
    assert stored["RSV-OTHER"].active is True


def test_a_delisted_drug_rejects_the_prescription_and_nothing_moves(uow: FakeUnitOfWork) -> None:
    uow.drug("D-2", listed=False)
    uow.stock(CENTRE, "D-1", ("A", 30, 10))
    outcome = dispense_prescription(uow, prescription(("D-1", 1), ("D-2", 1)))
    assert outcome == "rejected"
    [rejected] = uow.of_type(PrescriptionRejected)
    assert [line.drug_code for line in rejected.lines] == ["D-2"]
    assert uow.items.posted == []
    assert dispense_prescription(uow, prescription(("D-1", 1))) == "repeated"


def approved_order() -> Transfer:
    return Transfer(
        "TRF-1",
        CENTRE,
        CLINIC,
        TransferState.APPROVED,
        {
            "D-1": OrderLine("D-1", Decimal("12.5000"), 6, approved=6),
            "D-2": OrderLine("D-2", Decimal("3.0000"), 4, approved=4),
        },
    )


def test_a_transfer_ships_its_lots_and_is_saved_shipped(uow: FakeUnitOfWork) -> None:
    uow.transfers.save(approved_order())
    uow.stock(CENTRE, "D-1", ("LATE", 200, 10), ("EARLY", 20, 2))
    uow.stock(CENTRE, "D-2", ("B", 30, 4))
    event = ship_transfer(uow.as_pharmacy(), "TRF-1")
    assert isinstance(event, TransferShipped) and uow.committed
    assert [(line.drug_code, line.amount) for line in event.lines] == [
        ("D-1", Decimal("75.00")),
        ("D-2", Decimal("12.00")),
    ]
    assert uow.items.posted == [
        (CENTRE, "D-1", "EARLY", -2),
        (CENTRE, "D-1", "LATE", -4),
        (CENTRE, "D-2", "B", -4),
    ]
    stored = uow.transfers.stored["TRF-1"]
    assert stored.state is TransferState.SHIPPED and stored.shipped_at == NOW
    assert [(m.drug_code, m.lot_number, m.quantity) for m in stored.moved] == [
        ("D-1", "EARLY", 2),
        ("D-1", "LATE", 4),
        ("D-2", "B", 4),
    ]
    assert [e.drug_code for e in uow.of_type(StockedOut)] == ["D-2"]


def test_a_transfer_the_sender_cannot_fill_ships_nothing(uow: FakeUnitOfWork) -> None:
    uow.transfers.save(approved_order())
    uow.stock(CENTRE, "D-1", ("A", 30, 10))
    uow.stock(CENTRE, "D-2", ("B", 30, 1))
    with pytest.raises(Conflict) as caught:
        ship_transfer(uow.as_pharmacy(), "TRF-1")
    assert caught.value.code == "insufficient_stock"
    assert caught.value.details == {"available": {"D-2": 1}}
    assert uow.items.posted == [] and uow.published == []
    assert uow.transfers.stored["TRF-1"].state is TransferState.APPROVED


def test_a_drug_delisted_since_approval_is_not_shipped(uow: FakeUnitOfWork) -> None:
    uow.transfers.save(approved_order())
    uow.drug("D-2", listed=False)
    with pytest.raises(Conflict) as caught:
        ship_transfer(uow.as_pharmacy(), "TRF-1", {"D-1": 6})
    assert caught.value.code == "delisted"
    assert uow.items.posted == []


def as_set(uow: FakeUnitOfWork, *prescriptions: PrescriptionIssued) -> RecordSet[Any]:
    events = [new_event(p, source=f"/his/{p.facility_id}") for p in prescriptions]
    return RecordSet(uow, events)  # type: ignore[arg-type]


def test_a_set_is_dispensed_in_record_order_on_the_same_items(uow: FakeUnitOfWork) -> None:
    uow.stock(CENTRE, "D-1", ("A", 30, 5))
    records = as_set(
        uow,
        prescription(("D-1", 3), prescription_id="RX-1"),
        prescription(("D-1", 3), prescription_id="RX-2"),
        prescription(("D-1", 1), prescription_id="RX-3"),
    )
    outcomes = dispense_set(uow.as_pharmacy(), records)
    assert outcomes == [("RX-1", "dispensed"), ("RX-2", "partial"), ("RX-3", "partial")]
    assert [(s.prescription_id, s.quantity_short) for s in uow.of_type(ShortageRecorded)] == [
        ("RX-2", 1),
        ("RX-3", 1),
    ]
    assert len(uow.of_type(StockedOut)) == 1  # announced once, by the prescription that emptied it
    assert uow.items.posted == [(CENTRE, "D-1", "A", -3), (CENTRE, "D-1", "A", -2)]


def test_an_unknown_drug_refuses_its_record_alone(uow: FakeUnitOfWork) -> None:
    uow.stock(CENTRE, "D-1", ("A", 30, 5))
    records = as_set(
        uow,
        prescription(("D-1", 1), prescription_id="RX-1"),
        prescription(("D-1", 1), ("D-404", 1), prescription_id="RX-2"),
        prescription(("D-1", 1), prescription_id="RX-3"),
    )
    outcomes = dispense_set(uow.as_pharmacy(), records)
    assert outcomes == [("RX-1", "dispensed"), ("RX-3", "dispensed")]
    assert [(n, e.reason) for n, e in records.refused.items()] == [(1, "unknown_drug")]
    assert isinstance(records.refused[1], PermanentError)
    assert set(uow.records.prescriptions) == {"RX-1", "RX-3"}
    assert [lot.on_hand for lot in uow.items.stored[(CENTRE, "D-1")].lots] == [3]


def test_a_prescription_twice_in_a_set_is_dispensed_once(uow: FakeUnitOfWork) -> None:
    uow.stock(CENTRE, "D-1", ("A", 30, 5))
    twice = prescription(("D-1", 2))
    outcomes = dispense_set(uow.as_pharmacy(), as_set(uow, twice, twice))
    assert outcomes == [("RX-1", "dispensed"), ("RX-1", "repeated")]
    assert len(uow.of_type(PrescriptionDispensed)) == 1
    assert uow.items.posted == [(CENTRE, "D-1", "A", -2)]
