"""Stock never goes negative, whatever runs at once (property-based, SQLite and PostgreSQL).

Prescriptions are applied through the real consumer machinery (BatchProcessor) from
several threads at the same moment, together with stock adjustments as the admin API makes
them; the database serialises them on the item's row (PostgreSQL) or the write lock
(SQLite), and its CHECK constraint would refuse a negative balance in any case.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libs.events import CloudEvent, encode
from libs.events.catalogue.ingestion import PrescriptionIssued
from libs.events.catalogue.pharmacy import AdjustmentReason
from libs.events.consuming import ConsumedMessage
from services.pharmacy.service_layer import stock
from services.pharmacy.service_layer.errors import PharmacyError
from tests.integration.pharmacy.builders import (
    TODAY,
    World,
    card,
    lots,
    pharmacy,
    prescription,
    uow,
)
from tests.support.harness import HandlerHarness

_offsets = count()


@pytest.fixture
def harness(make_database: Callable[[str], str]) -> Iterator[HandlerHarness]:
    running = pharmacy(make_database("pharmacy"))
    yield running
    running.close()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lot_sizes=st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=3),
    demands=st.lists(st.integers(min_value=1, max_value=9), min_size=2, max_size=6),
    takes=st.lists(st.integers(min_value=1, max_value=6), max_size=2),
)
def test_stock_never_goes_negative_under_concurrent_dispenses(
    harness: HandlerHarness, lot_sizes: list[int], demands: list[int], takes: list[int]
) -> None:
    world = World(harness).organisation()  # fresh ids for every example
    drug = world.drug("X", "2.5000")
    for n, size in enumerate(lot_sizes):
        if size:
            world.receive(
                world.township, drug, f"L{n}", size, expires=TODAY + timedelta(days=30 + n)
            )
    initial = sum(lot_sizes)
    events = [prescription(world.township, (drug, demand)) for demand in demands]
    taken: list[int] = []
    start = threading.Barrier(len(events) + len(takes))

    def dispense(event: CloudEvent[PrescriptionIssued]) -> None:
        message = ConsumedMessage(
            topic="ingestion.prescription",
            partition=0,
            offset=next(_offsets),
            key=world.township.encode(),
            value=encode(event),
        )
        start.wait()
        harness.processor.process([message])

    def take(quantity: int) -> None:
        start.wait()
        for n, size in enumerate(lot_sizes):
            if not size:
                continue
            try:
                stock.adjust_stock(
                    uow(harness),
                    world.township,
                    stock.Adjustment(drug, f"L{n}", -quantity, AdjustmentReason.LOST),
                )
                taken.append(quantity)
                return
            except PharmacyError:
                continue

    threads = [threading.Thread(target=dispense, args=(e,)) for e in events]
    threads += [threading.Thread(target=take, args=(q,)) for q in takes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)

    balances = lots(harness, world.township, drug)
    assert all(balance >= 0 for balance in balances.values())
    dispensed_events = {
        e.data.prescription_id: e.data
        for e in harness.published("pharmacy.prescription.dispensed.v1")
        if e.data.facility_id == world.township
    }
    assert len(dispensed_events) == len(events)  # every prescription handled, once
    dispensed = 0
    for event in events:
        line = dispensed_events[event.data.prescription_id].lines[0]
        assert 0 <= line.quantity_dispensed <= line.quantity_prescribed
        assert sum(lot.quantity for lot in line.lots) == line.quantity_dispensed
        dispensed += line.quantity_dispensed
    assert dispensed + sum(taken) <= initial
    assert sum(balances.values()) == initial - dispensed - sum(taken)
    if not takes:
        # Served one after another, the demands get everything there was, or all they asked.
        assert dispensed == min(initial, sum(demands))
    assert card(harness, world.township, drug).reconciles
