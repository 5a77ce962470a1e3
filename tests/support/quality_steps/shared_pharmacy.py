"""The shared TCM pharmacy (共享中药房) end to end, on the running services: a township
centre's HIS sends a herbal prescription (``.v2``) for the shared pharmacy, the review
releases it and quality accepts the order, pharmacy issues the herbs from the TCM hospital's
stock (the clinic's shelf untouched), the TCM hospital's staff decoct, dispatch, fail one
delivery (nobody home), dispatch again and deliver over quality's API, finance settles the fee
from the clinic to the TCM hospital once (a resend of the delivery changes nothing), and
reporting counts the delivery on time.

Needs staffing, pharmacy, finance, reporting and quality running with the repository's
configuration (``infra/quality/shared-pharmacy.yaml``: QS-H02 the shared pharmacy, a 48-hour
SLA, so the delivery minutes later is on time); no setting is needed.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from libs.events import encode, new_event
from libs.events.catalogue.ingestion import (
    PrescriptionIssuedV2,
    PrescriptionLine,
    SharedPharmacyRequest,
)
from libs.events.catalogue.values import FacilityTier, PrescriptionCategory
from libs.events.codec import decode
from libs.events.envelope import utc_now
from libs.platform.auth import Role
from tests.support.kafka import produce, read_all, wait_for
from tests.support.services import ServiceHandle

__all__ = ["show_the_shared_pharmacy"]

CLINIC, DOCTOR, TCM_HOSPITAL = "QS-T05", "S-T05-001", "QS-H02"
HUANGQI, DANGGUI = "QSY-Y001", "QSY-Y002"  # stocked at the TCM hospital (opening stock)
BAGS = {HUANGQI: 2, DANGGUI: 1}  # 1 kg bags for the whole course
DOSES = 7
FEE = Decimal("41.50")  # 7 × 1.50 preparation + 7 × 3.00 decoction + 10.00 delivery
RX = "RX-SP-E2E-1"
ORDERS = "quality.herbal_order"


def show_the_shared_pharmacy(running: dict[str, ServiceHandle], bootstrap: str) -> None:
    """Drive one herbal prescription through the shared pharmacy's whole lifecycle."""
    pharmacy, quality = running["pharmacy"], running["quality"]
    _wait_until_ready(pharmacy, quality)
    before = {code: _on_hand(pharmacy, TCM_HOSPITAL, code) for code in BAGS}
    clinic_before = {code: _on_hand(pharmacy, CLINIC, code) for code in BAGS}
    _send_prescription(bootstrap)
    order = wait_for(lambda: _order(quality), timeout_s=120, what="quality accepting the order")
    assert order["state"] == "accepted" and order["pharmacy_facility_id"] == TCM_HOSPITAL
    assert Decimal(str(order["fees"]["total"])) == FEE
    wait_for(
        lambda: all(_on_hand(pharmacy, TCM_HOSPITAL, c) == before[c] - n for c, n in BAGS.items()),
        timeout_s=120,
        what="pharmacy issuing the herbs from the TCM hospital's stock",
    )
    issued = _dispensed(bootstrap, order["order_id"])
    assert [(e.data.facility_id, e.data.complete) for e in issued] == [(TCM_HOSPITAL, True)]
    assert not _dispensed(bootstrap, RX), "the clinic must not dispense the herbs"
    assert {code: _on_hand(pharmacy, CLINIC, code) for code in BAGS} == clinic_before
    _drive_the_lifecycle(quality, order["order_id"])
    _settled_once(running["finance"], bootstrap, order["order_id"])
    _counted_on_time(running["reporting"])


def _wait_until_ready(pharmacy: ServiceHandle, quality: ServiceHandle) -> None:
    wait_for(
        lambda: pharmacy.metric("pharmacy_events_consumed_total", topic="quality.policy") >= 1,
        what="pharmacy's copy of the review policy",
    )
    wait_for(
        lambda: (
            quality.metric(
                "quality_events_consumed_total", topic="staffing.staff", outcome="applied"
            )
            >= 48
        ),
        what="quality's prescribers",
    )
    wait_for(lambda: _on_hand(pharmacy, TCM_HOSPITAL, HUANGQI) >= 10, what="the opening stock")


def _send_prescription(bootstrap: str) -> None:
    prescription = PrescriptionIssuedV2(
        prescription_id=RX,
        facility_id=CLINIC,
        facility_tier=FacilityTier.PRIMARY,
        patient_pseudonym="e5" * 32,
        prescriber_id=DOCTOR,
        category=PrescriptionCategory.TCM_HERBAL,
        lines=[
            PrescriptionLine(line_no=i, drug_code=code, quantity=n, days_supply=DOSES)
            for i, (code, n) in enumerate(BAGS.items(), 1)
        ],
        total_amount=Decimal("442.00"),  # 2 × 128.00 + 186.00, as the HIS priced the bags
        issued_at=utc_now() - timedelta(minutes=2),
        shared_pharmacy=SharedPharmacyRequest(doses=DOSES, decoct=True, deliver_home=True),
    )
    event = new_event(prescription, source=f"/his/{CLINIC}")
    produce(bootstrap, "ingestion.prescription", [encode(event)], key=CLINIC.encode())


def _order(quality: ServiceHandle) -> dict[str, Any] | None:
    """The clinic's order for the prescription, as the clinic's staff see it."""
    with quality.client(Role.CLINIC_STAFF, CLINIC) as client:
        answer = client.get("/herbal-orders")
    if answer.status_code != 200:
        return None
    found = [o for o in answer.json()["items"] if o["prescription_id"] == RX]
    return found[0] if found else None


def _on_hand(pharmacy: ServiceHandle, facility: str, drug: str) -> int:
    with pharmacy.client(Role.PHARMACY_CENTRE) as client:
        answer = client.get(f"/stock/{facility}/drugs/{drug}")
    return int(answer.json()["on_hand"]) if answer.status_code == 200 else 0


def _dispensed(bootstrap: str, prescription_id: str) -> list[Any]:
    found = (decode(r.value) for r in read_all(bootstrap, "pharmacy.prescription") if r.value)
    return [
        e
        for e in found
        if e.type == "pharmacy.prescription.dispensed.v1"
        and getattr(e.data, "prescription_id", None) == prescription_id
    ]


def _drive_the_lifecycle(quality: ServiceHandle, order_id: str) -> None:
    """The TCM hospital's staff: a step out of order is refused with the state, then the
    whole lifecycle with one failed delivery; the clinic may not take a step."""
    path = f"/herbal-orders/{order_id}"
    with quality.client(Role.CLINIC_STAFF, CLINIC) as clinic:
        assert clinic.post(f"{path}/decoction").status_code == 403
    with quality.client(Role.CLINIC_STAFF, TCM_HOSPITAL) as staff:
        early = staff.post(f"{path}/delivery")
        assert early.status_code == 409 and early.json()["details"]["state"] == "accepted"
        for step, body, state in (
            ("decoction", None, "decocting"),
            ("dispatch", None, "dispatched"),
            ("delivery-failure", {"reason": "nobody_home"}, "delivery_failed"),
            ("dispatch", None, "dispatched"),
            ("delivery", None, "delivered"),
        ):
            answer = staff.post(f"{path}/{step}", json=body)
            assert answer.status_code == 200, (step, answer.text)
            assert answer.json()["state"] == state


def _settled_once(finance: ServiceHandle, bootstrap: str, order_id: str) -> None:
    def entries() -> list[Any]:
        with finance.client(Role.FINANCE_CENTRE) as client:
            journal = client.get("/ledger/journal", params={"entry_type": "shared_pharmacy_fee"})
        items = journal.json()["items"] if journal.status_code == 200 else []
        return [e for e in items if order_id in e.get("memo", "")]

    (entry,) = wait_for(entries, timeout_s=120, what="finance settling the order's fee")
    booked = {(ln["facility_id"], Decimal(str(ln["debit"])), Decimal(str(ln["credit"])))
              for ln in entry["lines"]}  # fmt: skip
    assert (CLINIC, FEE, Decimal("0.00")) in booked  # the clinic's expense
    assert (TCM_HOSPITAL, Decimal("0.00"), FEE) in booked  # the hospital's earning
    (delivered,) = [
        e
        for e in (decode(r.value) for r in read_all(bootstrap, ORDERS) if r.value)
        if e.type == f"{ORDERS}.delivered.v1" and getattr(e.data, "order_id", None) == order_id
    ]
    resent = new_event(delivered.data, source=delivered.source)  # the same fact, a new id
    skipped = _duplicates(finance)
    produce(bootstrap, ORDERS, [encode(resent)], key=order_id.encode())
    wait_for(lambda: _duplicates(finance) > skipped, what="finance skipping the resend")
    assert len(entries()) == 1, "the order must be settled once"


def _duplicates(finance: ServiceHandle) -> float:
    """Records of the orders' topic finance recognised as a fact it had applied already."""
    return finance.metric("finance_events_consumed_total", topic=ORDERS, outcome="duplicate")


def _counted_on_time(reporting: ServiceHandle) -> None:
    def cell() -> dict[str, Any] | None:
        with reporting.client(Role.COUNTY_ADMIN) as client:
            answer = client.get(
                "/indicators/herbal_delivery_on_time_rate",
                params={"level": "facility", "unit_id": CLINIC, "period_kind": "day"},
            )
        items = answer.json()["items"] if answer.status_code == 200 else []
        return items[0] if items and Decimal(str(items[0]["denominator"])) >= 1 else None

    counted = wait_for(cell, timeout_s=120, what="reporting counting the delivery")
    assert Decimal(str(counted["value"])) == Decimal("100.00")
