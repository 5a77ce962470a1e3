"""The shared TCM pharmacy (共享中药房) in the quality service, in-process on each database,
through its own handlers and API: a released herbal prescription that asked for it becomes
one order; a held one becomes an order once a pharmacist releases it; a rejected one, or one
from a facility that may not send, never does; the shared pharmacy's staff take the order
through its lifecycle (a failed delivery dispatched again), out-of-order steps get 409 with the
state, a clinic reads only its own orders, and an order past its SLA is announced once."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any

from libs.events.catalogue.ingestion import (
    PrescriptionIssuedV2,
    PrescriptionLine,
    SharedPharmacyRequest,
)
from libs.events.catalogue.values import FacilityTier, PrescriptionCategory
from libs.events.envelope import utc_now
from libs.platform.auth import Role
from libs.platform.clock import CountyClock
from libs.platform.worker import ServiceProcess
from services.quality.service_layer.shared_pharmacy import scan_overdue
from services.quality.service_layer.unit_of_work import QualityUnitOfWork, quality_uow
from tests.support.harness import HandlerHarness, event_of

ORDERS = "quality.herbal_order."
ACCEPTED, DELIVERED = ORDERS + "accepted.v1", ORDERS + "delivered.v1"
CLINIC, OTHER, TCM_HOSPITAL = "QS-T05", "QS-T06", "QS-H02"
HUANGQI, DANGGUI = "QSY-Y001", "QSY-Y002"


def herbal(
    rx: str, *drugs: str, facility: str = CLINIC, decoct: bool = True
) -> PrescriptionIssuedV2:
    """A herbal prescription of 7 doses sent to the shared pharmacy, 2 bags of each drug."""
    return PrescriptionIssuedV2(
        prescription_id=rx,
        facility_id=facility,
        facility_tier=FacilityTier.PRIMARY
        if facility.startswith("QS-T")
        else FacilityTier.SECONDARY,
        patient_pseudonym="d4" * 32,
        prescriber_id=f"S-{facility[3:]}-001",
        category=PrescriptionCategory.TCM_HERBAL,
        lines=[
            PrescriptionLine(line_no=i, drug_code=code, quantity=2, days_supply=7)
            for i, code in enumerate(drugs, 1)
        ],
        total_amount=Decimal("628.00"),
        issued_at=utc_now() - timedelta(minutes=3),
        shared_pharmacy=SharedPharmacyRequest(doses=7, decoct=decoct, deliver_home=True),
    )


def reviewed(harness: HandlerHarness, payload: PrescriptionIssuedV2) -> None:
    result = harness.apply(event_of(payload, source=f"/his/{payload.facility_id}"))
    assert not result.dead_lettered, result.dead_lettered


def orders(harness: HandlerHarness, type_name: str, rx: str, **kw: Any) -> list[Any]:
    return [e for e in harness.published(type_name, **kw) if e.data.prescription_id == rx]


def as_(process: ServiceProcess, role: Role, facility: str | None = None) -> dict[str, str]:
    token = process.token_authority.mint(subject="S-H02-009", role=role, facility_id=facility)
    return {"Authorization": f"Bearer {token}"}


def test_a_released_herbal_prescription_becomes_one_order(quality) -> None:
    process, harness, client = quality
    prescription = herbal("RX-SP-1", HUANGQI, DANGGUI)
    reviewed(harness, prescription)
    reviewed(harness, prescription)  # a resend under a new event id
    (accepted,) = orders(harness, ACCEPTED, "RX-SP-1")
    order = accepted.data
    assert (order.facility_id, order.pharmacy_facility_id) == (CLINIC, TCM_HOSPITAL)
    assert [(ln.drug_code, ln.quantity) for ln in order.lines] == [(HUANGQI, 2), (DANGGUI, 2)]
    assert (order.doses, order.decoct, order.deliver_home) == (7, True, True)
    assert (order.fees.preparation, order.fees.decoction, order.fees.delivery) == (
        Decimal("10.50"), Decimal("21.00"), Decimal("10.00"),
    )  # fmt: skip
    assert order.fees.total == Decimal("41.50")
    assert order.deliver_by - order.accepted_at == timedelta(hours=48)
    assert accepted.subject == order.order_id  # keyed by the order
    mine = client.get("/herbal-orders", headers=as_(process, Role.CLINIC_STAFF, CLINIC))
    assert [o["order_id"] for o in mine.json()["items"]] == [order.order_id]
    theirs = client.get("/herbal-orders", headers=as_(process, Role.CLINIC_STAFF, OTHER))
    assert theirs.json()["items"] == []
    peek = client.get(
        "/herbal-orders",
        params={"facility_id": CLINIC},
        headers=as_(process, Role.CLINIC_STAFF, OTHER),
    )
    assert peek.status_code == 403
    one = f"/herbal-orders/{order.order_id}"
    assert client.get(one, headers=as_(process, Role.CLINIC_STAFF, OTHER)).status_code == 404
    shown = client.get(one, headers=as_(process, Role.CLINIC_STAFF, TCM_HOSPITAL)).json()
    assert (shown["state"], shown["fees"]["total"]) == ("accepted", "41.50")


def test_the_shared_pharmacy_takes_the_order_through_its_lifecycle(quality) -> None:
    process, harness, client = quality
    reviewed(harness, herbal("RX-SP-2", HUANGQI))
    (accepted,) = orders(harness, ACCEPTED, "RX-SP-2")
    path = f"/herbal-orders/{accepted.data.order_id}"
    staff = as_(process, Role.CLINIC_STAFF, TCM_HOSPITAL)
    for who in (as_(process, Role.CLINIC_STAFF, CLINIC), as_(process, Role.COUNTY_ADMIN)):
        assert client.post(f"{path}/decoction", headers=who).status_code == 403
    early = client.post(f"{path}/delivery", headers=staff)
    assert early.status_code == 409, early.text
    assert early.json()["details"]["state"] == "accepted"
    steps = [
        ("decoction", None, "decocting"),
        ("dispatch", None, "dispatched"),
        ("delivery-failure", {"reason": "nobody_home"}, "delivery_failed"),
        ("dispatch", None, "dispatched"),
        ("delivery", None, "delivered"),
    ]
    for step, body, state in steps:
        answer = client.post(f"{path}/{step}", json=body, headers=staff)
        assert answer.status_code == 200, (step, answer.text)
        assert answer.json()["state"] == state
    assert client.post(f"{path}/dispatch", headers=staff).status_code == 409
    bad = client.post(f"{path}/delivery-failure", json={"reason": "广州"}, headers=staff)
    assert bad.status_code == 422
    published = [
        e.type.removeprefix(ORDERS) for e in harness.published() if e.type.startswith(ORDERS)
    ]
    assert published == [
        "accepted.v1", "decoction_started.v1", "dispatched.v1", "delivery_failed.v1",
        "dispatched.v1", "delivered.v1",
    ]  # fmt: skip
    (delivered,) = orders(harness, DELIVERED, "RX-SP-2")
    assert (delivered.data.attempts, delivered.data.on_time) == (2, True)
    assert delivered.data.fees.total == Decimal("41.50")
    (failed,) = orders(harness, ORDERS + "delivery_failed.v1", "RX-SP-2")
    assert (failed.data.reason, failed.data.retries_left) == ("nobody_home", 2)
    unknown = client.post("/herbal-orders/HO-NOPE/dispatch", headers=staff)
    assert unknown.status_code == 404


def test_a_held_one_is_an_order_once_released_and_a_rejected_one_never(quality) -> None:
    process, harness, client = quality
    reviewed(harness, herbal("RX-SP-HOLD", HUANGQI, HUANGQI))  # the same drug twice: held
    reviewed(harness, herbal("RX-SP-NO", DANGGUI, DANGGUI))
    assert not orders(harness, ACCEPTED, "RX-SP-HOLD") and not orders(harness, ACCEPTED, "RX-SP-NO")
    pharmacist = as_(process, Role.PHARMACY_CENTRE)
    released = client.post(f"/reviews/{CLINIC}/RX-SP-HOLD/release", json={}, headers=pharmacist)
    assert released.status_code == 200, released.text
    rejected = client.post(
        f"/reviews/{CLINIC}/RX-SP-NO/reject", json={"reason": "duplicate line"}, headers=pharmacist
    )
    assert rejected.status_code == 200, rejected.text
    assert len(orders(harness, ACCEPTED, "RX-SP-HOLD")) == 1
    assert not orders(harness, ACCEPTED, "RX-SP-NO")


def test_a_facility_that_may_not_send_is_returned_to_the_prescriber(quality) -> None:
    _, harness, _ = quality
    reviewed(harness, herbal("RX-SP-H01", HUANGQI, facility="QS-H01"))
    (rejected,) = [
        e for e in harness.published("quality.prescription.rejected.v1")
        if e.data.prescription_id == "RX-SP-H01"
    ]  # fmt: skip
    assert {f.rule for f in rejected.data.findings} == {"shared_pharmacy"}
    assert not orders(harness, ACCEPTED, "RX-SP-H01")


def test_an_order_past_its_delivery_sla_is_announced_once(quality) -> None:
    process, harness, _ = quality
    reviewed(harness, herbal("RX-SP-LATE", DANGGUI, decoct=False))
    base = quality_uow(process.unit_of_work())
    later = utc_now() + base.config.shared_pharmacy.delivery_sla + timedelta(minutes=1)
    config = dataclasses.replace(
        base.config, clock=CountyClock(base.config.clock.zone, now=lambda: later)
    )

    def uow() -> QualityUnitOfWork:
        return QualityUnitOfWork(
            process.database.sessions, source="/services/quality", config=config
        )

    (accepted,) = orders(harness, ACCEPTED, "RX-SP-LATE")
    assert scan_overdue(uow()) == [accepted.data.order_id]
    assert scan_overdue(uow()) == []
    (late,) = orders(harness, ORDERS + "delivery_sla_breached.v1", "RX-SP-LATE", as_of=later)
    assert (late.data.state, late.data.deliver_by) == ("accepted", accepted.data.deliver_by)
