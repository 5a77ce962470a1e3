"""The shared TCM pharmacy (共享中药房) through the pharmacy's real handlers on SQLite and
PostgreSQL: a herbal prescription sent to it is never dispensed at the clinic (neither from
the HIS's ``.v2`` nor from the review's release); quality's accepted order is issued from the
shared pharmacy's stock first-expiry-first-out, once per order, a shortage recorded as
dispensing records one."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from libs.events import CloudEvent
from libs.events.catalogue.ingestion import (
    PrescriptionIssuedV2,
    PrescriptionLine,
    SharedPharmacyRequest,
)
from libs.events.catalogue.quality import (
    HerbalOrderAccepted,
    HerbalOrderFees,
    HerbalOrderLine,
    PrescriptionReleased,
)
from libs.events.catalogue.values import FacilityType, PrescriptionCategory
from tests.integration.pharmacy.builders import PATIENT, TODAY, World, card, lots, now, pharmacy
from tests.integration.pharmacy.test_review_before_dispensing import outcome, policy
from tests.support.harness import HandlerHarness, event_of

DISPENSED, SHORTAGE = "pharmacy.prescription.dispensed.v1", "pharmacy.stock.shortage_recorded.v1"
FEES = HerbalOrderFees(preparation="10.50", decoction="21.00", delivery="10.00", total="41.50")


@pytest.fixture
def harness(make_database: Callable[[str], str]) -> Iterator[HandlerHarness]:
    running = pharmacy(make_database("pharmacy"))
    yield running
    running.close()


@pytest.fixture
def world(harness: HandlerHarness) -> World:
    return World(harness).organisation()


def herbal(world: World, drug: str, bags: int) -> CloudEvent[PrescriptionIssuedV2]:
    return event_of(
        PrescriptionIssuedV2(
            prescription_id=f"RX-{uuid.uuid4().hex[:12]}",
            facility_id=world.township,
            facility_tier="primary",
            patient_pseudonym=PATIENT,
            prescriber_id="S-T05-001",
            category=PrescriptionCategory.TCM_HERBAL,
            lines=[PrescriptionLine(line_no=1, drug_code=drug, quantity=bags)],
            total_amount="256.00",
            issued_at=now(),
            shared_pharmacy=SharedPharmacyRequest(doses=7),
        )
    )


def accepted(
    world: World, issued: CloudEvent[PrescriptionIssuedV2], bags: int
) -> CloudEvent[HerbalOrderAccepted]:
    """Quality's order for the prescription, at the world's hospital as the shared pharmacy."""
    data = issued.data
    return event_of(
        HerbalOrderAccepted(
            order_id=f"HO-{uuid.uuid4().hex}",
            prescription_id=data.prescription_id,
            facility_id=data.facility_id,
            pharmacy_facility_id=world.hospital,
            patient_pseudonym=data.patient_pseudonym,
            lines=[HerbalOrderLine(line_no=1, drug_code=data.lines[0].drug_code, quantity=bags)],
            doses=7,
            decoct=True,
            deliver_home=True,
            fees=FEES,
            accepted_at=now(),
            deliver_by=now() + timedelta(hours=48),
        )
    )


def herb(world: World) -> str:
    return world.drug("HQ", "128.0000", dosage_form="饮片", strength="1kg", pack_size=1,
                      unit="袋", tcm=True, holders=[FacilityType.COUNTY_HOSPITAL,
                                                     FacilityType.TOWNSHIP_CENTRE])  # fmt: skip


def test_the_herbs_come_from_the_shared_pharmacys_stock_not_the_clinics(
    harness: HandlerHarness, world: World
) -> None:
    drug = herb(world)
    world.receive(world.hospital, drug, "LATE", 30, expires=TODAY + timedelta(days=300))
    world.receive(world.hospital, drug, "EARLY", 2, expires=TODAY + timedelta(days=60))
    world.receive(world.township, drug, "CLINIC", 10)
    issued = herbal(world, drug, 3)

    assert harness.apply(issued).dead_lettered == []
    assert harness.published(DISPENSED) == []
    assert outcome(harness, issued.data.prescription_id) == "shared_pharmacy"

    order = accepted(world, issued, 3)
    harness.apply(order)
    [dispensed] = harness.published(DISPENSED)
    assert (dispensed.data.prescription_id, dispensed.data.facility_id) == (
        order.data.order_id, world.hospital,
    )  # fmt: skip
    line = dispensed.data.lines[0]
    assert [(lot.lot_number, lot.quantity) for lot in line.lots] == [("EARLY", 2), ("LATE", 1)]
    assert str(dispensed.data.total_amount) == "384.00"
    assert lots(harness, world.hospital, drug) == {"EARLY": 0, "LATE": 29}
    assert lots(harness, world.township, drug) == {"CLINIC": 10}

    # The order again under a new event id, the HIS's resend: nothing more leaves any shelf.
    published = len(harness.published())
    harness.apply(event_of(order.data), event_of(issued.data))
    assert len(harness.published()) == published
    assert card(harness, world.hospital, drug).dispensed == 3


def test_the_reviews_release_is_not_dispensed_at_the_clinic_either(
    harness: HandlerHarness, world: World
) -> None:
    drug = herb(world)
    world.receive(world.township, drug, "CLINIC", 10)
    harness.apply(policy(FacilityType.TOWNSHIP_CENTRE))
    issued = herbal(world, drug, 2)
    fields = issued.data.model_dump(include=set(PrescriptionReleased.model_fields))
    release = event_of(
        PrescriptionReleased(
            **fields, before_dispensing=True, released_by="rules", released_at=now()
        )
    )
    harness.apply(release)  # the release overtook the HIS's event
    harness.apply(issued)
    assert harness.published(DISPENSED) == []
    assert lots(harness, world.township, drug) == {"CLINIC": 10}
    assert outcome(harness, issued.data.prescription_id) == "shared_pharmacy"


def test_a_shortage_at_the_shared_pharmacy_is_recorded_as_dispensing_records_one(
    harness: HandlerHarness, world: World
) -> None:
    drug = herb(world)
    world.receive(world.hospital, drug, "ONLY", 4)
    issued = herbal(world, drug, 6)
    harness.apply(issued, accepted(world, issued, 6))
    [dispensed] = harness.published(DISPENSED)
    assert (dispensed.data.complete, dispensed.data.lines[0].quantity_dispensed) == (False, 4)
    [short] = harness.published(SHORTAGE)
    assert (short.data.facility_id, short.data.quantity_short) == (world.hospital, 2)
