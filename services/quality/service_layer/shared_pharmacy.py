"""The shared TCM pharmacy's orders (共享中药房): accepted when the review releases a herbal
prescription that asked for it, advanced by the shared pharmacy's staff over the admin API,
and announced once when past their delivery SLA.

The review decides first: a request from a facility that may not send to the shared pharmacy
is returned to the prescriber (a ``shared_pharmacy`` finding), and a rejected prescription
never becomes an order. Each released prescription becomes one order at most (the business
identity: facility and prescription), however often its release is replayed.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from libs.events.catalogue.quality import (
    FindingSeverity,
    HerbalDecoctionStarted,
    HerbalDeliveryFailed,
    HerbalDeliveryOverdue,
    HerbalOrderAccepted,
    HerbalOrderDelivered,
    HerbalOrderDispatched,
    HerbalOrderFees,
    HerbalOrderLine,
)
from libs.events.catalogue.values import PrescriptionCategory
from libs.events.payload import Payload
from libs.events.unit_of_work import UnitOfWork
from libs.platform.refusals import Conflict, NotFound
from services.quality.adapters.schema import HerbalOrderRow, Review
from services.quality.domain.prescription import Finding, Verdict, outcome_of
from services.quality.domain.shared_pharmacy import (
    HerbalOrder,
    InvalidStep,
    OrderState,
    SharedPharmacyConfig,
    fees_for,
)
from services.quality.service_layer.unit_of_work import QualityUnitOfWork, quality_uow

__all__ = [
    "STEPS",
    "accept_if_requested",
    "advance",
    "scan_overdue",
    "with_admission",
]

RULE = "shared_pharmacy"


def with_admission(
    verdict: Verdict, prescription: Payload, config: SharedPharmacyConfig
) -> Verdict:
    """``verdict``, with the prescription returned to its prescriber when it asks for the
    shared pharmacy from a facility that may not send to it (nobody would prepare it)."""
    if _request(prescription.model_dump(mode="json")) is None:
        return verdict
    facility_id = str(getattr(prescription, "facility_id", ""))
    if config.may_send(facility_id):
        return verdict
    finding = Finding(
        RULE,
        FindingSeverity.REJECT,
        None,
        f"{facility_id} may not send prescriptions to the shared TCM pharmacy "
        f"({config.pharmacy_facility_id}): dispense it at the clinic or refer the patient",
    )
    findings = (*verdict.findings, finding)
    return dataclasses.replace(verdict, findings=findings, outcome=outcome_of(findings))


def accept_if_requested(uow: UnitOfWork, review: Review, at: datetime) -> HerbalOrderRow | None:
    """The order of a released herbal prescription that asked for the shared pharmacy (once
    per prescription), announced for pharmacy to prepare from the shared pharmacy's stock."""
    request = _request(review.prescription)
    if request is None:
        return None
    work = quality_uow(uow)
    config = work.config.shared_pharmacy
    if not config.may_send(review.facility_id) or _order_of(work, review) is not None:
        return None
    row = _new_order(review, request, config, at)
    work.session.add(row)
    work.session.flush()
    work.publish(
        HerbalOrderAccepted(
            **_ref(row),
            patient_pseudonym=row.patient_pseudonym,
            lines=[HerbalOrderLine.model_validate(line) for line in row.lines],
            doses=row.doses,
            decoct=row.decoct,
            deliver_home=row.deliver_home,
            fees=_fees(row),
            accepted_at=at,
            deliver_by=_utc(row.deliver_by),
        )
    )
    return row


def _request(prescription: dict[str, Any]) -> dict[str, Any] | None:
    request = prescription.get("shared_pharmacy")
    if not request or prescription.get("category") != PrescriptionCategory.TCM_HERBAL.value:
        return None
    return dict(request)


def _order_of(uow: QualityUnitOfWork, review: Review) -> HerbalOrderRow | None:
    return uow.session.scalars(
        select(HerbalOrderRow).where(
            HerbalOrderRow.facility_id == review.facility_id,
            HerbalOrderRow.prescription_id == review.prescription_id,
        )
    ).first()


def _new_order(
    review: Review, request: dict[str, Any], config: SharedPharmacyConfig, at: datetime
) -> HerbalOrderRow:
    doses, decoct, deliver_home = (
        int(request["doses"]),
        bool(request.get("decoct", True)),
        bool(request.get("deliver_home", True)),
    )
    fees = fees_for(config.tariff, doses, decoct=decoct, deliver_home=deliver_home)
    prescription = review.prescription
    return HerbalOrderRow(
        order_id=f"HO-{uuid.uuid4().hex}",
        facility_id=review.facility_id,
        prescription_id=review.prescription_id,
        pharmacy_facility_id=config.pharmacy_facility_id,
        patient_pseudonym=prescription["patient_pseudonym"],
        # The line's quantity is the whole course in the formulary's packs (the HIS prices the
        # prescription from it); the doses count the preparation and decoction work.
        lines=[
            {"line_no": ln["line_no"], "drug_code": ln["drug_code"], "quantity": ln["quantity"]}
            for ln in prescription["lines"]
        ],
        doses=doses,
        decoct=decoct,
        deliver_home=deliver_home,
        preparation_fee=fees.preparation,
        decoction_fee=fees.decoction,
        delivery_fee=fees.delivery,
        state=OrderState.ACCEPTED.value,
        attempts=0,
        accepted_at=at,
        deliver_by=at + config.delivery_sla,
    )


# --- the shared pharmacy's steps ------------------------------------------------------------

#: The API's step names.
STEPS = ("decoction", "dispatch", "delivery", "delivery-failure")


def advance(
    uow: QualityUnitOfWork, order_id: str, step: str, actor: str, reason: str | None = None
) -> HerbalOrderRow:
    """Take one step of the order's lifecycle and announce it; 404 for an unknown order, 409
    (with the order's state) for a step its state does not allow."""
    now = uow.config.now()
    with uow:
        row = uow.session.get(HerbalOrderRow, order_id, with_for_update=True)
        if row is None:
            raise NotFound("unknown_order", f"no shared-pharmacy order {order_id[:64]!r}")
        order = _aggregate(row, uow.config.shared_pharmacy)
        try:
            event = _take(order, row, step, now, reason, actor)
        except InvalidStep as refused:
            raise Conflict(
                refused.code, refused.message, details={"state": refused.state.value}
            ) from None
        row.state, row.attempts, row.updated_by = order.state.value, order.attempts, actor
        uow.publish(event)
        uow.commit()
        return row


def _take(
    order: HerbalOrder,
    row: HerbalOrderRow,
    step: str,
    now: datetime,
    reason: str | None,
    actor: str,
) -> Payload:
    if step == "decoction":
        order.start_decoction()
        row.decoction_started_at = now
        return HerbalDecoctionStarted(
            **_ref(row),
            accepted_at=_utc(row.accepted_at),
            started_at=now,
            started_by=actor,
        )
    if step == "dispatch":
        attempt = order.dispatch()
        row.dispatched_at = now
        return HerbalOrderDispatched(
            **_ref(row), attempt=attempt, dispatched_at=now, deliver_by=_utc(row.deliver_by)
        )
    if step == "delivery":
        on_time = order.deliver(now)
        row.delivered_at = now
        return HerbalOrderDelivered(
            **_ref(row),
            doses=row.doses,
            fees=_fees(row),
            attempts=order.attempts,
            accepted_at=_utc(row.accepted_at),
            deliver_by=_utc(row.deliver_by),
            delivered_at=now,
            on_time=on_time,
        )
    if step != "delivery-failure":
        raise ValueError(f"unknown step {step!r}; expected one of {', '.join(STEPS)}")
    retries_left = order.fail_delivery()
    row.failed_at, row.failure_reason = now, reason
    return HerbalDeliveryFailed(
        **_ref(row),
        attempt=order.attempts,
        reason=reason or "not_given",
        retries_left=retries_left,
        failed_at=now,
    )


def scan_overdue(uow: QualityUnitOfWork) -> list[str]:
    """Announce every order not delivered by its ``deliver_by``, once; returns their ids."""
    now = uow.config.now()
    announced = []
    with uow:
        late = uow.session.scalars(
            select(HerbalOrderRow).where(
                HerbalOrderRow.state != OrderState.DELIVERED.value,
                HerbalOrderRow.deliver_by < now,
                HerbalOrderRow.overdue_at.is_(None),
            )
        ).all()
        for row in late:
            marked = uow.session.execute(
                update(HerbalOrderRow)
                .where(HerbalOrderRow.order_id == row.order_id, HerbalOrderRow.overdue_at.is_(None))
                .values(overdue_at=now)
            )
            if not getattr(marked, "rowcount", 0):
                continue  # another process announced it
            uow.publish(
                HerbalDeliveryOverdue(
                    **_ref(row),
                    state=row.state,
                    accepted_at=_utc(row.accepted_at),
                    deliver_by=_utc(row.deliver_by),
                    detected_at=now,
                )
            )
            announced.append(row.order_id)
        uow.commit()
    return announced


def _aggregate(row: HerbalOrderRow, config: SharedPharmacyConfig) -> HerbalOrder:
    return HerbalOrder(
        order_id=row.order_id,
        state=OrderState(row.state),
        decoct=row.decoct,
        attempts=row.attempts,
        retries=config.retries,
        deliver_by=_utc(row.deliver_by),
    )


def _ref(row: HerbalOrderRow) -> dict[str, str]:
    return {
        "order_id": row.order_id,
        "prescription_id": row.prescription_id,
        "facility_id": row.facility_id,
        "pharmacy_facility_id": row.pharmacy_facility_id,
    }


def _fees(row: HerbalOrderRow) -> HerbalOrderFees:
    return HerbalOrderFees(
        preparation=row.preparation_fee,
        decoction=row.decoction_fee,
        delivery=row.delivery_fee,
        total=row.preparation_fee + row.decoction_fee + row.delivery_fee,
    )


def _utc(value: datetime) -> datetime:
    """``value`` zone-aware: SQLite hands back naive datetimes, stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
