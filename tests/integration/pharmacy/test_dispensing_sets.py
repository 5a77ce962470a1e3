"""Dispensing a batch's prescriptions as one set is dispensing them one by one (property-based,
SQLite and PostgreSQL).

Two databases get the same world (the same ids, drugs, lots); one is handed the
prescriptions as one consumed batch (the set handler sees them all at once), the other each
prescription in a batch of its own (sets of one). Their stock cards, lot balances,
shortages, transfers requested, dead letters and published events must be the same, up to
the ids and times the service mints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event as sql_event
from sqlalchemy import select

from libs.events import CloudEvent, new_event
from libs.events.catalogue.ingestion import PrescriptionIssued
from libs.events.consuming.sets import RecordSet
from libs.events.outbox.staging import decode_headers
from services.pharmacy.adapters.schema import (
    DailyConsumption,
    ShortageRow,
    StockCardLine,
    StockLot,
    TransferLineRow,
    TransferRow,
)
from services.pharmacy.service_layer.dispensing import dispense_set
from tests.integration.pharmacy.builders import (
    NO_VILLAGE,
    PATIENT,
    TODAY,
    World,
    lots,
    pharmacy,
    prescription,
    uow,
)
from tests.integration.pharmacy.test_referrals import accepted, requested
from tests.support.harness import HandlerHarness

DISPENSED = "pharmacy.prescription.dispensed.v1"
OTHER_PATIENT = "c" * 64
#: Minted by the service (or stamped with its clock): never compared.
MINTED = {"shortage_id", "transfer_id", "reservation_id"}


@pytest.fixture
def pair(make_database: Callable[[str], str]) -> Iterator[tuple[HandlerHarness, HandlerHarness]]:
    as_set, one_by_one = pharmacy(make_database("as_set")), pharmacy(make_database("one_by_one"))
    yield as_set, one_by_one
    as_set.close()
    one_by_one.close()


# A prescription: (facility 0-2, [(drug 0-3, packs)], patient 0-1, resent?). Drug 3 is not in
# the formulary (the record is refused); drug 2 is not for village clinics (rejected).
LINE = st.tuples(st.integers(0, 3), st.integers(1, 9))
PRESCRIPTION = st.tuples(
    st.integers(0, 2),
    st.lists(LINE, min_size=1, max_size=3),
    st.integers(0, 1),
    st.booleans(),
)
LOTS = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 60)), max_size=2)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    stock=st.lists(LOTS, min_size=9, max_size=9),
    prescriptions=st.lists(PRESCRIPTION, min_size=1, max_size=12),
    unknown_drug=st.booleans(),
    reserved=st.integers(0, 6),
)
def test_a_set_dispenses_as_its_prescriptions_one_by_one(
    pair: tuple[HandlerHarness, HandlerHarness],
    stock: list[list[tuple[int, int]]],
    prescriptions: list[tuple[int, list[tuple[int, int]], int, bool]],
    unknown_drug: bool,
    reserved: int,
) -> None:
    as_set, one_by_one = pair
    first = World(as_set).organisation()  # fresh ids for every example, the same in both
    worlds = [first, World(one_by_one, first.tag).organisation()]
    for world in worlds:
        _arrange(world, stock)
        if reserved:  # the first patient was referred down to the township with drug A
            referral = f"REF-{world.tag}"
            world.harness.apply(requested(world, referral, world.township))
            drug = f"D-{world.tag}-A"
            world.harness.apply(accepted(world, referral, world.township, {drug: reserved}))
    # The very same records (ids, times) go to both.
    events = _prescriptions(first, prescriptions, unknown_drug)
    before = (len(as_set.published()), len(one_by_one.published()))

    as_set.apply(*events)
    for event in events:
        one_by_one.apply(event)

    tag = first.tag
    assert _state(as_set, tag) == _state(one_by_one, tag)
    assert _events(as_set, before[0]) == _events(one_by_one, before[1])
    assert len(as_set.dead_letters()) == len(one_by_one.dead_letters())


def _arrange(world: World, stock: list[list[tuple[int, int]]]) -> None:
    drugs = [
        world.drug("A", "2.5000"),
        world.drug("B", "3.1000"),
        world.drug("C", "7.0000", holders=NO_VILLAGE),
    ]
    facilities = [world.hospital, world.township, world.village]
    for n, item_lots in enumerate(stock):
        facility, drug = facilities[n // 3], drugs[n % 3]
        if facility == world.village and drug == drugs[2]:
            continue  # not for village clinics: prescribing it there is rejected
        for k, (packs, days) in enumerate(item_lots):
            if packs:
                expires = TODAY + timedelta(days=days)
                world.receive(facility, drug, f"L{k}-{days}", packs, expires=expires)


def _prescriptions(
    world: World, drawn: list[tuple[int, list[tuple[int, int]], int, bool]], unknown_drug: bool
) -> list[CloudEvent[PrescriptionIssued]]:
    facilities = [world.hospital, world.township, world.village]
    codes = [f"D-{world.tag}-{s}" for s in ("A", "B", "C")] + [f"D-{world.tag}-NONE"]
    events: list[CloudEvent[PrescriptionIssued]] = []
    for n, (facility, lines, patient, resent) in enumerate(drawn):
        if resent and events:  # the HIS sends the previous one again, under a new event id
            events.append(new_event(events[-1].data, source=events[-1].source))
            continue
        wanted = [(codes[d], q) for d, q in lines if unknown_drug or d < 3] or [(codes[0], 1)]
        events.append(
            prescription(
                facilities[facility],
                *wanted,
                prescription_id=f"RX-{world.tag}-{n}",
                patient=(PATIENT, OTHER_PATIENT)[patient],
            )
        )
    return events


def _state(harness: HandlerHarness, tag: str) -> dict[str, Any]:
    """Cards, balances, shortages, consumption and requested transfers of the world ``tag``."""
    mine = f"%-{tag}"
    with harness.database.sessions() as session:
        cards: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        for line in session.scalars(
            select(StockCardLine)
            .where(StockCardLine.facility_id.like(mine))
            .order_by(StockCardLine.id)
        ):
            reference = line.reference_id if line.reference_type == "prescription" else None
            cards.setdefault((line.facility_id, line.drug_code), []).append(
                (line.lot_number, line.kind, line.quantity, line.balance_after, reference)
            )
        return {
            "cards": cards,
            "lots": sorted(
                (lot.facility_id, lot.drug_code, lot.lot_number, lot.on_hand)
                for lot in session.scalars(select(StockLot).where(StockLot.facility_id.like(mine)))
            ),
            "shortages": sorted(
                (
                    s.facility_id,
                    s.drug_code,
                    s.quantity_short,
                    s.prescription_id or "",
                    bool(s.resolved_at),
                )
                for s in session.scalars(
                    select(ShortageRow).where(ShortageRow.facility_id.like(mine))
                )
            ),
            "consumption": sorted(
                (c.facility_id, c.drug_code, c.dispensed)
                for c in session.scalars(
                    select(DailyConsumption).where(DailyConsumption.facility_id.like(mine))
                )
            ),
            "transfers": sorted(
                (t.to_facility_id, line.drug_code, line.quantity_requested)
                for t, line in session.execute(
                    select(TransferRow, TransferLineRow)
                    .join(TransferLineRow, TransferLineRow.transfer_id == TransferRow.transfer_id)
                    .where(TransferRow.to_facility_id.like(mine))
                ).tuples()
            ),
        }


def _events(harness: HandlerHarness, skip: int) -> list[tuple[str, str, Any]]:
    """What was published after the first ``skip`` events: type, cause and data, without
    what the service minted."""
    return [
        (e.type, e.causation_id, _without_minted(e.data.model_dump(mode="json")))
        for e in harness.published()[skip:]
    ]


def _without_minted(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_minted(v)
            for k, v in value.items()
            if k not in MINTED and not k.endswith("_at")
        }
    if isinstance(value, list):
        return [_without_minted(v) for v in value]
    return value


@pytest.fixture
def harness(make_database: Callable[[str], str]) -> Iterator[HandlerHarness]:
    running = pharmacy(make_database("pharmacy"))
    yield running
    running.close()


def test_an_unknown_drug_refuses_its_record_alone_and_the_rest_are_dispensed(
    harness: HandlerHarness,
) -> None:
    world = World(harness).organisation()
    drug = world.drug("A", "2.0000")
    world.receive(world.township, drug, "L1", 10)
    first, unknown, last = (
        prescription(world.township, (drug, 2)),
        prescription(world.township, (drug, 1), (f"D-{world.tag}-NONE", 1)),
        prescription(world.township, (drug, 3)),
    )

    harness.apply(first, unknown, last)

    dispensed = [e.data.prescription_id for e in harness.published(DISPENSED)]
    assert dispensed == [first.data.prescription_id, last.data.prescription_id]
    assert lots(harness, world.township, drug) == {"L1": 5}
    [letter] = harness.dead_letters()
    assert dict(decode_headers(letter.headers))["dlt-reason"] == b"unknown_drug"


def test_a_prescription_twice_in_one_set_is_dispensed_once(harness: HandlerHarness) -> None:
    world = World(harness).organisation()
    drug = world.drug("A", "2.0000")
    world.receive(world.township, drug, "L1", 10)
    event = prescription(world.township, (drug, 4))
    again = new_event(event.data, source=event.source)

    # Straight to the use case: the consumer would have known the second as a resend.
    unit = uow(harness)
    with unit:
        outcomes = dispense_set(unit, RecordSet(unit, [event, again]))
        unit.commit()

    pid = event.data.prescription_id
    assert outcomes == [(pid, "dispensed"), (pid, "repeated")]
    assert lots(harness, world.township, drug) == {"L1": 6}
    assert len(harness.published(DISPENSED)) == 1
    harness.apply(new_event(event.data, source=event.source))  # and later, as a resend
    assert lots(harness, world.township, drug) == {"L1": 6}


def test_a_set_costs_the_same_statements_whatever_its_size(harness: HandlerHarness) -> None:
    world = World(harness).organisation()
    drugs = [world.drug(s, "2.0000") for s in "ABCDE"]
    for drug in drugs:
        world.receive(world.township, drug, "L1", 5_000)
        world.receive(world.village, drug, "L1", 5_000)

    def statements(count: int) -> int:
        """Statements to dispense ``count`` three-line prescriptions as one set, but for the
        outbox rows (one per event published)."""
        events = [
            prescription(
                (world.township, world.village)[n % 2],
                *((drugs[(n + k) % 5], 1 + k) for k in range(3)),
            )
            for n in range(count)
        ]
        seen: list[str] = []
        listen = partial(_note_statement, seen)
        sql_event.listen(harness.database.engine, "before_cursor_execute", listen)
        try:
            harness.apply(*events)
        finally:
            sql_event.remove(harness.database.engine, "before_cursor_execute", listen)
        assert len(harness.published(DISPENSED)) >= count
        return sum("outbox" not in statement for statement in seen)

    assert statements(40) == statements(4)


def _note_statement(seen: list[str], _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    seen.append(statement)
