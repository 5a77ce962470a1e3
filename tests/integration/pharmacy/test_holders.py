"""Who could send a drug: one grouped query over every member's lots and reservations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from services.pharmacy.adapters.schema import ReservationRow, StockLot
from services.pharmacy.service_layer.availability import available_at_members
from tests.integration.pharmacy.builders import TODAY, World, now, pharmacy, uow
from tests.support.harness import HandlerHarness


@pytest.fixture
def harness(make_database: Callable[[str], str]) -> Iterator[HandlerHarness]:
    running = pharmacy(make_database("pharmacy"))
    yield running
    running.close()


def _reservation(
    facility_id: str, drug_code: str, quantity: int, *, active: bool = True
) -> ReservationRow:
    return ReservationRow(
        reservation_id=f"RSV-{facility_id}-{quantity}",
        facility_id=facility_id,
        drug_code=drug_code,
        referral_id=f"REF-{facility_id}",
        quantity=quantity,
        reserved_until=TODAY,
        active=active,
        reserved_at=now(),
    )


def test_holders_offer_unexpired_stock_less_reservations_of_their_community_only(
    harness: HandlerHarness,
) -> None:
    world, elsewhere = World(harness).organisation(), World(harness).organisation()
    drug = world.drug("HLD")
    world.receive(world.hospital, drug, "H1", 40)
    world.receive(world.village, drug, "V1", 3)
    world.receive(world.township, drug, "T1", 5)
    world.receive(elsewhere.hospital, drug, "E1", 7)
    with harness.database.sessions() as session, session.begin():
        session.add(
            StockLot(
                facility_id=world.hospital,
                drug_code=drug,
                lot_number="OLD",
                expiry_date=TODAY - timedelta(days=1),
                on_hand=100,
                unit_cost=Decimal("1.0000"),
                first_received_at=now(),
            )
        )
        session.add(_reservation(world.hospital, drug, 15))
        session.add(_reservation(world.township, drug, 5))  # all of it held: not a holder
        session.add(_reservation(world.village, drug, 3, active=False))  # released long ago
    statements: list[str] = []
    engine = harness.database.engine

    def count(*args: object) -> None:
        if str(args[2]).lstrip().upper().startswith("SELECT"):
            statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        with uow(harness) as unit:
            offers = available_at_members(unit, drug, world.community)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert offers == {world.hospital: 25, world.village: 3}
    assert len(statements) == 1  # not two per member, as it was
    with uow(harness) as unit:
        everywhere = available_at_members(unit, drug, None)
    assert everywhere[elsewhere.hospital] == 7
