"""The daily expiry scan, stock-outs and restocks, and the re-order point."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from libs.platform.clock import CountyClock
from services.pharmacy.adapters.schema import ShortageRow
from services.pharmacy.service_layer.expiry import scan_all, scan_facility
from services.pharmacy.service_layer.levels import community_balance, set_levels
from services.pharmacy.service_layer.replenishment import levels_for
from tests.integration.pharmacy.builders import (
    TODAY,
    World,
    card,
    lots,
    now,
    pharmacy,
    prescription,
    uow,
    uows,
)
from tests.support.harness import HandlerHarness


class Clock:
    """A clock the test moves: the service's "now" (and so its "today")."""

    def __init__(self) -> None:
        self.now = now()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def harness(make_database: Callable[[str], str], clock: Clock) -> Iterator[HandlerHarness]:
    running = pharmacy(make_database("pharmacy"), clock=CountyClock(now=clock))
    yield running
    running.close()


@pytest.fixture
def world(harness: HandlerHarness) -> World:
    return World(harness).organisation()


def test_the_daily_scan_values_near_expiry_stock_and_writes_expired_lots_off(
    harness: HandlerHarness, world: World, clock: Clock
) -> None:
    drug = world.drug("OME", "5.4000")
    other = world.drug("PCM", "2.2000")
    world.receive(
        world.township, drug, "SOON", 10, expires=TODAY + timedelta(days=2), cost="5.0000"
    )
    world.receive(
        world.township, drug, "LATER", 4, expires=TODAY + timedelta(days=100), cost="5.0000"
    )
    world.receive(world.township, drug, "FAR", 7, expires=TODAY + timedelta(days=400))
    world.receive(world.township, other, "P1", 3, expires=TODAY + timedelta(days=1), cost="2.0000")

    first = scan_facility(uow(harness), world.township, TODAY)
    assert first is not None
    assert first.near_expiry_value == Decimal("76.00")  # (10 + 4) × 5.00 + 3 × 2.00
    assert first.expired_value == Decimal("0.00")
    assert [lot.lot_number for lot in first.near_expiry_lots] == ["P1", "SOON", "LATER"]
    assert scan_facility(uow(harness), world.township, TODAY) is None  # once a day

    clock.now += timedelta(days=3)  # SOON and P1 are now past their dates
    assert scan_all(uows(harness)) == 1  # every facility holding stock not yet scanned today
    assert scan_all(uows(harness)) == 0
    later = harness.published("pharmacy.stock.expiry_scanned.v1")[-1].data
    assert later.scanned_on == TODAY + timedelta(days=3)
    assert later.expired_value == Decimal("56.00")  # 10 × 5.00 + 3 × 2.00
    assert later.near_expiry_value == Decimal("20.00")  # LATER: 4 × 5.00
    written = {
        e.data.lot_number: e.data for e in harness.published("pharmacy.stock.written_off.v1")
    }
    assert set(written) == {"SOON", "P1"}
    assert (written["SOON"].quantity, written["SOON"].value) == (10, Decimal("50.00"))
    assert written["SOON"].reason == "expired"
    assert lots(harness, world.township, drug) == {"SOON": 0, "LATER": 4, "FAR": 7}
    # The only stock of the other drug expired: it is stocked out.
    assert [e.data.drug_code for e in harness.published("pharmacy.stock.stocked_out.v1")] == [other]
    summary = card(harness, world.township, drug)
    assert (summary.written_off, summary.closing) == (10, 11)
    assert summary.reconciles


def test_a_stock_out_is_announced_once_and_a_restock_closes_its_shortages(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("ASP", "4.5000")
    harness.apply(prescription(world.hospital, (drug, 2)))  # never stocked here
    harness.apply(prescription(world.hospital, (drug, 1)))
    assert len(harness.published("pharmacy.stock.stocked_out.v1")) == 1
    assert len(harness.published("pharmacy.stock.shortage_recorded.v1")) == 2
    # The lead hospital is the central pharmacy: it buys, it raises no transfer.
    assert harness.published("pharmacy.transfer.requested.v1") == []

    world.receive(world.hospital, drug, "S1", 10)
    [restocked] = harness.published("pharmacy.stock.restocked.v1")
    assert (restocked.data.drug_code, restocked.data.available_quantity) == (drug, 10)
    with harness.database.sessions() as session:
        open_ = session.scalars(select(ShortageRow).where(ShortageRow.resolved_at.is_(None)))
        assert list(open_) == []


def test_crossing_the_reorder_point_asks_the_central_pharmacy_for_the_target(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("MET", "3.9000")
    world.receive(world.township, drug, "M1", 100)
    # After k prescriptions of 6 (a new item: averaged over the 30-day minimum window),
    # AMC = 6k, re-order point = 6k, target = 18k; stock 100 - 6k crosses at k = 9.
    for _ in range(8):
        harness.apply(prescription(world.township, (drug, 6)))
    assert harness.published("pharmacy.transfer.requested.v1") == []
    harness.apply(prescription(world.township, (drug, 6)))
    [request] = harness.published("pharmacy.transfer.requested.v1")
    assert (request.data.from_facility_id, request.data.reason) == (world.hospital, "replenishment")
    assert [(line.drug_code, line.quantity) for line in request.data.lines] == [(drug, 162 - 46)]
    with uow(harness) as unit:
        levels = levels_for(unit, world.township, drug)
    assert (levels.reorder_point, levels.target_level) == (54, 162)
    harness.apply(prescription(world.township, (drug, 6)))  # while it is open: no second one
    assert len(harness.published("pharmacy.transfer.requested.v1")) == 1


def test_manual_levels_override_consumption(harness: HandlerHarness, world: World) -> None:
    drug = world.drug("IRB", "6.5000")
    world.receive(world.township, drug, "I1", 12)
    set_levels(uow(harness), world.township, drug, 10, 30, "pharmacist")
    harness.apply(prescription(world.township, (drug, 2)))  # 10 left: at the re-order point
    [request] = harness.published("pharmacy.transfer.requested.v1")
    assert [(line.drug_code, line.quantity) for line in request.data.lines] == [(drug, 20)]

    # Surplus-to-shortage: the hospital holds more than its target of it.
    world.receive(world.hospital, drug, "I2", 50)
    set_levels(uow(harness), world.hospital, drug, 5, 20, "pharmacist")
    balance = {b.facility_id: b for b in community_balance(uow(harness), world.community, drug)}
    assert balance[world.hospital].surplus == 30
    assert balance[world.township].need == 20
