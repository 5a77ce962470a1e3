"""The monthly prescription audit (处方点评) in-process, on each database, through the quality
service's own handlers and API: dispensed prescriptions make a month's population, the sample
drawn is the same however often it is drawn (and the one the seed ranks), reviewers' verdicts
are checked against the standard and re-decided with a trail, a member's month is published
once when every verdict is given, the periodic job draws last month, and what the shared
TCM pharmacy dispenses counts as the clinic's prescription."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from libs.events.catalogue.ingestion import (
    PrescriptionIssued,
    PrescriptionIssuedV2,
    PrescriptionLine,
    SharedPharmacyRequest,
)
from libs.events.catalogue.pharmacy import DispensedLine, PrescriptionDispensed
from libs.events.catalogue.values import FacilityTier, PrescriptionCategory
from libs.events.envelope import utc_now
from libs.platform.auth import Role
from libs.platform.clock import CountyClock
from libs.platform.worker import ServiceProcess
from services.quality.adapters.schema import AuditSample
from services.quality.domain.audit import draw_sample, previous_month
from services.quality.service_layer.audit import SCHEDULER, draw_due
from services.quality.service_layer.unit_of_work import QualityUnitOfWork, quality_uow
from tests.support.harness import HandlerHarness, event_of

COMPLETED = "quality.audit.completed.v1"
HOSPITAL, CLINIC = "QS-H01", "QS-T01"
#: The doctors of each member who wrote the month's prescriptions, in turn.
DOCTORS = {HOSPITAL: ("S-H01-001", "S-H01-002"), CLINIC: ("S-T01-001",)}


def audited_month() -> str:
    """Two months ago (county time): ended long enough to be drawn whatever today is."""
    today = CountyClock().today()
    return previous_month(date.fromisoformat(previous_month(today) + "-01"))


def issued_in(month: str, n: int) -> datetime:
    day = date.fromisoformat(f"{month}-01") + timedelta(days=n % 25)
    return CountyClock().at(day, time(9, 30))


def prescribed(facility: str, rx: str, n: int, month: str) -> PrescriptionIssued:
    tier = FacilityTier.PRIMARY if facility == CLINIC else FacilityTier.TERTIARY
    doctors = DOCTORS[facility]
    return PrescriptionIssued(
        prescription_id=rx,
        facility_id=facility,
        facility_tier=tier,
        patient_pseudonym="e5" * 32,
        prescriber_id=doctors[n % len(doctors)],
        category=PrescriptionCategory.WESTERN,
        lines=[PrescriptionLine(line_no=1, drug_code="QSY-W011", quantity=1, days_supply=28)],
        total_amount=Decimal("4.20"),
        issued_at=issued_in(month, n),
    )


def dispensed(facility: str, rx: str) -> PrescriptionDispensed:
    line = DispensedLine(
        line_no=1,
        drug_code="QSY-W011",
        quantity_prescribed=1,
        quantity_dispensed=1,
        unit_price=Decimal("4.2000"),
        amount=Decimal("4.20"),
    )
    return PrescriptionDispensed(
        prescription_id=rx,
        facility_id=facility,
        category=PrescriptionCategory.WESTERN,
        lines=[line],
        total_amount=Decimal("4.20"),
        complete=True,
        dispensed_at=utc_now() - timedelta(minutes=1),
    )


def a_dispensed_month(harness: HandlerHarness, month: str, counts: dict[str, int]) -> None:
    """``counts`` prescriptions per member issued in ``month``, reviewed and dispensed."""
    issued, handed = [], []
    for facility, count in counts.items():
        for n in range(count):
            rx = f"RX-{facility}-{month}-{n:04d}"
            issued.append(event_of(prescribed(facility, rx, n, month), source=f"/his/{facility}"))
            handed.append(event_of(dispensed(facility, rx)))
    for batch in (issued, handed):
        result = harness.apply(*batch)
        assert not result.dead_lettered, result.dead_lettered


def as_(process: ServiceProcess, role: Role, facility: str | None = None) -> dict[str, str]:
    token = process.token_authority.mint(subject="PH-001", role=role, facility_id=facility)
    return {"Authorization": f"Bearer {token}"}


def test_the_months_sample_is_the_same_however_often_it_is_drawn(quality) -> None:
    process, harness, client = quality
    month = audited_month()
    a_dispensed_month(harness, month, {HOSPITAL: 130, CLINIC: 7})
    # The pharmacy's event again under a new id, and the HIS's: nothing counts twice.
    harness.apply(event_of(dispensed(CLINIC, f"RX-{CLINIC}-{month}-0000")))

    admin = as_(process, Role.COUNTY_ADMIN)
    first = client.post(f"/audits/{month}", headers=admin)
    assert first.status_code == 200, first.text
    summary = {f["facility_id"]: f for f in first.json()["facilities"]}
    assert {f: (s["prescriptions"], s["sampled"]) for f, s in summary.items()} == {
        HOSPITAL: (130, 100),
        CLINIC: (7, 7),
    }
    again = client.post(f"/audits/{month}", headers=as_(process, Role.PHARMACY_CENTRE))
    assert again.json()["facilities"] == first.json()["facilities"]

    queue = client.get(f"/audits/{month}/facilities/{HOSPITAL}", headers=admin).json()
    drawn = [item["prescription_id"] for item in queue["prescriptions"]]
    population = [f"RX-{HOSPITAL}-{month}-{n:04d}" for n in range(130)]
    seed = queue["summary"]["seed"]
    assert drawn == draw_sample(seed, month, HOSPITAL, reversed(population), 100)
    assert queue["prescriptions"][0]["lines"][0]["drug_code"] == "QSY-W011"
    assert queue["prescriptions"][0]["review_state"] == "released"


def test_a_dispensing_that_overtakes_its_review_joins_the_month_once_reviewed(quality) -> None:
    """At the county hospital pharmacy dispenses from the HIS's record at once: its event may
    reach quality before the same record's review. Recorded, never parked (a quality service
    behind under load would otherwise dead-letter them); the review gives it its month."""
    process, harness, client = quality
    month = audited_month()
    early = [event_of(dispensed(HOSPITAL, f"RX-EARLY-{n}")) for n in range(3)]
    assert not harness.apply(*early).dead_lettered
    admin = as_(process, Role.COUNTY_ADMIN)
    reviews = [
        event_of(prescribed(HOSPITAL, f"RX-EARLY-{n}", n, month), source=f"/his/{HOSPITAL}")
        for n in range(3)
    ]
    assert not harness.apply(*reviews).dead_lettered
    harness.apply(event_of(dispensed(HOSPITAL, "RX-EARLY-0")))  # again: counted once
    drawn = client.post(f"/audits/{month}", headers=admin)
    assert drawn.status_code == 200, drawn.text
    summary = {f["facility_id"]: f for f in drawn.json()["facilities"]}
    assert (summary[HOSPITAL]["prescriptions"], summary[HOSPITAL]["sampled"]) == (3, 3)
    queue = client.get(f"/audits/{month}/facilities/{HOSPITAL}", headers=admin).json()
    assert {i["prescriber_id"] for i in queue["prescriptions"]} <= set(DOCTORS[HOSPITAL])


def test_drawing_waits_for_the_month_to_end(quality) -> None:
    process, _, client = quality
    admin = as_(process, Role.COUNTY_ADMIN)
    this_month = CountyClock().today().strftime("%Y-%m")
    early = client.post(f"/audits/{this_month}", headers=admin)
    assert early.status_code == 409 and early.json()["error"] == "month_not_ended"
    assert client.post("/audits/2026-13", headers=admin).status_code == 422
    assert client.get("/audits/11-2026", headers=admin).json()["error"] == "invalid_month"
    clinic = as_(process, Role.CLINIC_STAFF, CLINIC)
    assert client.post(f"/audits/{this_month}", headers=clinic).status_code == 403


def test_verdicts_are_checked_re_decided_and_published_once(quality) -> None:
    process, harness, client = quality
    month = audited_month()
    a_dispensed_month(harness, month, {CLINIC: 4})
    admin, pharmacist = as_(process, Role.COUNTY_ADMIN), as_(process, Role.PHARMACY_CENTRE)
    client.post(f"/audits/{month}", headers=admin)
    base = f"/audits/{month}/facilities/{CLINIC}"
    items = client.get(base, headers=pharmacist).json()["prescriptions"]
    first, second, *rest = [i["prescription_id"] for i in items]

    def verdict(rx: str, body: dict[str, Any], who: dict[str, str] = pharmacist) -> Any:
        return client.put(f"{base}/prescriptions/{rx}", json=body, headers=who)

    wrong = verdict(first, {"verdict": "abnormal", "reasons": ["dosage_inappropriate"]})
    assert wrong.status_code == 422 and wrong.json()["error"] == "unknown_reason"
    assert "inappropriate" in wrong.json()["message"]
    assert verdict(first, {"verdict": "nonsense"}).json()["error"] == "unknown_verdict"
    assert verdict(first, {"verdict": "rational"}, admin).status_code == 403
    assert verdict("RX-NOT-SAMPLED", {"verdict": "rational"}).status_code == 404

    assert verdict(first, {"verdict": "rational"}).status_code == 200
    changed = verdict(
        first,
        {
            "verdict": "inappropriate",
            "reasons": ["dosage_inappropriate"],
            "note": "28 days of amlodipine 10 mg twice daily",
        },
    )
    assert changed.status_code == 200, changed.text
    assert [h["verdict"] for h in changed.json()["history"]] == ["rational"]
    assert changed.json()["history"][0]["decided_by"] == "PH-001"
    verdict(second, {"verdict": "abnormal", "reasons": ["no_indication"]})

    early = client.post(f"{base}/publish", headers=admin)
    assert early.status_code == 409 and early.json()["details"]["undecided"] == len(rest)
    assert f"{len(rest)} of 4" in early.json()["message"]
    for rx in rest:
        verdict(rx, {"verdict": "rational"})
    published = client.post(f"{base}/publish", headers=pharmacist)
    assert published.status_code == 200, published.text
    assert published.json()["irrational"] == 2 and published.json()["published_by"] == "PH-001"
    assert client.post(f"{base}/publish", headers=admin).json()["error"] == "already_published"
    assert verdict(first, {"verdict": "rational"}).json()["error"] == "published"

    (event,) = harness.published(COMPLETED)
    data = event.data
    assert (data.facility_id, data.month, data.prescriptions, data.sampled) == (CLINIC, month, 4, 4)
    assert (data.reviewed, data.irrational) == (4, 2)
    assert {(c.category, c.prescriptions) for c in data.categories} == {
        ("abnormal", 1),
        ("inappropriate", 1),
    }
    assert {(r.reason, r.prescriptions) for r in data.reasons} == {
        ("dosage_inappropriate", 1),
        ("no_indication", 1),
    }
    assert [(p.prescriber_id, p.sampled, p.irrational) for p in data.prescribers] == [
        ("S-T01-001", 4, 2)
    ]


def test_clinic_staff_read_only_their_own_results(quality) -> None:
    process, harness, client = quality
    month = audited_month()
    a_dispensed_month(harness, month, {HOSPITAL: 3, CLINIC: 2})
    client.post(f"/audits/{month}", headers=as_(process, Role.COUNTY_ADMIN))
    clinic = as_(process, Role.CLINIC_STAFF, CLINIC)
    own = client.get(f"/audits/{month}", headers=clinic).json()["facilities"]
    assert [f["facility_id"] for f in own] == [CLINIC]
    assert client.get(f"/audits/{month}/facilities/{CLINIC}", headers=clinic).status_code == 200
    other = client.get(f"/audits/{month}/facilities/{HOSPITAL}", headers=clinic)
    assert other.status_code == 403


def test_the_periodic_job_draws_last_month_once_it_may(quality) -> None:
    process, harness, _ = quality
    month = audited_month()
    a_dispensed_month(harness, month, {CLINIC: 3})
    base = quality_uow(process.unit_of_work())

    def on(day: date) -> QualityUnitOfWork:
        moment = base.config.clock.at(day, time(2, 0))
        config = dataclasses.replace(
            base.config, clock=CountyClock(base.config.clock.zone, now=lambda: moment)
        )
        return QualityUnitOfWork(
            process.database.sessions, source="/services/quality", config=config
        )

    following = date.fromisoformat(f"{month}-01") + timedelta(days=32)
    assert draw_due(on(following.replace(day=1))) == []  # not yet: prescriptions may be out
    assert draw_due(on(following.replace(day=4))) == [CLINIC]
    assert draw_due(on(following.replace(day=5))) == []  # drawn once
    with process.database.sessions() as session:
        (sample,) = session.scalars(select(AuditSample)).all()
        assert (sample.drawn_by, sample.sampled) == (SCHEDULER, 3)


def test_a_shared_pharmacy_dispensing_counts_as_the_clinics_prescription(quality) -> None:
    """The shared TCM pharmacy dispenses a clinic's herbal prescription under its order's id
    at the TCM hospital: the audit counts the clinic's prescription, by its prescriber."""
    process, harness, client = quality
    month = audited_month()
    herbal = PrescriptionIssuedV2(
        prescription_id="RX-HERBAL-1",
        facility_id="QS-T05",
        facility_tier=FacilityTier.PRIMARY,
        patient_pseudonym="d4" * 32,
        prescriber_id="S-T05-001",
        category=PrescriptionCategory.TCM_HERBAL,
        lines=[PrescriptionLine(line_no=1, drug_code="QSY-Y001", quantity=2, days_supply=7)],
        total_amount=Decimal("256.00"),
        issued_at=issued_in(month, 3),
        shared_pharmacy=SharedPharmacyRequest(doses=7, decoct=True, deliver_home=True),
    )
    harness.apply(event_of(herbal, source="/his/QS-T05"))
    (order,) = harness.published("quality.herbal_order.accepted.v1")
    prepared = dispensed(order.data.pharmacy_facility_id, order.data.order_id)
    result = harness.apply(event_of(prepared))
    assert not result.dead_lettered, result.dead_lettered

    client.post(f"/audits/{month}", headers=as_(process, Role.COUNTY_ADMIN))
    queue = client.get(
        f"/audits/{month}/facilities/QS-T05", headers=as_(process, Role.COUNTY_ADMIN)
    )
    (item,) = queue.json()["prescriptions"]
    assert (item["prescription_id"], item["prescriber_id"]) == ("RX-HERBAL-1", "S-T05-001")
