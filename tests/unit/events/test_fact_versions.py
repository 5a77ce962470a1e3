"""A fact's versions: ``.v1`` and ``.v2`` of one prescription are one fact, claimed under the
first version's name and compared by what both versions say (libs/events/registry.py,
libs/events/consuming/processed.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from libs.events.catalogue.ingestion import (
    PrescriptionIssued,
    PrescriptionIssuedV2,
    PrescriptionLine,
    VisitRecorded,
)
from libs.events.catalogue.values import AgeBand
from libs.events.consuming.processed import content_digest, fact_digest
from libs.events.envelope import new_event, utc_now
from libs.events.registry import registry

V1 = PrescriptionIssued(
    prescription_id="RX-1", facility_id="QS-T01", facility_tier="primary",
    patient_pseudonym="c" * 64, prescriber_id="S-T01-001", category="western",
    lines=[PrescriptionLine(line_no=1, drug_code="QSY-W003", quantity=1)],
    total_amount=Decimal("9.60"), issued_at=utc_now() - timedelta(minutes=5),
)  # fmt: skip


def as_v2(v1: PrescriptionIssued, **changes: object) -> PrescriptionIssuedV2:
    fields = v1.model_dump() | {"patient_age_band": AgeBand.CHILD, "pregnant": None} | changes
    return PrescriptionIssuedV2(**fields)


def test_both_versions_name_one_fact() -> None:
    spec = registry.for_payload(PrescriptionIssuedV2)
    assert spec.fact_type == "ingestion.prescription.issued.v1"
    assert spec.fact_of(as_v2(V1)) == registry.for_payload(V1).fact_of(V1)


def test_the_versions_compare_by_what_both_say() -> None:
    first, then = new_event(V1, source="/his/QS-T01"), new_event(as_v2(V1), source="/his/QS-T01")
    assert fact_digest(first) == content_digest(first)  # claims stored before .v2 still hold
    assert fact_digest(then) == fact_digest(first)
    older = new_event(as_v2(V1, patient_age_band=AgeBand.ADULT), source="/his/QS-T01")
    assert fact_digest(older) == fact_digest(first)  # what only .v2 says takes no part
    changed = new_event(as_v2(V1, prescriber_id="S-T01-009"), source="/his/QS-T01")
    assert fact_digest(changed) != fact_digest(first)


def test_a_type_with_one_version_compares_its_whole_content() -> None:
    visit = VisitRecorded(
        visit_id="V-1", facility_id="QS-T01", facility_tier="primary",
        patient_pseudonym="c" * 64, insurance_type="self_pay", visit_type="outpatient",
        total_amount=Decimal("10.00"), eligible_amount=Decimal("0.00"),
        occurred_at=utc_now() - timedelta(minutes=5),
    )  # fmt: skip
    event = new_event(visit, source="/his/QS-T01")
    assert fact_digest(event) == content_digest(event)
