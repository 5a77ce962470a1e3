"""Receipts, adjustments, physical counts and write-offs; the card always reconciles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from libs.events.catalogue.pharmacy import AdjustmentReason, WriteOffReason
from services.pharmacy.service_layer import stock
from services.pharmacy.service_layer.errors import Conflict, Invalid, NotFound
from services.pharmacy.service_layer.formulary import delist_drug
from tests.integration.pharmacy.builders import (
    NO_VILLAGE,
    TODAY,
    World,
    card,
    lots,
    pharmacy,
    prescription,
    uow,
)
from tests.support.harness import HandlerHarness


@pytest.fixture
def harness(make_database: Callable[[str], str]) -> Iterator[HandlerHarness]:
    running = pharmacy(make_database("pharmacy"))
    yield running
    running.close()


@pytest.fixture
def world(harness: HandlerHarness) -> World:
    return World(harness).organisation()


def test_the_stock_card_reconciles_through_every_kind_of_movement(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("ATV", "8.9000")
    world.receive(world.township, drug, "L1", 30, cost="8.0000")
    world.receive(world.township, drug, "L2", 20, expires=TODAY + timedelta(days=40))
    harness.apply(prescription(world.township, (drug, 12)))
    damaged = stock.adjust_stock(
        uow(harness),
        world.township,
        stock.Adjustment(drug, "L1", -3, AdjustmentReason.DAMAGED),
    )
    assert damaged.value_delta == Decimal("-24.00")  # at the lot's cost, 3 × 8.0000
    counted = stock.count_stock(
        uow(harness),
        world.township,
        stock.Count([stock.CountLine(drug, "L1", TODAY + timedelta(days=365), 24)]),
    )
    assert [(line.system_quantity, line.counted_quantity) for line in counted.lines] == [(27, 24)]
    [correction] = [
        e.data
        for e in harness.published("pharmacy.stock.adjusted.v1")
        if e.data.count_id == counted.count_id
    ]
    assert (correction.quantity_delta, correction.reason) == (-3, "count_correction")
    written = stock.write_off_stock(
        uow(harness), world.township, stock.WriteOff(drug, "L1", 4, WriteOffReason.DAMAGED)
    )
    assert written.value == Decimal("32.00")

    summary = card(harness, world.township, drug)
    assert (summary.receipts, summary.dispensed, summary.adjustments, summary.written_off) == (
        50,
        12,
        -6,
        4,
    )
    assert summary.closing == 50 - 12 - 6 - 4 == sum(lots(harness, world.township, drug).values())
    assert summary.reconciles


def test_receipts_refuse_delisted_drugs_wrong_tiers_expired_lots_and_lot_mismatches(
    harness: HandlerHarness, world: World
) -> None:
    restricted = world.drug("MOR", "35.6000", holders=NO_VILLAGE)
    with pytest.raises(Invalid) as wrong_tier:
        world.receive(world.village, restricted, "R1", 1)
    assert wrong_tier.value.code == "tier_not_allowed"

    gone = world.drug("GONE", "1.0000")
    delist_drug(uow(harness), gone, "withdrawn")
    with pytest.raises(Conflict) as delisted:
        world.receive(world.township, gone, "G1", 1)
    assert delisted.value.code == "delisted"

    drug = world.drug("OK", "1.0000")
    with pytest.raises(Invalid) as expired:
        world.receive(world.township, drug, "X1", 1, expires=TODAY - timedelta(days=1))
    assert expired.value.code == "expired_lot"
    world.receive(world.township, drug, "X2", 1, expires=TODAY + timedelta(days=30))
    with pytest.raises(Conflict) as mismatch:
        world.receive(world.township, drug, "X2", 1, expires=TODAY + timedelta(days=31))
    assert mismatch.value.code == "lot_mismatch"
    with pytest.raises(NotFound):
        world.receive("F-NOWHERE", drug, "X3", 1)
    with pytest.raises(Invalid):
        world.receive(world.township, "D-UNKNOWN", "X4", 1)
    assert lots(harness, world.township, drug) == {"X2": 1}


def test_taking_more_than_a_lot_holds_is_refused(harness: HandlerHarness, world: World) -> None:
    drug = world.drug("ENA", "2.9000")
    world.receive(world.township, drug, "E1", 5)
    with pytest.raises(Conflict) as over:
        stock.adjust_stock(
            uow(harness), world.township, stock.Adjustment(drug, "E1", -6, AdjustmentReason.LOST)
        )
    assert over.value.code == "insufficient_stock"
    with pytest.raises(Conflict):
        stock.write_off_stock(
            uow(harness), world.township, stock.WriteOff(drug, "E1", 6, WriteOffReason.RECALLED)
        )
    with pytest.raises(NotFound):
        stock.write_off_stock(
            uow(harness), world.township, stock.WriteOff(drug, "E9", 1, WriteOffReason.RECALLED)
        )
    assert lots(harness, world.township, drug) == {"E1": 5}


def test_the_database_itself_refuses_a_negative_balance(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("CHK", "1.0000")
    world.receive(world.township, drug, "C1", 2)
    statement = text("UPDATE stock_lots SET on_hand = on_hand - 3 WHERE lot_number = 'C1'")
    with harness.database.sessions() as session, pytest.raises(IntegrityError):
        session.execute(statement)
    assert lots(harness, world.township, drug) == {"C1": 2}


def test_found_stock_and_counts_of_unknown_lots_open_the_lot(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("FND", "2.0000")
    stock.adjust_stock(
        uow(harness),
        world.township,
        stock.Adjustment(
            drug, "F1", 3, AdjustmentReason.FOUND, expiry_date=TODAY + timedelta(days=90)
        ),
    )
    stock.count_stock(
        uow(harness),
        world.township,
        stock.Count([stock.CountLine(drug, "F2", TODAY + timedelta(days=60), 7)]),
    )
    assert lots(harness, world.township, drug) == {"F1": 3, "F2": 7}
    assert card(harness, world.township, drug).adjustments == 10
