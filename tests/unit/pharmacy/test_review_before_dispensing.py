"""Review before dispensing through an in-memory unit of work: the county's policy held
back, the review's release dispensed by the same set path (no database)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from libs.events import new_event
from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionLine
from libs.events.catalogue.pharmacy import PrescriptionDispensed, PrescriptionRejected
from libs.events.catalogue.quality import PrescriptionReleased, ReviewPolicyPublished
from libs.events.catalogue.values import FacilityTier, FacilityType, PrescriptionCategory
from libs.events.consuming.sets import RecordSet
from libs.events.payload import Payload
from libs.events.retry import PermanentError
from services.pharmacy.service_layer.dispensing import dispense_released, dispense_set
from services.pharmacy.service_layer.review import keep_policy
from tests.unit.pharmacy.fakes import CENTRE, NOW, FakeUnitOfWork

TOWNSHIP = "F-TOWNSHIP"
HOSPITAL = CENTRE  # the county hospital, the central pharmacy (it never asks for transfers)
COUNTY = "330000"  # the fakes' facilities' county
PATIENT = "b" * 64


@pytest.fixture
def uow() -> FakeUnitOfWork:
    fake = FakeUnitOfWork()
    fake.member(TOWNSHIP)  # a township centre
    fake.member(
        HOSPITAL,
        tier=FacilityTier.TERTIARY.value,
        facility_type=FacilityType.COUNTY_HOSPITAL.value,
    )
    fake.drug("D-1", "12.5000")
    fake.stock(TOWNSHIP, "D-1", ("LATE", 200, 10), ("EARLY", 20, 2))
    fake.stock(HOSPITAL, "D-1", ("H1", 100, 10))
    return fake


def policy(*types: FacilityType, minutes: int = 0) -> ReviewPolicyPublished:
    return ReviewPolicyPublished(
        county_code=COUNTY,
        review_before_dispensing=list(types),
        published_at=NOW + timedelta(minutes=minutes),
    )


def issued(facility_id: str, quantity: int = 5, *, rx: str = "RX-1") -> PrescriptionIssued:
    return PrescriptionIssued(
        prescription_id=rx,
        facility_id=facility_id,
        facility_tier=FacilityTier.PRIMARY,
        patient_pseudonym=PATIENT,
        category=PrescriptionCategory.WESTERN,
        lines=[PrescriptionLine(line_no=1, drug_code="D-1", quantity=quantity)],
        total_amount=Decimal("0.00"),
        issued_at=NOW - timedelta(minutes=30),
    )


def released(prescription: PrescriptionIssued, *, before: bool = True) -> PrescriptionReleased:
    return PrescriptionReleased(
        **prescription.model_dump(),
        before_dispensing=before,
        released_by="rules",
        released_at=NOW,
    )


def apply(uow: FakeUnitOfWork, *payloads: Payload) -> list[str]:
    """Apply ``payloads`` (all of one type) as one set, as the consumer does; the outcomes."""
    events = [new_event(p, source="/tests") for p in payloads]
    records: RecordSet[Any] = RecordSet(uow, events)  # type: ignore[arg-type]
    if isinstance(payloads[0], PrescriptionReleased):
        outcomes = dispense_released(uow.as_pharmacy(), records)
    else:
        outcomes = dispense_set(uow.as_pharmacy(), records)
    if records.refused:
        raise next(iter(records.refused.values()))
    return [outcome for _, outcome in outcomes]


def test_a_reviewed_facility_is_dispensed_only_from_its_release(uow: FakeUnitOfWork) -> None:
    assert keep_policy(uow.as_pharmacy(), policy(FacilityType.TOWNSHIP_CENTRE))
    prescription = issued(TOWNSHIP)

    assert apply(uow, prescription) == ["awaiting_review"]
    assert uow.published == []
    assert uow.items.posted == []
    assert set(uow.records.awaiting) == {"RX-1"}
    assert uow.records.prescriptions == {}

    assert apply(uow, released(prescription)) == ["dispensed"]
    [dispensed] = uow.of_type(PrescriptionDispensed)
    assert dispensed.prescription_id == "RX-1"
    assert dispensed.total_amount == Decimal("62.50")
    assert [(lot.lot_number, lot.quantity) for lot in dispensed.lines[0].lots] == [
        ("EARLY", 2),
        ("LATE", 3),
    ]
    assert uow.records.prescriptions["RX-1"].outcome == "dispensed"
    assert uow.records.awaiting == {}

    # Released again (a new event id) or the HIS's resend: nothing more.
    before = len(uow.published)
    assert apply(uow, released(prescription)) == ["repeated"]
    assert apply(uow, prescription) == ["repeated"]
    assert len(uow.published) == before
    assert len(uow.items.posted) == 2


def test_a_facility_reviewed_after_dispenses_at_once_and_its_release_changes_nothing(
    uow: FakeUnitOfWork,
) -> None:
    keep_policy(uow.as_pharmacy(), policy(FacilityType.TOWNSHIP_CENTRE))
    prescription = issued(HOSPITAL)

    assert apply(uow, prescription) == ["dispensed"]
    before = list(uow.published)
    assert apply(uow, released(prescription, before=False)) == ["ignored"]
    assert uow.published == before
    assert uow.records.awaiting == {}


def test_without_a_policy_everything_dispenses_at_once(uow: FakeUnitOfWork) -> None:
    assert apply(uow, issued(TOWNSHIP), issued(HOSPITAL, rx="RX-2")) == [
        "dispensed",
        "dispensed",
    ]
    assert len(uow.of_type(PrescriptionDispensed)) == 2


def test_a_set_holds_some_and_dispenses_the_others(uow: FakeUnitOfWork) -> None:
    keep_policy(uow.as_pharmacy(), policy(FacilityType.TOWNSHIP_CENTRE))
    outcomes = apply(uow, issued(TOWNSHIP, rx="RX-T"), issued(HOSPITAL, rx="RX-H"))
    assert outcomes == ["awaiting_review", "dispensed"]
    [dispensed] = uow.of_type(PrescriptionDispensed)
    assert dispensed.prescription_id == "RX-H"


def test_a_newer_policy_replaces_the_older_one_and_an_older_one_is_ignored(
    uow: FakeUnitOfWork,
) -> None:
    pharmacy = uow.as_pharmacy()
    assert keep_policy(pharmacy, policy(FacilityType.TOWNSHIP_CENTRE, minutes=0))
    assert keep_policy(pharmacy, policy(FacilityType.VILLAGE_CLINIC, minutes=10))
    assert not keep_policy(pharmacy, policy(FacilityType.TOWNSHIP_CENTRE, minutes=5))
    assert not keep_policy(pharmacy, policy(FacilityType.VILLAGE_CLINIC, minutes=10))
    assert uow.records.review_policies() == {COUNTY: frozenset({"village_clinic"})}

    assert apply(uow, issued(TOWNSHIP)) == ["dispensed"]  # no longer reviewed before


def test_a_type_no_longer_reviewed_before_dispenses_at_once_and_what_waits_still_waits(
    uow: FakeUnitOfWork,
) -> None:
    keep_policy(uow.as_pharmacy(), policy(FacilityType.TOWNSHIP_CENTRE))
    waiting = issued(TOWNSHIP, 1, rx="RX-WAIT")
    assert apply(uow, waiting) == ["awaiting_review"]

    keep_policy(uow.as_pharmacy(), policy(minutes=10))  # nothing reviewed before any more
    assert apply(uow, issued(TOWNSHIP, 1, rx="RX-LATER")) == ["dispensed"]
    assert set(uow.records.awaiting) == {"RX-WAIT"}
    assert apply(uow, released(waiting)) == ["dispensed"]
    assert uow.records.awaiting == {}


def test_a_release_after_dispensing_of_a_prescription_held_back_dispenses_it(
    uow: FakeUnitOfWork,
) -> None:
    """Pharmacy's policy lagged quality's (which no longer reviews the type before): the
    prescription was held here, the review released it as reviewed after; it is dispensed."""
    keep_policy(uow.as_pharmacy(), policy(FacilityType.TOWNSHIP_CENTRE))
    prescription = issued(TOWNSHIP)
    apply(uow, prescription)
    assert apply(uow, released(prescription, before=False)) == ["dispensed"]
    assert uow.records.awaiting == {}


def test_a_release_before_the_his_prescription_dispenses_and_the_his_one_repeats(
    uow: FakeUnitOfWork,
) -> None:
    keep_policy(uow.as_pharmacy(), policy(FacilityType.TOWNSHIP_CENTRE))
    prescription = issued(TOWNSHIP)
    assert apply(uow, released(prescription)) == ["dispensed"]
    assert apply(uow, prescription) == ["repeated"]
    assert uow.records.awaiting == {}
    assert len(uow.of_type(PrescriptionDispensed)) == 1


def test_a_prescription_dispensed_before_the_policy_arrived_is_not_dispensed_again(
    uow: FakeUnitOfWork,
) -> None:
    prescription = issued(TOWNSHIP)
    assert apply(uow, prescription) == ["dispensed"]  # no policy yet
    keep_policy(uow.as_pharmacy(), policy(FacilityType.TOWNSHIP_CENTRE))
    assert apply(uow, released(prescription)) == ["repeated"]
    assert len(uow.of_type(PrescriptionDispensed)) == 1


def test_a_held_prescription_is_judged_on_its_release(uow: FakeUnitOfWork) -> None:
    """Held without looking at its drugs; its release is judged as the HIS's would be: an
    unknown drug refuses it, one the facility may not hold rejects it."""
    keep_policy(uow.as_pharmacy(), policy(FacilityType.TOWNSHIP_CENTRE))
    unknown = issued(TOWNSHIP, rx="RX-UNKNOWN").model_copy(
        update={"lines": [PrescriptionLine(line_no=1, drug_code="D-NEW", quantity=1)]}
    )
    assert apply(uow, unknown) == ["awaiting_review"]
    with pytest.raises(PermanentError) as refused:
        apply(uow, released(unknown))
    assert refused.value.reason == "unknown_drug"
    assert "RX-UNKNOWN" in uow.records.awaiting  # nothing written for a refused record

    uow.drug("D-NEW", listed=False)
    assert apply(uow, released(unknown)) == ["rejected"]
    [rejected] = uow.of_type(PrescriptionRejected)
    assert rejected.lines[0].reason == "delisted"
    assert uow.records.awaiting == {}
