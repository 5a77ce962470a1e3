"""Downward referrals: the receiving clinic keeps the plan's drugs for the patient."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from libs.events.catalogue.referral import (
    FollowUpMedication,
    FollowUpPlan,
    ReferralAccepted,
    ReferralCancelled,
    ReferralRequested,
)
from libs.events.catalogue.values import ReferralDirection, ReferralPriority
from services.pharmacy.service_layer.expiry import scan_facility
from tests.integration.pharmacy.builders import (
    NO_VILLAGE,
    PATIENT,
    TODAY,
    World,
    lots,
    now,
    pharmacy,
    prescription,
    uow,
)
from tests.support.harness import HandlerHarness, event_of

OTHER_PATIENT = "c" * 64


@pytest.fixture
def harness(make_database: Callable[[str], str]) -> Iterator[HandlerHarness]:
    running = pharmacy(make_database("pharmacy"))
    yield running
    running.close()


@pytest.fixture
def world(harness: HandlerHarness) -> World:
    return World(harness).organisation()


def _ref(world: World, referral_id: str, to: str, direction: ReferralDirection) -> dict[str, Any]:
    return {
        "referral_id": referral_id,
        "direction": direction,
        "from_facility_id": world.hospital,
        "to_facility_id": to,
        "priority": ReferralPriority.ROUTINE,
    }


def requested(world: World, referral_id: str, to: str, patient: str = PATIENT) -> Any:
    return event_of(
        ReferralRequested(
            **_ref(world, referral_id, to, ReferralDirection.DOWN),
            patient_pseudonym=patient,
            reason_code="chronic_follow_up",
            accept_due_at=now(),
            requested_at=now(),
        ),
        source="/services/referral",
    )


def accepted(
    world: World,
    referral_id: str,
    to: str,
    medications: dict[str, int],
    direction: ReferralDirection = ReferralDirection.DOWN,
    within_days: int | None = None,
) -> Any:
    return event_of(
        ReferralAccepted(
            **_ref(world, referral_id, to, direction),
            follow_up_plan=FollowUpPlan(
                medications=[
                    FollowUpMedication(drug_code=code, quantity=quantity)
                    for code, quantity in medications.items()
                ],
                follow_up_within_days=within_days,
            ),
            accepted_at=now(),
        ),
        source="/services/referral",
    )


def test_a_downward_plan_is_reserved_for_its_patient_and_the_rest_is_sent(
    harness: HandlerHarness, world: World
) -> None:
    on_shelf = world.drug("AML", "4.2000")
    missing = world.drug("CLO", "17.6000")
    world.receive(world.township, on_shelf, "A1", 5)

    harness.apply(requested(world, "REF-1", world.township))
    harness.apply(accepted(world, "REF-1", world.township, {on_shelf: 3, missing: 4}))

    reserved = {e.data.drug_code: e.data for e in harness.published("pharmacy.stock.reserved.v1")}
    assert {code: r.quantity for code, r in reserved.items()} == {on_shelf: 3, missing: 4}
    assert reserved[on_shelf].reserved_until == TODAY + timedelta(days=14)
    [transfer] = harness.published("pharmacy.transfer.requested.v1")
    assert transfer.data.reason == "referral_medication"
    assert transfer.data.referral_id == "REF-1"
    assert (transfer.data.from_facility_id, transfer.data.to_facility_id) == (
        world.hospital,
        world.township,
    )
    assert [(line.drug_code, line.quantity) for line in transfer.data.lines] == [(missing, 4)]

    # Another patient cannot take what is kept for the referred one...
    harness.apply(prescription(world.township, (on_shelf, 4), patient=OTHER_PATIENT))
    other = harness.published("pharmacy.prescription.dispensed.v1")[-1].data
    assert other.lines[0].quantity_dispensed == 2
    # ...the referred patient gets it, and the reservation is used up.
    harness.apply(prescription(world.township, (on_shelf, 3), patient=PATIENT))
    own = harness.published("pharmacy.prescription.dispensed.v1")[-1].data
    assert own.lines[0].quantity_dispensed == 3
    [released] = harness.published("pharmacy.stock.reservation_released.v1")
    assert (released.data.drug_code, released.data.quantity, released.data.reason) == (
        on_shelf,
        3,
        "dispensed",
    )
    assert lots(harness, world.township, on_shelf) == {"A1": 0}

    # The same acceptance again (a new event id) reserves nothing more.
    before = len(harness.published())
    harness.apply(accepted(world, "REF-1", world.township, {on_shelf: 3, missing: 4}))
    assert len(harness.published()) == before

    # Cancelling the referral releases what is still kept.
    harness.apply(
        event_of(
            ReferralCancelled(
                **_ref(world, "REF-1", world.township, ReferralDirection.DOWN),
                reason_code="patient_declined",
                cancelled_at=now(),
            )
        )
    )
    last = harness.published("pharmacy.stock.reservation_released.v1")[-1].data
    assert (last.drug_code, last.quantity, last.reason) == (missing, 4, "referral_cancelled")


def test_a_drug_the_clinic_may_not_hold_is_recorded_short_for_the_referral(
    harness: HandlerHarness, world: World
) -> None:
    restricted = world.drug("WAR", "9.8000", holders=NO_VILLAGE)
    harness.apply(accepted(world, "REF-2", world.village, {restricted: 2}))
    [shortage] = harness.published("pharmacy.stock.shortage_recorded.v1")
    assert (shortage.data.referral_id, shortage.data.quantity_short) == ("REF-2", 2)
    assert harness.published("pharmacy.stock.reserved.v1") == []
    assert harness.published("pharmacy.transfer.requested.v1") == []


def test_upward_referrals_are_ignored_and_reservations_lapse(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("MET", "3.9000")
    world.receive(world.township, drug, "M1", 10)
    harness.apply(accepted(world, "REF-UP", world.township, {drug: 2}, ReferralDirection.UP))
    assert harness.published("pharmacy.stock.reserved.v1") == []

    harness.apply(accepted(world, "REF-3", world.township, {drug: 2}, within_days=1))
    [reserved] = harness.published("pharmacy.stock.reserved.v1")
    assert reserved.data.reserved_until == TODAY + timedelta(days=1)
    scan_facility(uow(harness), world.township, TODAY + timedelta(days=2))
    [released] = harness.published("pharmacy.stock.reservation_released.v1")
    assert (released.data.reason, released.data.quantity) == ("lapsed", 2)
