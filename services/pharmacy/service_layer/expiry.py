"""The daily expiry scan: near-expiry value per facility, expired lots written off, lapsed
reservations released.

Each facility is scanned at most once per local day: the scan's row (facility, day) is
inserted first, so a second process scanning at the same time waits on it and then fails
its insert, rolling back everything it did. Each facility is its own unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from libs.events.catalogue.pharmacy import (
    ExpiringLot,
    ExpiryScanned,
    WriteOffReason,
)
from services.pharmacy.adapters.schema import ExpiryScanRow, ReservationRow, StockLot
from services.pharmacy.domain.expiry import ExpiryReport, LotAtRisk, classify
from services.pharmacy.domain.items import StockItem
from services.pharmacy.service_layer.availability import announce_availability
from services.pharmacy.service_layer.replenishment import replenish
from services.pharmacy.service_layer.reservations import announce_released
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
        now, horizon = uow.now(), uow.policy.near_expiry_days
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
        codes = _codes_to_scan(uow, facility_id, today)
        # Items first, like every other movement of stock, then the reservations.
        items = uow.items.lock(facility_id, codes, now) if codes else {}
        _release_lapsed(uow, items.values(), today, now)
        report = classify(
            (
                LotAtRisk(code, lot.lot_number, lot.expiry_date, lot.on_hand, lot.unit_cost)
                for code, item in items.items()
                for lot in item.lots
            ),
            today,
            horizon,
        )
        if uow.policy.write_off_expired:
            _write_off(uow, items, report.expired)
        scan.near_expiry_value = report.near_expiry_value
        scan.expired_value = report.expired_value
        scan.near_expiry_lots = len(report.near_expiry)
        event = _scanned(facility_id, today, horizon, report, now)
        uow.publish(event)
        if items:
            available = announce_availability(uow, items)
            facility = uow.directory.get(facility_id)
            if facility is not None and facility.active:
                replenish(uow, facility, available)
        uow.commit()
        return event


def _codes_to_scan(uow: PharmacyUnitOfWork, facility_id: str, today: date) -> set[str]:
    """Drugs the facility holds, and those with a reservation whose hold ended before today."""
    codes = set(
        uow.session.scalars(
            select(StockLot.drug_code).where(
                StockLot.facility_id == facility_id, StockLot.on_hand > 0
            )
        )
    )
    return codes | set(
        uow.session.scalars(
            select(ReservationRow.drug_code).where(
                ReservationRow.facility_id == facility_id,
                ReservationRow.active.is_(True),
                ReservationRow.reserved_until < today,
            )
        )
    )


def _release_lapsed(
    uow: PharmacyUnitOfWork, items: Iterable[StockItem], today: date, now: datetime
) -> None:
    """Release reservations whose hold ended before today (their items are locked)."""
    for item in items:
        announce_released(uow, item.release("lapsed", lambda r: r.lapsed(today)), "lapsed", now)


def _write_off(
    uow: PharmacyUnitOfWork, items: Mapping[str, StockItem], expired: Iterable[LotAtRisk]
) -> None:
    """Expired lots are written off whole (finance posts the loss). Each is posted at once,
    under its own write-off id and reason, on the item's own lot, so the availability
    announced afterwards counts it gone."""
    for lot_at_risk in expired:
        item = items[lot_at_risk.drug_code]
        lot = next(lot for lot in item.lots if lot.lot_number == lot_at_risk.lot_number)
        write_off_lot(
            uow, item.facility_id, item.drug_code, lot, lot.on_hand, WriteOffReason.EXPIRED
        )


def _scanned(
    facility_id: str, today: date, horizon: int, report: ExpiryReport, now: datetime
) -> ExpiryScanned:
    return ExpiryScanned(
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
