"""Transfer orders (调拨) between members: requesting, approving, rejecting, cancelling.

Each step is one unit of work and one event. The state machine refuses a step taken twice,
and the order's row is locked for the step, so concurrent or repeated commands are refused
rather than applied twice. Shipping and receiving, which move stock, are in ``shipping.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select

from libs.directory import KnownFacility
from libs.events.catalogue.pharmacy import (
    TransferApproved,
    TransferCancelled,
    TransferLine,
    TransferReason,
    TransferRejected,
    TransferRequested,
)
from libs.events.catalogue.values import FacilityTier, FacilityType
from services.pharmacy.adapters.schema import TransferLineRow, TransferRow
from services.pharmacy.domain.formulary import refusal_for
from services.pharmacy.domain.stock import available
from services.pharmacy.domain.transfers import (
    InvalidQuantities,
    InvalidTransition,
    TransferState,
    approved_quantities,
    beyond_stock,
    check_transition,
)
from services.pharmacy.service_layer.errors import Conflict, Invalid, NotFound
from services.pharmacy.service_layer.formulary import require_drug
from services.pharmacy.service_layer.ids import new_id
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = [
    "TransferRequest",
    "approve_transfer",
    "cancel_transfer",
    "locked_transfer",
    "open_transfer",
    "reject_transfer",
    "request_transfer",
    "require_member",
    "take_step",
    "transfer_lines",
    "transfer_ref",
]


@dataclass(frozen=True)
class TransferRequest:
    from_facility_id: str
    to_facility_id: str
    reason: TransferReason
    quantities: Mapping[str, int]
    requested_by: str
    referral_id: str | None = None


def require_member(uow: PharmacyUnitOfWork, facility_id: str) -> KnownFacility:
    """The facility named in a request, or 422 when it is not a member known here."""
    facility = uow.directory.get(facility_id)
    if facility is None or not facility.active:
        raise Invalid("unknown_facility", f"facility {facility_id} is not a member")
    return facility


def open_transfer(uow: PharmacyUnitOfWork, request: TransferRequest) -> TransferRequested:
    """Create a requested order inside the caller's open unit of work (also used by the
    re-order point and referral reservations) and publish it."""
    now = uow.now()
    transfer_id = new_id("TRF")
    lines: list[TransferLine] = []
    for drug_code, quantity in sorted(request.quantities.items()):
        price = require_drug(uow, drug_code, in_body=True).unit_price
        lines.append(TransferLine(drug_code=drug_code, quantity=quantity, unit_price=price))
        uow.session.add(
            TransferLineRow(
                transfer_id=transfer_id,
                drug_code=drug_code,
                unit_price=price,
                quantity_requested=quantity,
            )
        )
    uow.session.add(
        TransferRow(
            transfer_id=transfer_id,
            from_facility_id=request.from_facility_id,
            to_facility_id=request.to_facility_id,
            reason=request.reason.value,
            state=TransferState.REQUESTED.value,
            referral_id=request.referral_id,
            requested_by=request.requested_by,
            requested_at=now,
        )
    )
    event = TransferRequested(
        transfer_id=transfer_id,
        from_facility_id=request.from_facility_id,
        to_facility_id=request.to_facility_id,
        reason=request.reason,
        lines=lines,
        referral_id=request.referral_id,
        requested_at=now,
    )
    uow.publish(event)
    return event


def request_transfer(uow: PharmacyUnitOfWork, request: TransferRequest) -> TransferRequested:
    """A pharmacist or a clinic asks for stock to move from one member to another."""
    if request.from_facility_id == request.to_facility_id:
        raise Invalid("same_facility", "a transfer moves stock between two facilities")
    if not request.quantities:
        raise Invalid("no_lines", "a transfer needs at least one drug")
    with uow:
        require_member(uow, request.from_facility_id)
        receiver = require_member(uow, request.to_facility_id)
        for drug_code in sorted(request.quantities):
            drug = require_drug(uow, drug_code, in_body=True)
            refusal = refusal_for(
                drug, FacilityTier(receiver.tier), FacilityType(receiver.facility_type)
            )
            if refusal is not None:
                error = Conflict if refusal.reason.value == "delisted" else Invalid
                raise error(refusal.reason.value, f"{receiver.facility_id}: {refusal.detail}")
        event = open_transfer(uow, request)
        uow.commit()
        return event


def locked_transfer(uow: PharmacyUnitOfWork, transfer_id: str) -> TransferRow:
    """The order's row, locked for this step (a concurrent step waits, then is refused)."""
    row = uow.session.scalar(
        select(TransferRow).where(TransferRow.transfer_id == transfer_id).with_for_update()
    )
    if row is None:
        raise NotFound("unknown_transfer", f"transfer {transfer_id} does not exist")
    return row


def take_step(row: TransferRow, target: TransferState) -> None:
    """Move the order to ``target``, or 409 when its lifecycle does not allow it."""
    try:
        check_transition(TransferState(row.state), target)
    except InvalidTransition as exc:
        raise Conflict("invalid_transition", str(exc)) from None
    row.state = target.value


def transfer_lines(uow: PharmacyUnitOfWork, transfer_id: str) -> list[TransferLineRow]:
    """The order's drugs, by code."""
    return list(
        uow.session.scalars(
            select(TransferLineRow)
            .where(TransferLineRow.transfer_id == transfer_id)
            .order_by(TransferLineRow.drug_code)
        )
    )


def transfer_ref(row: TransferRow) -> dict[str, str]:
    """The fields every transfer event starts with."""
    return {
        "transfer_id": row.transfer_id,
        "from_facility_id": row.from_facility_id,
        "to_facility_id": row.to_facility_id,
    }


def approve_transfer(
    uow: PharmacyUnitOfWork, transfer_id: str, quantities: Mapping[str, int] | None = None
) -> TransferApproved:
    """The central pharmacy approves, as requested or with less of some drugs."""
    with uow:
        row = locked_transfer(uow, transfer_id)
        take_step(row, TransferState.APPROVED)
        lines = transfer_lines(uow, transfer_id)
        requested = {line.drug_code: line.quantity_requested for line in lines}
        try:
            approved = approved_quantities(requested, quantities)
        except InvalidQuantities as exc:
            raise Invalid("invalid_quantities", str(exc)) from None
        for line in lines:
            if line.drug_code in approved and not require_drug(uow, line.drug_code).listed:
                raise Conflict("delisted", f"{line.drug_code} was delisted; approve without it")
        short = beyond_stock(approved, _on_offer(uow, row, approved))
        if short:
            raise Conflict(
                "insufficient_stock",
                f"{row.from_facility_id} cannot supply all of it; on offer: "
                + ", ".join(f"{code} {q}" for code, q in short.items()),
                details={"available": short},
            )
        for line in lines:
            line.quantity_approved = approved.get(line.drug_code, 0)
        now = uow.now()
        row.approved_at = now
        event = TransferApproved(
            **transfer_ref(row),
            lines=[
                TransferLine(
                    drug_code=line.drug_code,
                    quantity=approved[line.drug_code],
                    unit_price=line.unit_price,
                )
                for line in lines
                if line.drug_code in approved
            ],
            approved_at=now,
        )
        uow.publish(event)
        uow.commit()
        return event


def _on_offer(
    uow: PharmacyUnitOfWork, row: TransferRow, drugs: Mapping[str, int]
) -> dict[str, int]:
    """What the sender can still offer of ``drugs``: usable stock less what its other
    approved, not yet shipped transfers will take."""
    sender, today = row.from_facility_id, uow.today()
    lots = uow.stock.lots(sender, drugs)
    held = uow.stock.reserved_by_drug(sender, drugs)
    query = (
        select(TransferLineRow.drug_code, func.sum(TransferLineRow.quantity_approved))
        .join(TransferRow, TransferRow.transfer_id == TransferLineRow.transfer_id)
        .where(
            TransferRow.from_facility_id == sender,
            TransferRow.state == TransferState.APPROVED.value,
            TransferRow.transfer_id != row.transfer_id,
            TransferLineRow.drug_code.in_(sorted(drugs)),
        )
        .group_by(TransferLineRow.drug_code)
    )
    promised = {code: int(total or 0) for code, total in uow.session.execute(query)}
    return {
        drug: available(lots[drug], today, held_back=held[drug]) - promised.get(drug, 0)
        for drug in drugs
    }


def reject_transfer(uow: PharmacyUnitOfWork, transfer_id: str, reason: str) -> TransferRejected:
    with uow:
        row = locked_transfer(uow, transfer_id)
        take_step(row, TransferState.REJECTED)
        now = uow.now()
        row.closed_at, row.close_reason = now, reason
        event = TransferRejected(**transfer_ref(row), reason=reason, rejected_at=now)
        uow.publish(event)
        uow.commit()
        return event


def cancel_transfer(uow: PharmacyUnitOfWork, transfer_id: str, reason: str) -> TransferCancelled:
    with uow:
        row = locked_transfer(uow, transfer_id)
        take_step(row, TransferState.CANCELLED)
        now = uow.now()
        row.closed_at, row.close_reason = now, reason
        event = TransferCancelled(**transfer_ref(row), reason=reason, cancelled_at=now)
        uow.publish(event)
        uow.commit()
        return event
