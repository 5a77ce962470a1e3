"""Drugs posted a set at a time, through an in-memory unit of work (no database): one entry
per cause in record order, a repeat posting once, a closed member refused alone, a late cause
moved on to the next open period. ``tests/integration/finance/test_posting_sets.py`` checks
on both databases that a set posts exactly what its records post one at a time."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from libs.events.catalogue.finance import JournalEntryPosted
from libs.events.consuming.sets import RecordSet
from libs.events.retry import NotYetKnown
from services.finance.adapters.repository import CLOSED
from services.finance.service_layer import drugs
from tests.support.finance import COUNTY_CLOCK, dispensed, finance_policy, local, transfer
from tests.support.harness import event_of
from tests.unit.finance.fakes import FakeFinanceRecords, FakeUnitOfWork, member

D = Decimal


def unit_of_work() -> FakeUnitOfWork:
    closed = member("QS-T10", "QS-MC2")
    closed.active = False
    records = FakeFinanceRecords(
        [member("QS-T01", "QS-MC1"), member("QS-T02", "QS-MC1"), member("QS-T05", "QS-MC2"), closed]
    )
    return FakeUnitOfWork(finance_policy(), COUNTY_CLOCK, records)


def post(uow: FakeUnitOfWork, handler: Any, payloads: list[Any]) -> RecordSet[Any]:
    events = [p if hasattr(p, "data") else event_of(p) for p in payloads]
    with uow:
        records: RecordSet[Any] = RecordSet(uow, events)
        handler(records, uow)
    return records


def announced(uow: FakeUnitOfWork) -> list[JournalEntryPosted]:
    return uow.of_type(JournalEntryPosted)


def test_each_dispensing_of_a_set_posts_its_entry_announced_in_record_order() -> None:
    uow = unit_of_work()
    payloads = [
        dispensed("QS-T01", packs=2, unit_price="8.50", unit_cost="6.00"),
        dispensed("QS-T05", packs=1, unit_price="3.00", unit_cost=None),
        dispensed("QS-T02", packs=4, unit_price="1.25", unit_cost="1.00"),
    ]
    records = post(uow, drugs.record_dispensing, payloads)
    assert [e.memo for e in announced(uow)] == [
        f"Prescription {p.prescription_id} dispensed at {p.facility_id}" for p in payloads
    ]
    assert [e.causation_event_id for e in announced(uow)] == [e.id for e in records.events]
    assert uow.posted == {"dispense": 3}
    book = uow.fake_records
    assert (book.balance("QS-T01", "4002"), book.balance("QS-T01", "5001")) == (D("-17"), D("12"))
    assert (book.balance("QS-T05", "4002"), book.balance("QS-T05", "1302")) == (D("-3"), D("-3"))


def test_a_dispensing_repeated_in_the_set_or_posted_before_posts_once() -> None:
    uow = unit_of_work()
    rx = dispensed("QS-T01")
    first = event_of(rx)
    post(uow, drugs.record_dispensing, [first, event_of(rx), first])
    post(uow, drugs.record_dispensing, [event_of(rx)])
    assert [e.causation_event_id for e in announced(uow)] == [first.id]
    assert len(uow.fake_records.entries) == 1


def test_a_closed_member_is_refused_alone_and_nothing_is_written_for_it() -> None:
    uow = unit_of_work()
    records = post(uow, drugs.record_dispensing, [dispensed("QS-T10"), dispensed("QS-T02")])
    assert {n: r.reason for n, r in records.refused.items()} == {0: "unknown_facility"}
    assert [e.lines[0].facility_id for e in announced(uow)] == ["QS-T02"]


def test_a_member_not_known_yet_fails_the_set_to_be_parked_record_by_record() -> None:
    uow = unit_of_work()
    with pytest.raises(NotYetKnown):
        post(uow, drugs.record_dispensing, [dispensed("QS-T01"), dispensed("QS-NEW")])
    assert announced(uow) == []


def test_a_cause_of_a_closed_period_posts_in_the_next_open_one() -> None:
    uow = unit_of_work()
    uow.fake_records.periods["2026-02"] = CLOSED
    post(
        uow,
        drugs.record_dispensing,
        [dispensed("QS-T01", when=local(2026, 2, 27)), dispensed("QS-T01", when=local(2026, 4, 2))],
    )
    assert [(e.period, e.original_period) for e in announced(uow)] == [
        ("2026-03", "2026-02"),
        ("2026-04", None),
    ]


def test_a_set_of_transfers_charges_each_receiver_once() -> None:
    uow = unit_of_work()
    moved = transfer("QS-T01", "QS-T05", packs=10, unit_price="2.00")
    post(uow, drugs.record_transfer, [moved, moved, transfer("QS-T02", "QS-T02")])
    assert [e.entry_type for e in announced(uow)] == ["transfer_settlement"]
    assert uow.fake_records.balance("QS-T05", "2306") == D("-20.00")
    (charge,) = uow.fake_records.charges
    assert (charge.payer_facility_id, charge.payee_facility_id, charge.amount) == (
        "QS-T05",
        "QS-T01",
        D("20.00"),
    )
