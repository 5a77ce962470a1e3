"""The daily expiry scan: near-expiry value per facility, expired lots written off, lapsed
reservations released.

Each facility is scanned at most once per local day: the scan's row (facility, day) is
inserted first, so a second process scanning at the same time waits on it and then fails
its insert, rolling back everything it did. Each facility is its own unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import structlog
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError

from libs.events.catalogue.pharmacy import (
    ExpiringLot,
    ExpiryScanned,
    ReservationReleased,
    WriteOffReason,
)
from services.pharmacy.adapters.schema import ExpiryScanRow, ReservationRow, StockLot
from services.pharmacy.domain.expiry import LotAtRisk, classify
from services.pharmacy.service_layer.availability import refresh_availability
from services.pharmacy.service_layer.replenishment import replenish
from services.pharmacy.service_layer.stock import write_off_lot
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["MAX_LOTS_IN_EVENT", "scan_all", "scan_facility"]

log = structlog.get_logger("expiry")

#: The event lists at most this many near-expiry lots (soonest first); values cover all.
MAX_LOTS_IN_EVENT = 2000


def scan_all(uow_factory: Callable[[], PharmacyUnitOfWork]) -> int:
    """Scan every facility that holds or held stock and was not scanned today; returns how
    many were scanned by this call."""
    with uow_factory() as uow:
        today = uow.today()
        facilities = set(uow.session.scalars(select(StockLot.facility_id).distinct()))
        facilities |= set(
            uow.session.scalars(
                select(ReservationRow.facility_id).where(ReservationRow.active.is_(True))
            )
        )
        done = set(
            uow.session.scalars(
                select(ExpiryScanRow.facility_id).where(ExpiryScanRow.scanned_on == today)
            )
        )
    scanned = 0
    for facility_id in sorted(facilities - done):
        try:
            if scan_facility(uow_factory(), facility_id, today) is not None:
                scanned += 1
        except IntegrityError:
            log.info("another process scanned this facility today")
    return scanned


def scan_facility(uow: PharmacyUnitOfWork, facility_id: str, today: date) -> ExpiryScanned | None:
    """Scan one facility for ``today``; ``None`` if it was already scanned that day."""
    with uow:
        if uow.session.get(ExpiryScanRow, (facility_id, today)) is not None:
            return None
        now = uow.now()
        horizon = uow.policy.near_expiry_days
        scan = ExpiryScanRow(
            facility_id=facility_id,
            scanned_on=today,
            horizon_days=horizon,
            near_expiry_value=0,
            expired_value=0,
            near_expiry_lots=0,
            scanned_at=now,
        )
        uow.session.add(scan)
        uow.session.flush()  # claim (facility, day) before touching stock
        codes = set(
            uow.session.scalars(
                select(StockLot.drug_code).where(
                    StockLot.facility_id == facility_id, StockLot.on_hand > 0
                )
            )
        )
        codes |= set(
            uow.session.scalars(
                select(ReservationRow.drug_code).where(*_lapsed(facility_id, today))
            )
        )
        # Items first, like every other movement of stock, then the reservations.
        items = uow.stock.lock_items(facility_id, codes, now) if codes else {}
        _release_lapsed(uow, facility_id, today)
        lots = uow.stock.lots(facility_id, codes)
        report = classify(
            (
                LotAtRisk(code, lot.lot_number, lot.expiry_date, lot.on_hand, lot.unit_cost)
                for code, drug_lots in lots.items()
                for lot in drug_lots
            ),
            today,
            horizon,
        )
        if uow.policy.write_off_expired:
            for expired in report.expired:
                lot = next(
                    lot for lot in lots[expired.drug_code] if lot.lot_number == expired.lot_number
                )
                write_off_lot(
                    uow, facility_id, expired.drug_code, lot, lot.on_hand, WriteOffReason.EXPIRED
                )
        scan.near_expiry_value = report.near_expiry_value
        scan.expired_value = report.expired_value
        scan.near_expiry_lots = len(report.near_expiry)
        event = ExpiryScanned(
            facility_id=facility_id,
            scanned_on=today,
            horizon_days=horizon,
            near_expiry_value=report.near_expiry_value,
            expired_value=report.expired_value,
            near_expiry_lots=[
                ExpiringLot(
                    drug_code=lot.drug_code,
                    lot_number=lot.lot_number,
                    expiry_date=lot.expiry_date,
                    quantity=lot.quantity,
                    value=lot.value,
                )
                for lot in report.near_expiry[:MAX_LOTS_IN_EVENT]
            ],
            scanned_at=now,
        )
        uow.publish(event)
        if items:
            available = refresh_availability(uow, facility_id, items, lots)
            facility = uow.directory.get(facility_id)
            if facility is not None and facility.active:
                replenish(uow, facility, available)
        uow.commit()
        return event


def _lapsed(facility_id: str, today: date) -> tuple[ColumnElement[bool], ...]:
    return (
        ReservationRow.facility_id == facility_id,
        ReservationRow.active.is_(True),
        ReservationRow.reserved_until < today,
    )


def _release_lapsed(uow: PharmacyUnitOfWork, facility_id: str, today: date) -> None:
    """Release reservations whose hold ended before today (their items are locked)."""
    now = uow.now()
    for reservation in uow.session.scalars(
        select(ReservationRow).where(*_lapsed(facility_id, today))
    ):
        reservation.active = False
        reservation.released_reason, reservation.released_at = "lapsed", now
        if reservation.quantity > 0:
            uow.publish(
                ReservationReleased(
                    reservation_id=reservation.reservation_id,
                    facility_id=facility_id,
                    drug_code=reservation.drug_code,
                    quantity=reservation.quantity,
                    reason="lapsed",
                    released_at=now,
                )
            )
