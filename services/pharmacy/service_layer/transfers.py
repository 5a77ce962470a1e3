"""Transfer orders (调拨) between members: requesting, approving, rejecting, cancelling.

Each step is one unit of work and one event. The state machine refuses a step taken twice,
and the order's row is locked for the step, so concurrent or repeated commands are refused
rather than applied twice. Shipping and receiving, which move stock, are in ``shipping.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
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
from services.pharmacy.domain.transfers import (
    InvalidQuantities,
    InvalidTransition,
    Shortfall,
    Transfer,
    TransferState,
)
from services.pharmacy.service_layer.availability import available_by_drug
from services.pharmacy.service_layer.errors import Conflict, Invalid, NotFound
from services.pharmacy.service_layer.formulary import require_drug
from services.pharmacy.service_layer.ids import new_id
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = [
    "TransferRequest",
    "approve_transfer",
    "cancel_transfer",
    "lifecycle_errors",
    "locked_transfer",
    "open_transfer",
    "refuse_delisted",
    "reject_transfer",
    "request_transfer",
    "require_member",
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


def locked_transfer(uow: PharmacyUnitOfWork, transfer_id: str) -> Transfer:
    """The order, locked for this step (a concurrent step waits, then is refused)."""
    transfer = uow.transfers.lock(transfer_id)
    if transfer is None:
        raise NotFound("unknown_transfer", f"transfer {transfer_id} does not exist")
    return transfer


@contextmanager
def lifecycle_errors() -> Iterator[None]:
    """The order's refusals as the API's: a step its lifecycle does not allow is a 409,
    quantities that do not fit it a 422."""
    try:
        yield
    except InvalidTransition as exc:
        raise Conflict("invalid_transition", str(exc)) from None
    except InvalidQuantities as exc:
        raise Invalid("invalid_quantities", str(exc)) from None


def refuse_delisted(uow: PharmacyUnitOfWork, drug_codes: Iterable[str], step: str) -> None:
    """A drug delisted since the request cannot be approved or shipped (do it without it)."""
    codes = list(drug_codes)
    drugs = uow.records.drugs(codes)
    for drug_code in codes:
        if drug_code not in drugs:
            raise NotFound("unknown_drug", f"drug {drug_code} is not in the formulary")
        if not drugs[drug_code].listed:
            raise Conflict("delisted", f"{drug_code} was delisted; {step} without it")


def approve_transfer(
    uow: PharmacyUnitOfWork, transfer_id: str, quantities: Mapping[str, int] | None = None
) -> TransferApproved:
    """The central pharmacy approves, as requested or with less of some drugs."""
    with uow:
        transfer = locked_transfer(uow, transfer_id)
        with lifecycle_errors():
            approved = transfer.to_approve(quantities)
        refuse_delisted(uow, [code for code in transfer.lines if code in approved], "approve")
        now = uow.now()
        try:
            transfer.approve(approved, _on_offer(uow, transfer, approved), now)
        except Shortfall as exc:
            raise Conflict(
                "insufficient_stock",
                f"{transfer.from_facility_id} cannot supply all of it; on offer: {exc}",
                details={"available": exc.available},
            ) from None
        uow.transfers.save(transfer)
        event = TransferApproved(
            **transfer.ref(),
            lines=[
                TransferLine(drug_code=code, quantity=approved[code], unit_price=line.unit_price)
                for code, line in transfer.lines.items()
                if code in approved
            ],
            approved_at=now,
        )
        uow.publish(event)
        uow.commit()
        return event


def _on_offer(
    uow: PharmacyUnitOfWork, transfer: Transfer, drugs: Mapping[str, int]
) -> dict[str, int]:
    """What the sender can still offer of ``drugs``: usable stock less what its other
    approved, not yet shipped transfers will take."""
    sender = transfer.from_facility_id
    query = (
        select(TransferLineRow.drug_code, func.sum(TransferLineRow.quantity_approved))
        .join(TransferRow, TransferRow.transfer_id == TransferLineRow.transfer_id)
        .where(
            TransferRow.from_facility_id == sender,
            TransferRow.state == TransferState.APPROVED.value,
            TransferRow.transfer_id != transfer.transfer_id,
            TransferLineRow.drug_code.in_(sorted(drugs)),
        )
        .group_by(TransferLineRow.drug_code)
    )
    promised = {code: int(total or 0) for code, total in uow.session.execute(query)}
    usable = available_by_drug(uow, sender, drugs)
    return {drug: usable[drug] - promised.get(drug, 0) for drug in drugs}


def reject_transfer(uow: PharmacyUnitOfWork, transfer_id: str, reason: str) -> TransferRejected:
    with uow:
        transfer = locked_transfer(uow, transfer_id)
        now = uow.now()
        with lifecycle_errors():
            transfer.close(TransferState.REJECTED, reason, now)
        uow.transfers.save(transfer)
        event = TransferRejected(**transfer.ref(), reason=reason, rejected_at=now)
        uow.publish(event)
        uow.commit()
        return event


def cancel_transfer(uow: PharmacyUnitOfWork, transfer_id: str, reason: str) -> TransferCancelled:
    with uow:
        transfer = locked_transfer(uow, transfer_id)
        now = uow.now()
        with lifecycle_errors():
            transfer.close(TransferState.CANCELLED, reason, now)
        uow.transfers.save(transfer)
        event = TransferCancelled(**transfer.ref(), reason=reason, cancelled_at=now)
        uow.publish(event)
        uow.commit()
        return event
