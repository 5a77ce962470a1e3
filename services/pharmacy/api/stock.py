"""Admin HTTP for stock at one facility: on hand, lots, the stock card, and movements.

Clinic staff see and move only their own facility's stock; the pharmacy centre any.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import case, func, select

from libs.events.catalogue.pharmacy import AdjustmentReason, ReceiptSource, WriteOffReason
from libs.events.payload import Count, Identifier, Quantity, UnitPrice
from libs.platform.http.errors import ApiError
from libs.platform.http.pagination import Page, PageDep
from services.pharmacy.adapters.schema import DrugRow, StockCardLine, StockItem, StockLot
from services.pharmacy.api.deps import PharmacyUow, StockKeeper, StockReader, act_for
from services.pharmacy.api.stock_view import drug_at_facility
from services.pharmacy.domain.stock import CardKind, summarise
from services.pharmacy.service_layer import stock
from services.pharmacy.service_layer.availability import available_at_members
from services.pharmacy.service_layer.formulary import require_drug

router = APIRouter(prefix="/stock", tags=["stock"])


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drug_code: Identifier
    lot_number: Identifier
    expiry_date: date
    quantity: Quantity
    unit_cost: UnitPrice | None = Field(
        default=None, description="Purchase cost per pack; the unified price if omitted."
    )
    source: ReceiptSource = ReceiptSource.PURCHASE
    reference_id: Identifier | None = Field(default=None, description="e.g. the purchase order")


class AdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drug_code: Identifier
    lot_number: Identifier
    quantity_delta: int = Field(ge=-1_000_000, le=1_000_000, description="Packs, not 0.")
    reason: AdjustmentReason
    expiry_date: date | None = Field(
        default=None, description="Only for stock found in a lot not known here."
    )


class CountLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drug_code: Identifier
    lot_number: Identifier
    expiry_date: date
    counted_quantity: Count


class CountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[CountLineIn] = Field(min_length=1, max_length=5000)


class WriteOffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drug_code: Identifier
    lot_number: Identifier
    quantity: Quantity
    reason: WriteOffReason


def _facility(uow: PharmacyUow, facility_id: str) -> None:
    stock.require_facility(uow, facility_id)


@router.get("/{facility_id}", summary="Stock on hand per drug at a facility")
def on_hand(
    facility_id: str, principal: StockReader, uow: PharmacyUow, page: PageDep
) -> Page[dict[str, Any]]:
    act_for(principal, facility_id)
    with uow:
        _facility(uow, facility_id)
        today = uow.today()
        expired = func.sum(case((StockLot.expiry_date < today, StockLot.on_hand), else_=0))
        query = (
            select(
                StockLot.drug_code, DrugRow.name, DrugRow.unit, func.sum(StockLot.on_hand), expired
            )
            .join(DrugRow, DrugRow.drug_code == StockLot.drug_code)
            .where(StockLot.facility_id == facility_id)
            .group_by(StockLot.drug_code, DrugRow.name, DrugRow.unit)
        )
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.execute(
            query.order_by(StockLot.drug_code).limit(page.limit).offset(page.offset)
        ).all()
        codes = [row[0] for row in rows]
        reserved = uow.stock.reserved_by_drug(facility_id, codes)
        stocked_out = set(
            uow.session.scalars(
                select(StockItem.drug_code).where(
                    StockItem.facility_id == facility_id,
                    StockItem.drug_code.in_(codes),
                    StockItem.stocked_out.is_(True),
                )
            )
        )
        items = []
        for drug_code, name, unit, held, expired_quantity in rows:
            usable = int(held) - int(expired_quantity)
            items.append(
                {
                    "drug_code": drug_code,
                    "name": name,
                    "unit": unit,
                    "on_hand": int(held),
                    "expired": int(expired_quantity),
                    "reserved": reserved[drug_code],
                    "available": max(0, usable - reserved[drug_code]),
                    "stocked_out": drug_code in stocked_out,
                }
            )
        return page.of(items, total=total)


@router.get(
    "/holders/{drug_code}",
    summary="Which members of a community hold a drug, and how much each can offer",
)
def holders(
    drug_code: str,
    principal: StockReader,
    uow: PharmacyUow,
    community_id: str | None = Query(
        default=None, max_length=64, description="Default: the caller's facility's community"
    ),
) -> list[dict[str, Any]]:
    """For a clinic that lacks a drug: who nearby could send it (ask for a transfer from
    them). Clinic staff see their own community; the centres any (or all)."""
    with uow:
        require_drug(uow, drug_code)
        if principal.facility_id is not None:
            own = stock.require_facility(uow, principal.facility_id)
            if community_id not in (None, own.community_id):
                raise ApiError(403, "forbidden", "clinic staff see their own community only")
            community_id = own.community_id
        offers = available_at_members(uow, drug_code, community_id)
        found = [{"facility_id": f, "available": offer} for f, offer in offers.items()]
        return sorted(found, key=lambda h: (-h["available"], h["facility_id"]))


@router.get("/{facility_id}/drugs/{drug_code}", summary="One drug at a facility, by lot")
def drug_stock(
    facility_id: str, drug_code: str, principal: StockReader, uow: PharmacyUow
) -> dict[str, Any]:
    act_for(principal, facility_id)
    with uow:
        return drug_at_facility(uow, facility_id, drug_code)


def _line_view(line: StockCardLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "lot_number": line.lot_number,
        "expiry_date": line.expiry_date.isoformat(),
        "kind": line.kind,
        "quantity": line.quantity,
        "balance_after": line.balance_after,
        "unit_cost": str(Decimal(line.unit_cost)),
        "reference_type": line.reference_type,
        "reference_id": line.reference_id,
        "reason": line.reason,
        "occurred_at": line.occurred_at.isoformat(),
    }


@router.get(
    "/{facility_id}/drugs/{drug_code}/card",
    summary="The stock card (append-only history), oldest first, paginated",
)
def stock_card(
    facility_id: str,
    drug_code: str,
    principal: StockReader,
    uow: PharmacyUow,
    page: PageDep,
    lot_number: str | None = Query(default=None, max_length=64),
) -> Page[dict[str, Any]]:
    act_for(principal, facility_id)
    with uow:
        stock.require_facility(uow, facility_id)
        require_drug(uow, drug_code)
        query = select(StockCardLine).where(
            StockCardLine.facility_id == facility_id, StockCardLine.drug_code == drug_code
        )
        if lot_number:
            query = query.where(StockCardLine.lot_number == lot_number)
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        lines = uow.session.scalars(
            query.order_by(StockCardLine.id).limit(page.limit).offset(page.offset)
        )
        return page.of([_line_view(line) for line in lines], total=total)


@router.get(
    "/{facility_id}/drugs/{drug_code}/reconciliation",
    summary="opening + receipts + transfers in − dispensed − transfers out ± adjustments "
    "− written off = on hand",
)
def reconciliation(
    facility_id: str,
    drug_code: str,
    principal: StockReader,
    uow: PharmacyUow,
    since: Annotated[datetime | None, Query(description="Period start (default: ever)")] = None,
) -> dict[str, Any]:
    act_for(principal, facility_id)
    with uow:
        stock.require_facility(uow, facility_id)
        require_drug(uow, drug_code)
        ledger = uow.stock
        opening = (
            sum(q for _, q in ledger.movements(facility_id, drug_code, until=since))
            if since is not None
            else 0
        )
        movements = [
            (CardKind(kind), quantity)
            for kind, quantity in ledger.movements(facility_id, drug_code, since=since)
        ]
        summary = summarise(opening, movements, ledger.on_hand(facility_id, drug_code))
        return {
            "facility_id": facility_id,
            "drug_code": drug_code,
            "since": since.isoformat() if since else None,
            "opening": summary.opening,
            "receipts": summary.receipts,
            "transfers_in": summary.transfers_in,
            "dispensed": summary.dispensed,
            "transfers_out": summary.transfers_out,
            "adjustments": summary.adjustments,
            "written_off": summary.written_off,
            "on_hand": summary.closing,
            "reconciles": summary.reconciles,
        }


@router.post(
    "/{facility_id}/receipts", status_code=status.HTTP_201_CREATED, summary="Receive a lot"
)
def receive(
    facility_id: str, body: ReceiptIn, principal: StockKeeper, uow: PharmacyUow
) -> dict[str, Any]:
    act_for(principal, facility_id)
    event = stock.receive_stock(
        uow,
        facility_id,
        stock.Receipt(
            drug_code=body.drug_code,
            lot_number=body.lot_number,
            expiry_date=body.expiry_date,
            quantity=body.quantity,
            unit_cost=body.unit_cost,
            source=body.source,
            reference_id=body.reference_id,
        ),
    )
    return event.model_dump(mode="json")


@router.post(
    "/{facility_id}/adjustments", status_code=status.HTTP_201_CREATED, summary="Adjust a lot"
)
def adjust(
    facility_id: str, body: AdjustmentIn, principal: StockKeeper, uow: PharmacyUow
) -> dict[str, Any]:
    act_for(principal, facility_id)
    event = stock.adjust_stock(
        uow,
        facility_id,
        stock.Adjustment(
            drug_code=body.drug_code,
            lot_number=body.lot_number,
            quantity_delta=body.quantity_delta,
            reason=body.reason,
            expiry_date=body.expiry_date,
        ),
    )
    return event.model_dump(mode="json")


@router.post(
    "/{facility_id}/counts",
    status_code=status.HTTP_201_CREATED,
    summary="Record a physical inventory (盘点); differences become adjustments",
)
def count(
    facility_id: str, body: CountIn, principal: StockKeeper, uow: PharmacyUow
) -> dict[str, Any]:
    act_for(principal, facility_id)
    event = stock.count_stock(
        uow,
        facility_id,
        stock.Count(
            lines=[
                stock.CountLine(
                    drug_code=line.drug_code,
                    lot_number=line.lot_number,
                    expiry_date=line.expiry_date,
                    counted_quantity=line.counted_quantity,
                )
                for line in body.lines
            ]
        ),
    )
    return event.model_dump(mode="json")


@router.post(
    "/{facility_id}/write-offs", status_code=status.HTTP_201_CREATED, summary="Write stock off"
)
def write_off(
    facility_id: str, body: WriteOffIn, principal: StockKeeper, uow: PharmacyUow
) -> dict[str, Any]:
    act_for(principal, facility_id)
    event = stock.write_off_stock(
        uow,
        facility_id,
        stock.WriteOff(
            drug_code=body.drug_code,
            lot_number=body.lot_number,
            quantity=body.quantity,
            reason=body.reason,
        ),
    )
    return event.model_dump(mode="json")
