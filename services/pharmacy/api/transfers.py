"""Admin HTTP for transfer orders (调拨) and surplus-to-shortage moves (余缺调度).

The pharmacy centre requests, approves, rejects, ships and receives anything; clinic staff
request stock for their own facility, ship what leaves it, receive what arrives at it and
cancel their own requests.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select

from libs.events.catalogue.pharmacy import TransferReason
from libs.events.payload import Code, Count, Identifier, Quantity
from libs.platform.auth import Principal, Role
from libs.platform.http.errors import ApiError
from libs.platform.http.pagination import Page, PageDep
from services.pharmacy.adapters.schema import TransferLineRow, TransferLotRow, TransferRow
from services.pharmacy.api.deps import (
    PharmacyCentre,
    PharmacyUow,
    StockKeeper,
    StockReader,
    act_for,
)
from services.pharmacy.domain.transfers import TransferState
from services.pharmacy.service_layer import shipping, transfers
from services.pharmacy.service_layer.replenishment import central_pharmacy_of

router = APIRouter(prefix="/transfers", tags=["transfers"])


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drug_code: Identifier
    quantity: Quantity


class QuantityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drug_code: Identifier
    quantity: Count = Field(description="0 drops the drug from the order.")


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_facility_id: Identifier
    from_facility_id: Identifier | None = Field(
        default=None, description="Default: the central pharmacy of the receiver's community."
    )
    reason: TransferReason = TransferReason.MANUAL
    lines: list[LineIn] = Field(min_length=1, max_length=200)


class QuantitiesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[QuantityIn] | None = Field(
        default=None, max_length=200, description="Less of some drugs; omitted: all of it."
    )

    def quantities(self) -> dict[str, int] | None:
        if self.lines is None:
            return None
        result: dict[str, int] = {}
        for line in self.lines:
            if line.drug_code in result:
                raise ApiError(422, "duplicate_line", f"{line.drug_code} appears twice")
            result[line.drug_code] = line.quantity
        return result


def _quantities(body: QuantitiesIn | None) -> dict[str, int] | None:
    return body.quantities() if body is not None else None


class ClosingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Code


def _view(uow: PharmacyUow, row: TransferRow) -> dict[str, Any]:
    lines = uow.session.scalars(
        select(TransferLineRow)
        .where(TransferLineRow.transfer_id == row.transfer_id)
        .order_by(TransferLineRow.drug_code)
    )
    lots = uow.session.scalars(
        select(TransferLotRow)
        .where(TransferLotRow.transfer_id == row.transfer_id)
        .order_by(TransferLotRow.drug_code, TransferLotRow.id)
    )
    return {
        "transfer_id": row.transfer_id,
        "from_facility_id": row.from_facility_id,
        "to_facility_id": row.to_facility_id,
        "reason": row.reason,
        "state": row.state,
        "referral_id": row.referral_id,
        "requested_by": row.requested_by,
        "requested_at": row.requested_at.isoformat(),
        "approved_at": row.approved_at.isoformat() if row.approved_at else None,
        "shipped_at": row.shipped_at.isoformat() if row.shipped_at else None,
        "received_at": row.received_at.isoformat() if row.received_at else None,
        "closed_at": row.closed_at.isoformat() if row.closed_at else None,
        "close_reason": row.close_reason,
        "lines": [
            {
                "drug_code": line.drug_code,
                "unit_price": str(line.unit_price),
                "quantity_requested": line.quantity_requested,
                "quantity_approved": line.quantity_approved,
                "quantity_shipped": line.quantity_shipped,
            }
            for line in lines
        ],
        "lots": [
            {
                "drug_code": lot.drug_code,
                "lot_number": lot.lot_number,
                "expiry_date": lot.expiry_date.isoformat(),
                "quantity": lot.quantity,
            }
            for lot in lots
        ],
    }


def _party(principal: Principal, row: TransferRow) -> None:
    if principal.facility_id not in (None, row.from_facility_id, row.to_facility_id):
        raise ApiError(403, "forbidden", "this transfer does not involve your facility")


def _parties(uow: PharmacyUow, transfer_id: str) -> tuple[str, str]:
    """``(from, to)`` of a transfer, or 404."""
    with uow:
        row = uow.session.get(TransferRow, transfer_id)
        if row is None:
            raise ApiError(404, "unknown_transfer", f"transfer {transfer_id} does not exist")
        return row.from_facility_id, row.to_facility_id


@router.get("", summary="Transfer orders, newest first")
def list_transfers(
    principal: StockReader,
    uow: PharmacyUow,
    page: PageDep,
    state: TransferState | None = None,
    facility_id: str | None = Query(default=None, max_length=64, description="From or to"),
) -> Page[dict[str, Any]]:
    if principal.facility_id is not None:
        if facility_id is not None:
            act_for(principal, facility_id)
        facility_id = principal.facility_id
    query = select(TransferRow)
    if state is not None:
        query = query.where(TransferRow.state == state.value)
    if facility_id is not None:
        query = query.where(
            or_(
                TransferRow.from_facility_id == facility_id,
                TransferRow.to_facility_id == facility_id,
            )
        )
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.scalars(
            query.order_by(TransferRow.requested_at.desc(), TransferRow.transfer_id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return page.of([_view(uow, row) for row in rows], total=total)


@router.get("/{transfer_id}", summary="One transfer order with its lines and lots")
def get_transfer(transfer_id: str, principal: StockReader, uow: PharmacyUow) -> dict[str, Any]:
    with uow:
        row = uow.session.get(TransferRow, transfer_id)
        if row is None:
            raise ApiError(404, "unknown_transfer", f"transfer {transfer_id} does not exist")
        _party(principal, row)
        return _view(uow, row)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Request a transfer")
def request_transfer(body: TransferIn, principal: StockKeeper, uow: PharmacyUow) -> dict[str, Any]:
    if principal.role is Role.CLINIC_STAFF:
        act_for(principal, body.to_facility_id)
        if body.reason is not TransferReason.MANUAL:
            raise ApiError(403, "forbidden", "clinic staff request manual transfers only")
    quantities: dict[str, int] = {}
    for line in body.lines:
        if line.drug_code in quantities:
            raise ApiError(422, "duplicate_line", f"{line.drug_code} appears twice")
        quantities[line.drug_code] = line.quantity
    source = body.from_facility_id
    if source is None:
        with uow:
            receiver = transfers.require_member(uow, body.to_facility_id)
            source = central_pharmacy_of(uow, receiver)
        if source is None:
            raise ApiError(422, "no_central_pharmacy", "the receiver's community is unknown")
    event = transfers.request_transfer(
        uow,
        transfers.TransferRequest(
            from_facility_id=source,
            to_facility_id=body.to_facility_id,
            reason=body.reason,
            quantities=quantities,
            requested_by=principal.subject,
        ),
    )
    return event.model_dump(mode="json")


@router.post("/{transfer_id}/approve", summary="Approve, possibly with reduced quantities")
def approve(
    transfer_id: str, _: PharmacyCentre, uow: PharmacyUow, body: QuantitiesIn | None = None
) -> dict[str, Any]:
    """No body, or no ``lines``, approves all of it; more than the sender can offer (usable
    stock less earlier approvals) is refused with what it can."""
    event = transfers.approve_transfer(uow, transfer_id, _quantities(body))
    return event.model_dump(mode="json")


@router.post("/{transfer_id}/reject", summary="Refuse a requested transfer")
def reject(
    transfer_id: str, body: ClosingIn, _: PharmacyCentre, uow: PharmacyUow
) -> dict[str, Any]:
    event = transfers.reject_transfer(uow, transfer_id, body.reason)
    return event.model_dump(mode="json")


@router.post("/{transfer_id}/ship", summary="Ship: stock leaves the sender, by lot (FEFO)")
def ship(
    transfer_id: str, principal: StockKeeper, uow: PharmacyUow, body: QuantitiesIn | None = None
) -> dict[str, Any]:
    """No body, or no ``lines``, ships all that was approved."""
    act_for(principal, _parties(uow, transfer_id)[0])
    event = shipping.ship_transfer(uow, transfer_id, _quantities(body))
    return event.model_dump(mode="json")


@router.post("/{transfer_id}/receive", summary="Receive: the shipped lots arrive")
def receive(transfer_id: str, principal: StockKeeper, uow: PharmacyUow) -> dict[str, Any]:
    act_for(principal, _parties(uow, transfer_id)[1])
    event = shipping.receive_transfer(uow, transfer_id)
    return event.model_dump(mode="json")


@router.post("/{transfer_id}/cancel", summary="Cancel before it ships")
def cancel(
    transfer_id: str, body: ClosingIn, principal: StockKeeper, uow: PharmacyUow
) -> dict[str, Any]:
    act_for(principal, _parties(uow, transfer_id)[1])
    event = transfers.cancel_transfer(uow, transfer_id, body.reason)
    return event.model_dump(mode="json")
