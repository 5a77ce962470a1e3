"""Shipping and receiving a transfer: the steps that move stock.

Stock leaves the sender when the order ships (transfer_out lines, first-expiry-first-out)
and arrives as the same lots when it is received (transfer_in lines), at the order's unified
price. The order's row is locked and its state machine refuses a repeated step, so a
quantity leaves one facility and arrives at the other exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import select

from libs.events.catalogue.pharmacy import (
    LotQuantity,
    ShippedLine,
    TransferReceived,
    TransferShipped,
)
from libs.events.payload import cents
from services.pharmacy.adapters.schema import TransferLotRow
from services.pharmacy.domain.stock import CardKind, pick_fefo
from services.pharmacy.domain.transfers import (
    InvalidQuantities,
    TransferState,
    shipping_quantities,
)
from services.pharmacy.service_layer.availability import refresh_availability
from services.pharmacy.service_layer.errors import Conflict, Invalid
from services.pharmacy.service_layer.formulary import require_drug
from services.pharmacy.service_layer.replenishment import replenish
from services.pharmacy.service_layer.transfers import (
    locked_transfer,
    take_step,
    transfer_lines,
    transfer_ref,
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
        row = locked_transfer(uow, transfer_id)
        take_step(row, TransferState.SHIPPED)
        lines = {line.drug_code: line for line in transfer_lines(uow, transfer_id)}
        approved = {
            code: line.quantity_approved or 0
            for code, line in lines.items()
            if line.quantity_approved
        }
        try:
            to_ship = shipping_quantities(approved, quantities)
        except InvalidQuantities as exc:
            raise Invalid("invalid_quantities", str(exc)) from None
        for drug_code in to_ship:
            if not require_drug(uow, drug_code).listed:
                raise Conflict("delisted", f"{drug_code} was delisted; ship without it")
        sender = row.from_facility_id
        now, today = uow.now(), uow.today()
        items = uow.stock.lock_items(sender, to_ship, now)
        lots = uow.stock.lots(sender, to_ship)
        shipped: list[ShippedLine] = []
        short: dict[str, int] = {}
        for drug_code, quantity in sorted(to_ship.items()):
            held = uow.stock.reserved(sender, drug_code)
            picks, missing = pick_fefo(lots[drug_code], quantity, today, held_back=held)
            if missing:
                short[drug_code] = quantity - missing
                continue
            by_lot = {lot.lot_number: lot for lot in lots[drug_code]}
            for pick in picks:
                uow.stock.post(
                    sender,
                    drug_code,
                    by_lot[pick.lot_number],
                    CardKind.TRANSFER_OUT,
                    -pick.quantity,
                    reference_type=REFERENCE,
                    reference_id=transfer_id,
                    at=now,
                )
                uow.session.add(
                    TransferLotRow(
                        transfer_id=transfer_id,
                        drug_code=drug_code,
                        lot_number=pick.lot_number,
                        expiry_date=pick.expiry_date,
                        quantity=pick.quantity,
                        unit_cost=pick.unit_cost,
                    )
                )
            lines[drug_code].quantity_shipped = quantity
            shipped.append(
                _shipped_line(
                    drug_code,
                    lines[drug_code].unit_price,
                    [
                        LotQuantity(
                            lot_number=p.lot_number,
                            expiry_date=p.expiry_date,
                            quantity=p.quantity,
                            unit_cost=p.unit_cost,
                        )
                        for p in picks
                    ],
                )
            )
        if short:
            raise Conflict(
                "insufficient_stock",
                f"{sender} cannot ship all of it; available: "
                + ", ".join(f"{code} {q}" for code, q in sorted(short.items())),
                details={"available": short},
            )
        row.shipped_at = now
        available = refresh_availability(uow, sender, items, lots)
        sending = uow.directory.get(sender)
        if (
            sending is not None and sending.active
        ):  # a member shipping its surplus may now need some
            replenish(uow, sending, available)
        event = TransferShipped(**transfer_ref(row), lines=shipped, shipped_at=now)
        uow.publish(event)
        uow.commit()
        return event


def receive_transfer(uow: PharmacyUnitOfWork, transfer_id: str) -> TransferReceived:
    """The shipped lots arrive at the receiver, as the same lots, at the transfer's price.

    A drug delisted while in transit is still booked in: it already left the sender, and
    refusing it would lose it from every stock card (it can then be returned or written off).
    """
    with uow:
        row = locked_transfer(uow, transfer_id)
        take_step(row, TransferState.RECEIVED)
        receiver = row.to_facility_id
        now = uow.now()
        prices = {line.drug_code: line.unit_price for line in transfer_lines(uow, transfer_id)}
        moved = list(
            uow.session.scalars(
                select(TransferLotRow)
                .where(TransferLotRow.transfer_id == transfer_id)
                .order_by(TransferLotRow.drug_code, TransferLotRow.id)
            )
        )
        items = uow.stock.lock_items(receiver, {m.drug_code for m in moved}, now)
        by_drug: dict[str, list[LotQuantity]] = {}
        for m in moved:
            price = Decimal(prices[m.drug_code])
            try:
                lot = uow.stock.ensure_lot(
                    receiver, m.drug_code, m.lot_number, m.expiry_date, price, now
                )
            except ValueError as exc:
                raise Conflict("lot_mismatch", str(exc)) from None
            uow.stock.post(
                receiver,
                m.drug_code,
                lot,
                CardKind.TRANSFER_IN,
                m.quantity,
                reference_type=REFERENCE,
                reference_id=transfer_id,
                at=now,
                unit_cost=price,
            )
            by_drug.setdefault(m.drug_code, []).append(
                LotQuantity(
                    lot_number=m.lot_number,
                    expiry_date=m.expiry_date,
                    quantity=m.quantity,
                    unit_cost=price,
                )
            )
        lines = [
            _shipped_line(code, Decimal(prices[code]), lots)
            for code, lots in sorted(by_drug.items())
        ]
        row.received_at = now
        refresh_availability(uow, receiver, items)
        event = TransferReceived(
            **transfer_ref(row),
            lines=lines,
            total_value=sum((line.amount or Decimal(0) for line in lines), Decimal("0.00")),
            received_at=now,
        )
        uow.publish(event)
        uow.commit()
        return event
