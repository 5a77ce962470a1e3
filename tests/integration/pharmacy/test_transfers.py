"""Transfer orders: quantities and lots leave one facility and arrive at the other once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from libs.events.catalogue.pharmacy import TransferReason
from libs.events.catalogue.values import FacilityTier
from services.pharmacy.service_layer import shipping, transfers
from services.pharmacy.service_layer.errors import Conflict, Invalid, PharmacyError
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


def _request(world: World, quantities: dict[str, int], to: str | None = None) -> str:
    event = transfers.request_transfer(
        uow(world.harness),
        transfers.TransferRequest(
            from_facility_id=world.hospital,
            to_facility_id=to or world.township,
            reason=TransferReason.MANUAL,
            quantities=quantities,
            requested_by="test",
        ),
    )
    return event.transfer_id


def test_a_transfer_moves_its_lots_exactly_once(harness: HandlerHarness, world: World) -> None:
    amlodipine = world.drug("AML", "4.2000")
    aspirin = world.drug("ASP", "4.5000")
    world.receive(world.hospital, amlodipine, "A-LATE", 50, expires=TODAY + timedelta(days=600))
    world.receive(world.hospital, amlodipine, "A-EARLY", 30, expires=TODAY + timedelta(days=200))
    world.receive(world.hospital, aspirin, "S1", 100, cost="3.9000")

    transfer_id = _request(world, {amlodipine: 40, aspirin: 25})
    approved = transfers.approve_transfer(uow(harness), transfer_id, {aspirin: 20})
    assert {(line.drug_code, line.quantity) for line in approved.lines} == {
        (amlodipine, 40),
        (aspirin, 20),
    }
    shipped = shipping.ship_transfer(uow(harness), transfer_id)
    # Stock left the central pharmacy first-expiry-first-out...
    assert lots(harness, world.hospital, amlodipine) == {"A-EARLY": 0, "A-LATE": 40}
    assert lots(harness, world.hospital, aspirin) == {"S1": 80}
    by_drug = {line.drug_code: line for line in shipped.lines}
    assert [(lot.lot_number, lot.quantity) for lot in by_drug[amlodipine].lots] == [
        ("A-EARLY", 30),
        ("A-LATE", 10),
    ]
    # ...and is in neither facility while in transit.
    assert lots(harness, world.township, amlodipine) == {}

    received = shipping.receive_transfer(uow(harness), transfer_id)
    assert lots(harness, world.township, amlodipine) == {"A-EARLY": 30, "A-LATE": 10}
    assert lots(harness, world.township, aspirin) == {"S1": 20}
    # Finance settles at the unified price: 40 × 4.2000 + 20 × 4.5000.
    amounts = {line.drug_code: line.amount for line in received.lines}
    assert amounts == {amlodipine: Decimal("168.00"), aspirin: Decimal("90.00")}
    assert received.total_value == Decimal("258.00")

    # Every step happens once: a second ship or receive is refused and moves nothing.
    for step in (shipping.ship_transfer, shipping.receive_transfer):
        with pytest.raises(Conflict) as refused:
            step(uow(harness), transfer_id)
        assert refused.value.code == "invalid_transition"
    assert lots(harness, world.township, amlodipine) == {"A-EARLY": 30, "A-LATE": 10}
    for facility in (world.hospital, world.township):
        for drug in (amlodipine, aspirin):
            assert card(harness, facility, drug).reconciles
    sent = card(harness, world.hospital, amlodipine)
    arrived = card(harness, world.township, amlodipine)
    assert sent.transfers_out == arrived.transfers_in == 40
    types = [
        e.type.rsplit(".", 2)[1]
        for e in harness.published()
        if e.type.startswith("pharmacy.transfer")
    ]
    assert types == ["requested", "approved", "shipped", "received"]


def test_concurrent_receipts_of_one_transfer_book_it_once(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("MET", "3.9000")
    world.receive(world.hospital, drug, "M1", 60)
    transfer_id = _request(world, {drug: 12})
    transfers.approve_transfer(uow(harness), transfer_id)
    shipping.ship_transfer(uow(harness), transfer_id)

    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def receive() -> None:
        barrier.wait()
        try:
            shipping.receive_transfer(uow(harness), transfer_id)
            outcomes.append("received")
        except PharmacyError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=receive) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["invalid_transition"] * 3 + ["received"]
    assert lots(harness, world.township, drug) == {"M1": 12}
    assert len(harness.published("pharmacy.transfer.received.v1")) == 1


def test_shipping_more_than_the_sender_has_is_refused_and_moves_nothing(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("CLO", "17.6000")
    world.receive(world.hospital, drug, "C1", 8)
    transfer_id = _request(world, {drug: 8})
    transfers.approve_transfer(uow(harness), transfer_id)
    # Between approval and shipping the hospital dispenses some of it to its own patients.
    assert harness.apply(
        prescription(world.hospital, (drug, 3), tier=FacilityTier.TERTIARY)
    ).applied

    with pytest.raises(Conflict) as refused:
        shipping.ship_transfer(uow(harness), transfer_id)
    assert refused.value.code == "insufficient_stock"
    assert lots(harness, world.hospital, drug) == {"C1": 5}

    with pytest.raises(Invalid):  # more than approved
        shipping.ship_transfer(uow(harness), transfer_id, {drug: 9})
    shipped = shipping.ship_transfer(uow(harness), transfer_id, {drug: 5})  # ship what there is
    assert shipped.lines[0].lots[0].quantity == 5
    assert lots(harness, world.hospital, drug) == {"C1": 0}


def test_approving_more_than_the_sender_can_offer_is_refused_with_what_it_can(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("AML", "3.8000")
    world.receive(world.hospital, drug, "A1", 10)
    first, second = _request(world, {drug: 6}), _request(world, {drug: 5})
    transfers.approve_transfer(uow(harness), first)
    with pytest.raises(Conflict) as refused:  # 10 on hand, 6 promised to the first
        transfers.approve_transfer(uow(harness), second)
    assert refused.value.code == "insufficient_stock"
    assert refused.value.details == {"available": {drug: 4}}
    assert transfers.approve_transfer(uow(harness), second, {drug: 4}).lines[0].quantity == 4


def test_the_lifecycle_refuses_steps_out_of_order(harness: HandlerHarness, world: World) -> None:
    drug = world.drug("PCM", "2.2000")
    world.receive(world.hospital, drug, "P1", 10)

    rejected = _request(world, {drug: 1})
    transfers.reject_transfer(uow(harness), rejected, "not_needed")
    with pytest.raises(Conflict):
        transfers.approve_transfer(uow(harness), rejected)

    cancelled = _request(world, {drug: 1})
    transfers.approve_transfer(uow(harness), cancelled)
    transfers.cancel_transfer(uow(harness), cancelled, "duplicate")
    with pytest.raises(Conflict):
        shipping.ship_transfer(uow(harness), cancelled)

    shipped = _request(world, {drug: 1})
    transfers.approve_transfer(uow(harness), shipped)
    shipping.ship_transfer(uow(harness), shipped)
    with pytest.raises(Conflict):
        transfers.cancel_transfer(uow(harness), shipped, "too_late")
    with pytest.raises(Invalid) as nothing:
        transfers.approve_transfer(uow(harness), _request(world, {drug: 1}), {drug: 0})
    assert nothing.value.code == "invalid_quantities"


def test_a_transfer_of_a_drug_the_receiver_may_not_hold_is_refused(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("INJ", "3.4500", holders=NO_VILLAGE)
    with pytest.raises(Invalid) as refused:
        _request(world, {drug: 2}, to=world.village)
    assert refused.value.code == "tier_not_allowed"
    with pytest.raises(Invalid) as unknown:
        _request(world, {"D-NOPE": 2})
    assert unknown.value.code == "unknown_drug"
