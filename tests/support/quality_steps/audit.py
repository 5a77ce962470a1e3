"""The monthly prescription audit (处方点评) end to end, on the running services: the county
hospital's HIS sends prescriptions issued early in a month that has ended (the admission
refuses only the future), pharmacy dispenses them, quality draws the month's sample twice
through its API and gets the same one (the one the seed ranks), a review-centre pharmacist
judges it, the results are published once, and reporting shows the irrational rate.

The month is the last one if quality may draw it already (``draw_after_days`` after it
ended, read from ``GET /audits/{month}``), else the one before: no setting is needed.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from libs.events import encode, new_event
from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionLine
from libs.events.catalogue.pharmacy import PrescriptionDispensed
from libs.events.catalogue.quality import AuditCompleted
from libs.events.catalogue.values import FacilityTier, PrescriptionCategory
from libs.events.codec import decode
from libs.platform.auth import Role
from libs.platform.clock import CountyClock
from services.quality.domain.audit import draw_sample, previous_month
from tests.support.kafka import produce, read_all, wait_for
from tests.support.services import ServiceHandle

__all__ = ["show_the_audit"]

HOSPITAL = "QS-H01"  # reviewed after dispensing: pharmacy dispenses from the HIS at once
DOCTORS = ("S-H01-001", "S-H01-002", "S-H01-003")
AMLODIPINE = "QSY-W011"
DISPENSED = "pharmacy.prescription.dispensed.v1"
PRESCRIPTIONS = 120  # above the standard's 100, so the sample is a draw, not everything
IRRATIONAL = {
    "inappropriate": ["dosage_inappropriate"],
    "non_standard": ["diagnosis_missing"],
}


def show_the_audit(running: dict[str, ServiceHandle], bootstrap: str) -> None:
    """Drive a month's audit at the county hospital through the public interfaces."""
    quality, reporting = running["quality"], running["reporting"]
    month = _drawable_month(quality)
    ids = _send_the_month(bootstrap, month)
    wait_for(
        lambda: set(ids) <= set(_dispensed(bootstrap)),
        timeout_s=180,
        what="pharmacy dispensing the month's prescriptions",
    )
    # Drawn too early, the sample would be fixed on part of the month: wait until quality
    # has handled every dispensing on the topic and reviewed every prescription (a
    # dispensing that overtook its review gets its month from the review).
    wait_for(
        lambda: _handled(quality) >= len(_dispensed(bootstrap)),
        timeout_s=180,
        what="quality recording every dispensed prescription",
    )
    wait_for(
        lambda: set(ids) <= _reviewed(quality),
        timeout_s=180,
        what="quality reviewing the month's prescriptions",
    )
    sample = _draw_twice(quality, month, ids)
    _judge(quality, month, sample)
    _publish(quality, month, len(sample))
    (event,) = wait_for(lambda: _completed(bootstrap, month), what="quality.audit.completed.v1")
    assert (event.data.sampled, event.data.irrational) == (len(sample), _irrational(sample))
    expected = (Decimal(_irrational(sample)) * 100 / len(sample)).quantize(Decimal("0.01"))
    shown = wait_for(lambda: _rate(reporting, month), what="reporting's irrational rate")
    assert shown == expected, (shown, expected)


def _drawable_month(quality: ServiceHandle) -> str:
    today = CountyClock().today()
    last = previous_month(today)
    opens = date.fromisoformat(quality.get_json(f"/audits/{last}")["drawable_from"])
    return last if opens <= today else previous_month(date.fromisoformat(f"{last}-01"))


def _send_the_month(bootstrap: str, month: str) -> list[str]:
    """The hospital's prescriptions of ``month``, issued on its first days, onto Kafka."""
    first, clock = date.fromisoformat(f"{month}-01"), CountyClock()
    prescriptions = [
        PrescriptionIssued(
            prescription_id=f"RX-AUDIT-{month}-{n:03d}",
            facility_id=HOSPITAL,
            facility_tier=FacilityTier.TERTIARY,
            patient_pseudonym=f"{n:02x}" * 32,
            prescriber_id=DOCTORS[n % len(DOCTORS)],
            category=PrescriptionCategory.WESTERN,
            lines=[PrescriptionLine(line_no=1, drug_code=AMLODIPINE, quantity=1, days_supply=7)],
            total_amount=Decimal("4.20"),
            issued_at=clock.at(first + timedelta(days=n % 5), time(9, n % 60)),
        )
        for n in range(PRESCRIPTIONS)
    ]
    records = [encode(new_event(p, source=f"/his/{HOSPITAL}")) for p in prescriptions]
    produce(bootstrap, "ingestion.prescription", records, key=HOSPITAL.encode())
    return [p.prescription_id for p in prescriptions]


def _draw_twice(quality: ServiceHandle, month: str, ids: list[str]) -> list[str]:
    """Draw the month twice (as the county's administration, then as the review centre):
    the same sample, the one the seed ranks first among the month's prescriptions."""
    with quality.client(Role.COUNTY_ADMIN) as admin:
        first = admin.post(f"/audits/{month}")
    with quality.client(Role.PHARMACY_CENTRE) as centre:
        again = centre.post(f"/audits/{month}")
        queue = centre.get(f"/audits/{month}/facilities/{HOSPITAL}").json()
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert first.json()["facilities"] == again.json()["facilities"]
    summary = queue["summary"]
    assert (summary["prescriptions"], summary["sampled"]) == (PRESCRIPTIONS, 100), summary
    sample = [item["prescription_id"] for item in queue["prescriptions"]]
    assert sample == draw_sample(summary["seed"], month, HOSPITAL, ids, 100)
    return sample


def _verdict_of(position: int) -> dict[str, Any]:
    """Every 15th prescription irrational, by turns in the two categories."""
    if position % 15:
        return {"verdict": "rational"}
    category = sorted(IRRATIONAL)[(position // 15) % 2]
    return {"verdict": category, "reasons": IRRATIONAL[category], "note": "e2e audit"}


def _irrational(sample: list[str]) -> int:
    return sum(1 for position in range(len(sample)) if position % 15 == 0)


def _judge(quality: ServiceHandle, month: str, sample: list[str]) -> None:
    base = f"/audits/{month}/facilities/{HOSPITAL}/prescriptions"
    with quality.client(Role.PHARMACY_CENTRE) as centre:
        wrong = centre.put(
            f"{base}/{sample[0]}", json={"verdict": "abnormal", "reasons": ["diagnosis_missing"]}
        )
        assert wrong.status_code == 422 and wrong.json()["error"] == "unknown_reason", wrong.text
        for position, rx in enumerate(sample):
            answer = centre.put(f"{base}/{rx}", json=_verdict_of(position))
            assert answer.status_code == 200, answer.text


def _publish(quality: ServiceHandle, month: str, sampled: int) -> None:
    path = f"/audits/{month}/facilities/{HOSPITAL}/publish"
    with quality.client(Role.PHARMACY_CENTRE) as centre:
        published = centre.post(path)
        assert published.status_code == 200, published.text
        assert published.json()["reviewed"] == sampled
        assert centre.post(path).json()["error"] == "already_published"


def _completed(bootstrap: str, month: str) -> list[Any]:
    events = [decode(r.value) for r in read_all(bootstrap, "quality.audit") if r.value]
    return [
        e
        for e in events
        if isinstance(e.data, AuditCompleted)
        and (e.data.facility_id, e.data.month) == (HOSPITAL, month)
    ]


def _rate(reporting: ServiceHandle, month: str) -> Decimal | None:
    page = reporting.get_json(
        "/indicators/irrational_prescription_rate",
        level="facility",
        unit_id=HOSPITAL,
        period_kind="month",
        period=month,
    )
    values = [item["value"] for item in page["items"] if item["value"] is not None]
    return Decimal(values[0]) if values else None


def _dispensed(bootstrap: str) -> list[str]:
    """The prescriptions pharmacy dispensed so far (any facility)."""
    events = [decode(r.value) for r in read_all(bootstrap, "pharmacy.prescription") if r.value]
    return [e.data.prescription_id for e in events if isinstance(e.data, PrescriptionDispensed)]


def _reviewed(quality: ServiceHandle) -> set[str]:
    """The county hospital's prescriptions quality has reviewed."""
    found: set[str] = set()
    with quality.client(Role.PHARMACY_CENTRE) as client:
        while True:
            page = client.get(
                "/reviews", params={"facility_id": HOSPITAL, "limit": 500, "offset": len(found)}
            ).json()
            found |= {r["prescription_id"] for r in page["items"]}
            if not page["items"] or len(found) >= page["total"]:
                return found


def _handled(quality: ServiceHandle) -> float:
    """Dispensings quality is done with: applied or refused."""
    name = "quality_events_consumed_total"
    done = ("applied", "unparked_applied", "duplicate", "dead_lettered", "unparked_dead_lettered")
    return sum(quality.metric(name, type=DISPENSED, outcome=outcome) for outcome in done)
