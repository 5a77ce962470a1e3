"""Opening balances for the demo county (``infra/pharmacy/opening-stock.yaml``).

Each entry is booked once, as a receipt with source ``opening_balance`` and a receipt id
derived from the entry, as soon as its facility is known here (the organisation arrives as
events, possibly after this service started). Expiry dates are given relative to the day an
entry is booked, so the demo never starts with everything expired.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import structlog

from libs.events.catalogue.pharmacy import ReceiptSource
from services.pharmacy.service_layer.errors import PharmacyError
from services.pharmacy.service_layer.stock import Receipt, receive_in
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["OpeningLot", "apply_opening_stock", "parse_opening_stock"]

log = structlog.get_logger("opening_stock")


@dataclass(frozen=True)
class OpeningLot:
    facility_id: str
    drug_code: str
    lot_number: str
    expires_in_days: int
    quantity: int
    unit_cost: Decimal

    @property
    def receipt_id(self) -> str:
        return f"OPEN-{self.facility_id}-{self.drug_code}-{self.lot_number}"[:64]


def parse_opening_stock(doc: dict[str, Any]) -> list[OpeningLot]:
    """Validate the opening-stock document."""
    lots = []
    for item in doc.get("lots", []):
        lot = OpeningLot(
            facility_id=str(item["facility_id"]),
            drug_code=str(item["drug_code"]),
            lot_number=str(item["lot_number"]),
            expires_in_days=int(item["expires_in_days"]),
            quantity=int(item["quantity"]),
            unit_cost=Decimal(str(item["unit_cost"])),
        )
        if lot.quantity <= 0 or lot.unit_cost < 0:
            raise ValueError(f"{lot.receipt_id}: quantity must be positive, cost not negative")
        lots.append(lot)
    ids = [lot.receipt_id for lot in lots]
    if len(ids) != len(set(ids)):
        raise ValueError("an opening lot appears twice")
    return lots


def apply_opening_stock(
    uow_factory: Callable[[], PharmacyUnitOfWork], lots: list[OpeningLot]
) -> int:
    """Book the entries not booked yet whose facility is known; returns how many are still
    waiting for their facility. An entry the formulary refuses is logged and skipped."""
    waiting = booked = 0
    with uow_factory() as uow:
        today = uow.today()
        for position, lot in enumerate(lots, start=1):
            if uow.stock.has_reference("receipt", lot.receipt_id):
                continue
            facility = uow.directory.get(lot.facility_id)
            if facility is None:
                waiting += 1
                continue
            savepoint = uow.session.begin_nested()
            try:
                receive_in(
                    uow,
                    lot.facility_id,
                    Receipt(
                        drug_code=lot.drug_code,
                        lot_number=lot.lot_number,
                        expiry_date=today + timedelta(days=lot.expires_in_days),
                        quantity=lot.quantity,
                        unit_cost=lot.unit_cost,
                        source=ReceiptSource.OPENING_BALANCE,
                        receipt_id=lot.receipt_id,
                    ),
                )
                savepoint.commit()
                booked += 1
            except PharmacyError as exc:
                savepoint.rollback()
                # The entry is named by its position in the file: logs carry no ids.
                log.warning("opening lot refused", entry=position, code=exc.code)
        uow.commit()
    if booked:
        log.info("opening stock booked", lots=booked, waiting_for_facility=waiting)
    return waiting
