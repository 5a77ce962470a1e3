"""The review centre on the real broker and databases, through the interfaces a member's
systems and the centre's pharmacists use: a township doctor's restricted antibiotic above the
centre's grade is held, a pharmacist rejects it, pharmacy never dispenses it and reporting
counts it; a special-use one is rejected by the rules outright (never in outpatient care);
an ordinary prescription is released and dispensed; a hold nobody decides breaches its SLA
exactly once; a repeat test inside its window is recognised and finance
books the avoided cost; a clinic's herbal prescription travels the shared TCM pharmacy's
whole lifecycle and is settled (tests/support/quality_steps/shared_pharmacy.py); a month's
audit sample is the same for the same seed, judged and published, and reporting shows the
irrational rate (tests/support/quality_steps/audit.py)."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from libs.events import encode, new_event
from libs.events.catalogue.ingestion import (
    OrderPlaced,
    PrescriptionIssued,
    PrescriptionLine,
    ResultReported,
)
from libs.events.catalogue.values import FacilityTier, PrescriptionCategory, TestKind
from libs.events.codec import decode
from libs.events.envelope import utc_now
from libs.platform.auth import Role
from libs.platform.settings import REPO_ROOT
from tests.conftest import Suite
from tests.support.brokers import TestBroker
from tests.support.kafka import produce, read_all, wait_for
from tests.support.quality_steps.audit import show_the_audit
from tests.support.quality_steps.shared_pharmacy import show_the_shared_pharmacy
from tests.support.services import ServiceHandle

CLINIC, DOCTOR = "QS-T01", "S-T01-001"  # a township centre and its attending physician
AMLODIPINE, LEVOFLOXACIN = "QSY-W011", "QSY-W003"  # levofloxacin: restricted grade
MEROPENEM = "QSY-W005"  # special use: never in outpatient care, rejected by the rules


def prescription(rx: str, drug: str) -> PrescriptionIssued:
    return PrescriptionIssued(
        prescription_id=rx,
        facility_id=CLINIC,
        facility_tier=FacilityTier.PRIMARY,
        patient_pseudonym="c3" * 32,
        prescriber_id=DOCTOR,
        category=PrescriptionCategory.WESTERN,
        lines=[PrescriptionLine(line_no=1, drug_code=drug, quantity=1, days_supply=28)],
        total_amount=Decimal("4.20"),
        issued_at=utc_now() - timedelta(minutes=2),
    )


def events(bootstrap: str, topic: str, rx: str) -> list[Any]:
    found = [decode(r.value) for r in read_all(bootstrap, topic) if r.value]
    return [e for e in found if getattr(e.data, "prescription_id", None) == rx]


def consumed(service: ServiceHandle, topic: str) -> float:
    return service.metric(f"{service.name}_events_consumed_total", topic=topic, outcome="applied")


@pytest.mark.parametrize("broker", ["kafka"], indirect=True)
def test_the_review_centre_decides_what_pharmacy_dispenses(
    suite: Suite, broker: TestBroker, tmp_path: Path
) -> None:
    rules = yaml.safe_load((REPO_ROOT / "infra/quality/review-rules.yaml").read_text("utf-8"))
    rules["review_sla_minutes"] = 0.25  # 15 s, so that a breach happens within the test
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), "utf-8")
    env = {
        "QUALITY_REVIEW_RULES": str(tmp_path / "rules.yaml"),
        "QUALITY_SLA_SCAN_INTERVAL_S": "1",
    }
    running = suite.start(
        "administration", "staffing", "pharmacy", "finance", "reporting", "quality", env=env
    )
    pharmacy, finance, reporting, quality = (
        running[n] for n in ("pharmacy", "finance", "reporting", "quality")
    )
    wait_for(lambda: consumed(pharmacy, "quality.policy") >= 1, what="pharmacy's policy copy")
    wait_for(lambda: consumed(quality, "staffing.staff") >= 48, what="quality's prescribers")
    wait_for(lambda: quality.get_json(f"/directory/facilities/{CLINIC}"), what="the clinic")

    sent = (
        prescription("RX-Q-HELD", LEVOFLOXACIN),
        prescription("RX-Q-OK", AMLODIPINE),
        prescription("RX-Q-LATE", LEVOFLOXACIN),
        prescription("RX-Q-SPECIAL", MEROPENEM),
    )
    produce(
        suite.bootstrap,
        "ingestion.prescription",
        [encode(new_event(p, source=f"/his/{CLINIC}")) for p in sent],
        key=CLINIC.encode(),
    )

    def queue() -> set[str]:
        with quality.client(Role.PHARMACY_CENTRE) as client:
            items = client.get("/reviews", params={"state": "held"}).json()["items"]
        return {r["prescription_id"] for r in items}

    wait_for(lambda: {"RX-Q-HELD", "RX-Q-LATE"} <= queue(), what="the two holds")
    with quality.client(Role.PHARMACY_CENTRE) as client:
        answer = client.post(
            f"/reviews/{CLINIC}/RX-Q-HELD/reject",
            json={"reason": "restricted antibiotic at a township centre: refer or use amoxicillin"},
        )
    assert answer.status_code == 200, answer.text

    dispensed = wait_for(
        lambda: events(suite.bootstrap, "pharmacy.prescription", "RX-Q-OK"),
        what="the released prescription dispensed",
    )
    assert dispensed[0].type == "pharmacy.prescription.dispensed.v1"
    breaches = wait_for(
        lambda: [
            e
            for e in events(suite.bootstrap, "quality.prescription", "RX-Q-LATE")
            if e.type == "quality.prescription.review_sla_breached.v1"
        ],
        what="the forgotten hold's SLA breach",
    )
    time.sleep(3)  # three more scans: still one breach
    again = events(suite.bootstrap, "quality.prescription", "RX-Q-LATE")
    assert [e.type for e in again].count("quality.prescription.review_sla_breached.v1") == 1
    assert len(breaches) == 1
    assert not events(suite.bootstrap, "pharmacy.prescription", "RX-Q-HELD")
    assert not events(suite.bootstrap, "pharmacy.prescription", "RX-Q-LATE")
    # The special-use antibiotic: rejected by the rules themselves, never held, never dispensed.
    special = [e.type for e in events(suite.bootstrap, "quality.prescription", "RX-Q-SPECIAL")]
    assert special == ["quality.prescription.rejected.v1"]
    assert not events(suite.bootstrap, "pharmacy.prescription", "RX-Q-SPECIAL")
    rejected = [e.type for e in events(suite.bootstrap, "quality.prescription", "RX-Q-HELD")]
    assert rejected == ["quality.prescription.held.v1", "quality.prescription.rejected.v1"]
    wait_for(
        lambda: consumed(reporting, "quality.prescription") >= 6,
        what="reporting counting the reviews (2 holds, a release, 2 rejections, a breach)",
    )

    # A liver panel done at the county hospital three days ago, ordered again at the clinic.
    recognised = repeat_order(suite.bootstrap, quality)
    assert recognised.data.earlier_result_id == "LAB-Q-1"
    assert str(recognised.data.avoided_cost) == "60.00"

    def booked() -> list[Any]:
        with finance.client(Role.FINANCE_CENTRE) as client:
            journal = client.get("/ledger/journal", params={"entry_type": "recognition_saving"})
        return list(journal.json()["items"]) if journal.status_code == 200 else []

    (entry,) = wait_for(booked, what="finance booking the avoided cost")
    assert {line["debit"] for line in entry["lines"]} >= {"60.00"}

    # A herbal prescription through the shared TCM pharmacy (共享中药房), settled; a month's
    # prescription audit (处方点评), the same sample for the same seed.
    show_the_shared_pharmacy(running, suite.bootstrap)
    show_the_audit(running, suite.bootstrap)


def repeat_order(bootstrap: str, quality: ServiceHandle) -> Any:
    """Report a result at the county hospital, then order the same item at the clinic; the
    recognition event quality publishes for the order."""
    now = utc_now()
    result = ResultReported(
        result_id="LAB-Q-1",
        facility_id="QS-H01",
        facility_tier=FacilityTier.TERTIARY,
        patient_pseudonym="c3" * 32,
        test_kind=TestKind.LABORATORY,
        test_code="LFT",
        reported_at=now - timedelta(days=3),
    )
    produce(bootstrap, "ingestion.result", [encode(new_event(result, source="/his/QS-H01"))],
            key=b"QS-H01")  # fmt: skip
    wait_for(lambda: consumed(quality, "ingestion.result") >= 1, what="the result indexed")
    order = OrderPlaced(
        order_id="ORD-Q-1",
        facility_id=CLINIC,
        facility_tier=FacilityTier.PRIMARY,
        patient_pseudonym="c3" * 32,
        test_kind=TestKind.LABORATORY,
        test_code="LFT",
        ordered_at=now - timedelta(minutes=1),
    )
    produce(bootstrap, "ingestion.order", [encode(new_event(order, source=f"/his/{CLINIC}"))],
            key=CLINIC.encode())  # fmt: skip
    (found,) = wait_for(
        lambda: [
            e
            for e in (decode(r.value) for r in read_all(bootstrap, "quality.recognition"))
            if getattr(e.data, "order_id", None) == "ORD-Q-1"
        ],
        what="the order's recognition",
    )
    assert found.type == "quality.recognition.recognised.v1"
    return found
