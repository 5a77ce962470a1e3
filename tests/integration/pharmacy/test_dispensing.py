"""Dispensing prescriptions through the pharmacy's real handlers on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from libs.events.catalogue.pharmacy import RejectionReason
from libs.events.catalogue.values import FacilityTier, FacilityType
from libs.events.consuming.message import REPLAY_HEADER
from libs.events.outbox.staging import decode_headers
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
from tests.support.harness import HandlerHarness, event_of


@pytest.fixture
def harness(make_database: Callable[[str], str]) -> Iterator[HandlerHarness]:
    running = pharmacy(make_database("pharmacy"))
    yield running
    running.close()


@pytest.fixture
def world(harness: HandlerHarness) -> World:
    return World(harness).organisation()


def test_a_drug_with_two_lots_dispenses_from_the_earlier_expiring_lot_first(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("AML", "4.2000")
    # The later-expiring lot arrives first: FEFO goes by expiry, not by arrival.
    world.receive(world.township, drug, "LATE", 40, expires=TODAY + timedelta(days=700))
    world.receive(world.township, drug, "EARLY", 20, expires=TODAY + timedelta(days=90))

    harness.apply(prescription(world.township, (drug, 25), prescription_id="RX-FEFO-1"))

    assert lots(harness, world.township, drug) == {"EARLY": 0, "LATE": 35}
    [dispensed] = harness.published("pharmacy.prescription.dispensed.v1")
    line = dispensed.data.lines[0]
    assert [(lot.lot_number, lot.quantity) for lot in line.lots] == [("EARLY", 20), ("LATE", 5)]
    assert line.quantity_dispensed == 25
    assert line.unit_price == Decimal("4.2000")
    assert line.amount == Decimal("105.00")
    assert dispensed.data.total_amount == Decimal("105.00")
    assert dispensed.data.complete is True
    assert dispensed.subject == "RX-FEFO-1"
    summary = card(harness, world.township, drug)
    assert (summary.receipts, summary.dispensed, summary.closing) == (60, 25, 35)
    assert summary.reconciles


def test_a_line_beyond_stock_is_partly_dispensed_recorded_short_and_replenished(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("MET", "3.9000")
    world.receive(world.township, drug, "M1", 5)

    harness.apply(prescription(world.township, (drug, 8), prescription_id="RX-SHORT-1"))

    [dispensed] = harness.published("pharmacy.prescription.dispensed.v1")
    assert dispensed.data.complete is False
    assert dispensed.data.lines[0].quantity_dispensed == 5
    assert dispensed.data.lines[0].amount == Decimal("19.50")
    [shortage] = harness.published("pharmacy.stock.shortage_recorded.v1")
    assert (shortage.data.quantity_short, shortage.data.prescription_id) == (3, "RX-SHORT-1")
    assert shortage.data.facility_id == world.township
    [stocked_out] = harness.published("pharmacy.stock.stocked_out.v1")
    assert stocked_out.data.drug_code == drug
    # The township centre asks its community's central pharmacy (the lead hospital).
    [request] = harness.published("pharmacy.transfer.requested.v1")
    assert request.data.from_facility_id == world.hospital
    assert request.data.to_facility_id == world.township
    assert request.data.reason == "replenishment"
    [line] = request.data.lines
    # 5 packs consumed over the 30-day minimum window: AMC 5, target 3 months = 15.
    assert (line.drug_code, line.quantity, line.unit_price) == (drug, 15, Decimal("3.9000"))
    assert lots(harness, world.township, drug) == {"M1": 0}

    # A second short prescription does not raise a second request while one is open.
    harness.apply(prescription(world.township, (drug, 2)))
    assert len(harness.published("pharmacy.transfer.requested.v1")) == 1
    assert len(harness.published("pharmacy.stock.shortage_recorded.v1")) == 2
    assert len(harness.published("pharmacy.stock.stocked_out.v1")) == 1  # still out


def test_a_drug_not_allowed_at_a_village_clinic_is_rejected_with_the_reason(
    harness: HandlerHarness, world: World
) -> None:
    allowed = world.drug("PCM", "2.2000")
    restricted = world.drug("LEVO", "9.6000", holders=NO_VILLAGE)
    world.receive(world.village, allowed, "P1", 10)

    harness.apply(
        prescription(world.village, (allowed, 1), (restricted, 1), prescription_id="RX-VIL-1")
    )

    [rejected] = harness.published("pharmacy.prescription.rejected.v1")
    assert rejected.data.facility_type == "village_clinic"
    [line] = rejected.data.lines
    assert (line.line_no, line.drug_code, line.reason) == (2, restricted, "tier_not_allowed")
    assert "village_clinic" in line.detail
    # Nothing was dispensed, not even the allowed line.
    assert harness.published("pharmacy.prescription.dispensed.v1") == []
    assert lots(harness, world.village, allowed) == {"P1": 10}


def test_a_replayed_prescription_changes_nothing(harness: HandlerHarness, world: World) -> None:
    drug = world.drug("ASP", "4.5000")
    world.receive(world.township, drug, "A1", 10)
    event = prescription(world.township, (drug, 3), prescription_id="RX-REPLAY-1")
    harness.apply(event)
    before = len(harness.published())

    redelivered = harness.apply(event)  # the same event again
    resend = event_of(event.data)  # the same prescription under a new event id
    resent = harness.apply(resend)
    other = prescription(world.township, (drug, 3), prescription_id="RX-REPLAY-1")  # re-dated
    changed = harness.apply(other)

    assert redelivered.duplicates == [event.id]
    assert resent.duplicates == [resend.id]
    assert changed.dead_lettered == [(other.id, "conflicting_fact")]  # the first one stands
    assert len(harness.published()) == before
    assert lots(harness, world.township, drug) == {"A1": 7}
    assert card(harness, world.township, drug).dispensed == 3


def test_unknown_facilities_and_drugs_are_dead_lettered_and_can_be_replayed(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("IRB", "6.5000")
    stranger = prescription("H-NOT-YET", (drug, 1))
    unlisted = prescription(world.township, ("D-NOT-LISTED", 1))

    result = harness.apply(stranger, unlisted)

    assert sorted(reason for _, reason in result.dead_lettered) == [
        "unknown_drug",
        "unknown_facility",
    ]
    reasons = {
        dict(decode_headers(record.headers))["dlt-reason"] for record in harness.dead_letters()
    }
    assert reasons == {b"unknown_drug", b"unknown_facility"}
    assert harness.published("pharmacy.prescription.dispensed.v1") == []

    # The facility arrives later (another topic); the replayed letter is then applied.
    harness.apply(world.facility("H-NOT-YET", FacilityTier.PRIMARY, FacilityType.TOWNSHIP_CENTRE))
    world.receive("H-NOT-YET", drug, "I1", 4)
    replay = harness.apply(stranger, headers=[(REPLAY_HEADER, b"ingestion.prescription.dlt/0/0")])
    assert replay.applied == [stranger.id]
    assert lots(harness, "H-NOT-YET", drug) == {"I1": 3}


def test_expired_lots_are_not_stock_and_delisted_drugs_are_refused(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("OME", "5.4000")
    world.receive(world.township, drug, "OLD", 10, expires=TODAY)
    # Usable through its expiry date: today it is still dispensed.
    harness.apply(prescription(world.township, (drug, 2)))
    assert lots(harness, world.township, drug) == {"OLD": 8}

    gone = world.drug("GONE", "1.0000")
    world.receive(world.township, gone, "G1", 10)
    delist_drug(uow(harness), gone, "withdrawn")
    harness.apply(prescription(world.township, (gone, 1), prescription_id="RX-DELISTED"))
    [rejected] = harness.published("pharmacy.prescription.rejected.v1")
    assert rejected.data.lines[0].reason == RejectionReason.DELISTED
    assert lots(harness, world.township, gone) == {"G1": 10}
