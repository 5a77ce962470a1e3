"""Shipping and receiving a transfer: the steps that move stock.

Stock leaves the sender when the order ships (transfer_out lines, first-expiry-first-out)
and arrives as the same lots when it is received (transfer_in lines), at the order's unified
price. The order's row is locked and its state machine refuses a repeated step, so a
quantity leaves one facility and arrives at the other exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from libs.events.catalogue.pharmacy import (
    LotQuantity,
    ShippedLine,
    TransferReceived,
    TransferShipped,
)
from libs.events.payload import cents
from services.pharmacy.domain.stock import CardKind
from services.pharmacy.domain.transfers import MovedLot, Shortfall
from services.pharmacy.service_layer.availability import (
    announce_availability,
    lot_quantities,
    refresh_availability,
)
from services.pharmacy.service_layer.errors import Conflict
from services.pharmacy.service_layer.replenishment import replenish
from services.pharmacy.service_layer.transfers import (
    lifecycle_errors,
    locked_transfer,
    refuse_delisted,
)
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["receive_transfer", "ship_transfer"]

REFERENCE = "transfer"


def _shipped_line(drug_code: str, unit_price: Decimal, lots: list[LotQuantity]) -> ShippedLine:
    quantity = sum(lot.quantity for lot in lots)
    return ShippedLine(
        drug_code=drug_code, unit_price=unit_price, lots=lots, amount=cents(unit_price * quantity)
    )


def ship_transfer(
    uow: PharmacyUnitOfWork, transfer_id: str, quantities: Mapping[str, int] | None = None
) -> TransferShipped:
    """Stock leaves the sender, first-expiry-first-out, as approved (or less of some drugs).

    Not enough unreserved, unexpired stock for a line is a conflict naming what there is;
    the caller can ship less. A drug delisted since the request is not shipped.
    """
    with uow:
        transfer = locked_transfer(uow, transfer_id)
        with lifecycle_errors():
            to_ship = transfer.to_ship(quantities)
        refuse_delisted(uow, to_ship, "ship")
        sender, now = transfer.from_facility_id, uow.now()
        items = uow.items.lock(sender, to_ship, now)
        try:
            picks = transfer.ship(items, to_ship, uow.today(), now)
        except Shortfall as exc:
            raise Conflict(
                "insufficient_stock",
                f"{sender} cannot ship all of it; available: {exc}",
                details={"available": exc.available},
            ) from None
        uow.items.save(items.values(), now)
        uow.transfers.save(transfer)
        available = announce_availability(uow, items)
        sending = uow.directory.get(sender)
        if sending is not None and sending.active:  # a member shipping its surplus may need some
            replenish(uow, sending, available)
        event = TransferShipped(
            **transfer.ref(),
            lines=[
                _shipped_line(code, transfer.lines[code].unit_price, lot_quantities(picked))
                for code, picked in picks.items()
            ],
            shipped_at=now,
        )
        uow.publish(event)
        uow.commit()
        return event


def receive_transfer(uow: PharmacyUnitOfWork, transfer_id: str) -> TransferReceived:
    """The shipped lots arrive at the receiver, as the same lots, at the transfer's price.

    A drug delisted while in transit is still booked in: it already left the sender, and
    refusing it would lose it from every stock card (it can then be returned or written off).
    """
    with uow:
        transfer = locked_transfer(uow, transfer_id)
        now = uow.now()
        with lifecycle_errors():
            arriving = transfer.receive(now)
        receiver = transfer.to_facility_id
        items = uow.stock.lock_items(receiver, {m.drug_code for m in arriving}, now)
        by_drug: dict[str, list[LotQuantity]] = {}
        for m in arriving:
            _book_in(uow, receiver, m, transfer_id, now)
            by_drug.setdefault(m.drug_code, []).append(
                LotQuantity(
                    lot_number=m.lot_number,
                    expiry_date=m.expiry_date,
                    quantity=m.quantity,
                    unit_cost=m.unit_cost,
                )
            )
        lines = [
            _shipped_line(code, transfer.lines[code].unit_price, lots)
            for code, lots in sorted(by_drug.items())
        ]
        uow.transfers.save(transfer)
        refresh_availability(uow, receiver, items)
        event = TransferReceived(
            **transfer.ref(),
            lines=lines,
            total_value=sum((line.amount or Decimal(0) for line in lines), Decimal("0.00")),
            received_at=now,
        )
        uow.publish(event)
        uow.commit()
        return event


def _book_in(
    uow: PharmacyUnitOfWork, receiver: str, lot: MovedLot, transfer_id: str, now: datetime
) -> None:
    """One arriving lot onto the receiver's card, at the order's price (``lot.unit_cost``)."""
    try:
        balance = uow.stock.ensure_lot(
            receiver, lot.drug_code, lot.lot_number, lot.expiry_date, lot.unit_cost, now
        )
    except ValueError as exc:
        raise Conflict("lot_mismatch", str(exc)) from None
    uow.stock.post(
        receiver,
        lot.drug_code,
        balance,
        CardKind.TRANSFER_IN,
        lot.quantity,
        reference_type=REFERENCE,
        reference_id=transfer_id,
        at=now,
        unit_cost=lot.unit_cost,
    )
