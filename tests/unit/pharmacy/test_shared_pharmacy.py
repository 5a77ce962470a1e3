"""The shared TCM pharmacy (共享中药房) through an in-memory unit of work: a herbal
prescription sent to it is never dispensed at the clinic, and quality's order is issued from
the shared pharmacy's stock, once (no database)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from libs.events.catalogue.ingestion import (
    PrescriptionIssuedV2,
    PrescriptionLine,
    SharedPharmacyRequest,
)
from libs.events.catalogue.pharmacy import PrescriptionDispensed
from libs.events.catalogue.quality import (
    HerbalOrderAccepted,
    HerbalOrderFees,
    HerbalOrderLine,
    PrescriptionReleased,
)
from libs.events.catalogue.values import FacilityTier, FacilityType, PrescriptionCategory
from services.pharmacy.service_layer.dispensing import dispense_prepared
from services.pharmacy.service_layer.shared_pharmacy import order_as_prescription
from tests.unit.pharmacy.fakes import NOW, FakeUnitOfWork
from tests.unit.pharmacy.test_review_before_dispensing import PATIENT, TOWNSHIP, apply

TCM = "F-TCM"


def world() -> FakeUnitOfWork:
    fake = FakeUnitOfWork()
    fake.member(TOWNSHIP)
    fake.member(
        TCM, tier=FacilityTier.SECONDARY.value, facility_type=FacilityType.TCM_HOSPITAL.value
    )
    fake.drug("Y-1", "128.0000")
    fake.stock(TOWNSHIP, "Y-1", ("CLINIC", 200, 10))
    fake.stock(TCM, "Y-1", ("LATE", 300, 10), ("EARLY", 60, 2))
    return fake


def herbal(quantity: int = 3) -> PrescriptionIssuedV2:
    return PrescriptionIssuedV2(
        prescription_id="RX-H1",
        facility_id=TOWNSHIP,
        facility_tier=FacilityTier.PRIMARY,
        patient_pseudonym=PATIENT,
        prescriber_id="S-1",
        category=PrescriptionCategory.TCM_HERBAL,
        lines=[PrescriptionLine(line_no=1, drug_code="Y-1", quantity=quantity)],
        total_amount=Decimal("384.00"),
        issued_at=NOW - timedelta(minutes=30),
        shared_pharmacy=SharedPharmacyRequest(doses=7),
    )


def order(quantity: int = 3) -> HerbalOrderAccepted:
    return HerbalOrderAccepted(
        order_id="HO-1",
        prescription_id="RX-H1",
        facility_id=TOWNSHIP,
        pharmacy_facility_id=TCM,
        patient_pseudonym=PATIENT,
        lines=[HerbalOrderLine(line_no=1, drug_code="Y-1", quantity=quantity)],
        doses=7,
        decoct=True,
        deliver_home=True,
        fees=HerbalOrderFees(
            preparation="10.50", decoction="21.00", delivery="10.00", total="41.50"
        ),
        accepted_at=NOW,
        deliver_by=NOW + timedelta(hours=48),
    )


def test_the_clinic_never_dispenses_it_and_the_shared_pharmacy_issues_the_order_once() -> None:
    uow = world()
    assert apply(uow, herbal()) == ["shared_pharmacy"]
    release = PrescriptionReleased(
        **herbal().model_dump(include=set(PrescriptionReleased.model_fields)),
        before_dispensing=True, released_by="rules", released_at=NOW,
    )  # fmt: skip
    assert apply(uow, release) == ["repeated"]
    assert uow.of_type(PrescriptionDispensed) == []

    pharmacy = uow.as_pharmacy()
    assert dispense_prepared(pharmacy, order_as_prescription(pharmacy, order())) == "dispensed"
    [issued] = uow.of_type(PrescriptionDispensed)
    assert (issued.prescription_id, issued.facility_id) == ("HO-1", TCM)
    assert [(lot.lot_number, lot.quantity) for lot in issued.lines[0].lots] == [
        ("EARLY", 2),
        ("LATE", 1),
    ]
    again = order_as_prescription(pharmacy, order())
    assert dispense_prepared(pharmacy, again) == "repeated"
    assert len(uow.of_type(PrescriptionDispensed)) == 1
