"""The review centre in-process, on each database, through its own handlers and API: what
the rules release, hold and reject, a pharmacist's decisions, the SLA breach once, and the
policy published once."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any

from libs.events.catalogue.ingestion import (
    PrescriptionIssued,
    PrescriptionIssuedV2,
    PrescriptionLine,
)
from libs.events.catalogue.values import AgeBand, FacilityTier, PrescriptionCategory
from libs.events.envelope import utc_now
from libs.platform.auth import Role
from libs.platform.clock import CountyClock
from libs.platform.worker import ServiceProcess
from services.quality.service_layer.policy import publish_policy
from services.quality.service_layer.sla import scan
from services.quality.service_layer.unit_of_work import QualityUnitOfWork, quality_uow
from tests.support.harness import HandlerHarness, event_of

RELEASED, HELD = "quality.prescription.released.v1", "quality.prescription.held.v1"
REJECTED, OVERDUE = (
    "quality.prescription.rejected.v1",
    "quality.prescription.review_sla_breached.v1",
)
POLICY = "quality.policy.published.v1"


def prescription(rx: str, facility: str, prescriber: str, *drugs: str) -> PrescriptionIssued:
    tier = FacilityTier.PRIMARY if facility.startswith(("QS-T", "QS-C")) else FacilityTier.SECONDARY
    return PrescriptionIssued(
        prescription_id=rx,
        facility_id=facility,
        facility_tier=tier,
        patient_pseudonym="b2" * 32,
        prescriber_id=prescriber,
        category=PrescriptionCategory.WESTERN,
        lines=[
            PrescriptionLine(line_no=i, drug_code=code, quantity=1, days_supply=28)
            for i, code in enumerate(drugs, 1)
        ],
        total_amount=Decimal("20.00"),
        issued_at=utc_now() - timedelta(minutes=3),
    )


def reviewed(harness: HandlerHarness, payload: PrescriptionIssued) -> None:
    result = harness.apply(event_of(payload, source=f"/his/{payload.facility_id}"))
    assert not result.dead_lettered, result.dead_lettered


def of(harness: HandlerHarness, type_name: str, rx: str, **kw: Any) -> list[Any]:
    return [e for e in harness.published(type_name, **kw) if e.data.prescription_id == rx]


def as_(process: ServiceProcess, role: Role, facility: str | None = None) -> dict[str, str]:
    token = process.token_authority.mint(subject="PH-001", role=role, facility_id=facility)
    return {"Authorization": f"Bearer {token}"}


def test_the_rules_release_hold_and_reject(quality) -> None:
    _, harness, _ = quality
    reviewed(harness, prescription("RX-OK", "QS-T01", "S-T01-001", "QSY-W011"))
    reviewed(harness, prescription("RX-MERO", "QS-T03", "S-T03-001", "QSY-W005"))
    levofloxacin = prescription("RX-LEVO", "QS-T01", "S-T01-001", "QSY-W003")
    reviewed(harness, levofloxacin)
    reviewed(harness, prescription("RX-H01", "QS-H01", "S-H01-001", "QSY-W003"))

    (ok,) = of(harness, RELEASED, "RX-OK")
    assert ok.data.before_dispensing and ok.data.released_by == "rules"
    assert [line.drug_code for line in ok.data.lines] == ["QSY-W011"]
    (mero,) = of(harness, REJECTED, "RX-MERO")
    assert mero.data.antibiotic and {f.rule for f in mero.data.findings} >= {
        "antibiotic_special_outpatient"
    }
    (levo,) = of(harness, HELD, "RX-LEVO")
    assert "antibiotic_facility_grade" in {f.rule for f in levo.data.findings}
    (hospital,) = of(harness, RELEASED, "RX-H01")
    assert hospital.data.before_dispensing is False
    # The same prescription again (a resend under a new event id) is not reviewed again.
    reviewed(harness, levofloxacin)
    assert len(of(harness, HELD, "RX-LEVO")) == 1


def test_a_pharmacist_decides_a_hold_once(quality) -> None:
    process, harness, client = quality
    reviewed(harness, prescription("RX-HOLD", "QS-T01", "S-T01-001", "QSY-W003"))
    queue = client.get(
        "/reviews", params={"state": "held"}, headers=as_(process, Role.PHARMACY_CENTRE)
    )
    assert [r["prescription_id"] for r in queue.json()["items"]] == ["RX-HOLD"]
    path = "/reviews/QS-T01/RX-HOLD"
    clinic = as_(process, Role.CLINIC_STAFF, "QS-T01")
    assert client.post(f"{path}/reject", json={"reason": "x"}, headers=clinic).status_code == 403
    answer = client.post(
        f"{path}/reject",
        json={"reason": "levofloxacin is not stocked for township use; prescribe amoxicillin"},
        headers=as_(process, Role.PHARMACY_CENTRE),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "rejected"
    again = client.post(f"{path}/release", json={}, headers=as_(process, Role.PHARMACY_CENTRE))
    assert again.status_code == 409
    (rejected,) = of(harness, REJECTED, "RX-HOLD")
    assert rejected.data.rejected_by == "PH-001" and rejected.data.held_at is not None
    assert not of(harness, RELEASED, "RX-HOLD")


def test_a_hold_past_its_sla_is_overdue_once(quality) -> None:
    process, harness, _ = quality
    reviewed(harness, prescription("RX-LATE", "QS-T01", "S-T01-001", "QSY-W003"))
    base = quality_uow(process.unit_of_work())
    later = utc_now() + timedelta(minutes=base.config.rules.review_sla_minutes + 1)
    clock = CountyClock(base.config.clock.zone, now=lambda: later)
    config = dataclasses.replace(base.config, clock=clock)

    def uow() -> QualityUnitOfWork:
        return QualityUnitOfWork(
            process.database.sessions, source="/services/quality", config=config
        )

    assert scan(uow()) == ["RX-LATE"]
    assert scan(uow()) == []
    assert len(of(harness, OVERDUE, "RX-LATE", as_of=later)) == 1


def test_the_policy_is_published_once_until_it_changes(quality) -> None:
    process, harness, _ = quality
    assert not publish_policy(quality_uow(process.unit_of_work()))  # published at start
    (policy,) = harness.published(POLICY)
    assert set(policy.data.review_before_dispensing) == {
        "township_centre",
        "community_centre",
        "village_clinic",
    }


def v2(
    payload: PrescriptionIssued, band: AgeBand | None, pregnant: bool | None
) -> PrescriptionIssuedV2:
    """``payload`` as a ``.v2`` (its prescriber required), saying the patient's age band and
    pregnancy."""
    return PrescriptionIssuedV2(**payload.model_dump(), patient_age_band=band, pregnant=pregnant)


def test_a_v2_prescription_meets_the_age_and_pregnancy_rules(quality) -> None:
    _, harness, _ = quality
    # Levofloxacin by a chief at the county hospital: no grade finding, only the age.
    reviewed(harness, v2(prescription("RX-TEEN", "QS-H01", "S-H01-001", "QSY-W003"),
                         AgeBand.ADOLESCENT, None))  # fmt: skip
    reviewed(harness, v2(prescription("RX-ADULT", "QS-H01", "S-H01-001", "QSY-W003"),
                         AgeBand.ADULT, False))  # fmt: skip
    reviewed(harness, v2(prescription("RX-PREG", "QS-T01", "S-T01-001", "QSY-W021"),
                         AgeBand.ADULT, True))  # fmt: skip
    reviewed(harness, v2(prescription("RX-UNKNOWN", "QS-T01", "S-T01-001", "QSY-W021"),
                         None, None))  # fmt: skip

    (teen,) = of(harness, HELD, "RX-TEEN")
    assert [(f.rule, f.line_no) for f in teen.data.findings] == [("age", 1)]
    (adult,) = of(harness, RELEASED, "RX-ADULT")
    assert adult.data.before_dispensing is False
    (pregnant,) = of(harness, REJECTED, "RX-PREG")
    assert [f.rule for f in pregnant.data.findings] == ["pregnancy"]
    # Unknown age and pregnancy are skipped, as for a .v1: released, and the release
    # carries the prescription as pharmacy dispenses it, never the patient's band.
    (unknown,) = of(harness, RELEASED, "RX-UNKNOWN")
    assert unknown.data.before_dispensing and unknown.data.prescriber_id == "S-T01-001"


def test_a_prescription_sent_as_v1_then_as_v2_is_reviewed_once(quality) -> None:
    _, harness, _ = quality
    first = prescription("RX-TWICE", "QS-H01", "S-H01-001", "QSY-W003")
    reviewed(harness, first)
    # The newer interface engine sends it again, now saying the patient is 15: a resend of
    # the same prescription (a new event id), not a new review.
    again = event_of(v2(first, AgeBand.ADOLESCENT, None), source="/his/QS-H01")
    result = harness.apply(again)
    assert result.duplicates == [again.id] and not result.dead_lettered
    assert len(of(harness, RELEASED, "RX-TWICE")) == 1 and not of(harness, HELD, "RX-TWICE")
