"""One drug at a facility, read in one query: the admin API's hottest read.

The query answers whether the facility is a member (and active), whether the drug is in
the formulary, its lots, the packs others reserved, when the item first moved, the levels
set by hand, and the running consumption figures the re-order levels are drawn from. The
answer is the one the use cases' repositories give (``require_facility``, ``require_drug``,
``lots``, ``reserved``, ``levels_for``): the same tables, the same rules
(``levels_in_force``), in one round trip instead of seven.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, String, and_, bindparam, func, literal, null, select, union_all

from libs.directory import KnownFacility
from services.pharmacy.adapters.schema import (
    DailyConsumption,
    DrugRow,
    LevelOverride,
    ReservationRow,
    StockItem,
    StockLot,
)
from services.pharmacy.domain.replenishment import ItemHistory, StockLevels, levels_in_force
from services.pharmacy.domain.stock import LotBalance, available
from services.pharmacy.service_layer.errors import NotFound
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["drug_at_facility", "drug_stock_body"]


def _query() -> Any:
    """The facility's row (with the item's scalars) joined to each lot of the drug, then one
    row per business day of recent consumption (``kind`` 1, day and packs in the lot's date
    and quantity columns). Built once, with bound parameters: building it per request cost
    as much as running it."""
    facility_id = bindparam("facility_id", type_=String)
    drug_code = bindparam("drug_code", type_=String)
    since = bindparam("since", type_=Date)
    item = (StockItem.facility_id == facility_id) & (StockItem.drug_code == drug_code)
    override = (LevelOverride.facility_id == facility_id) & (LevelOverride.drug_code == drug_code)
    reserved = select(func.coalesce(func.sum(ReservationRow.quantity), 0)).where(
        ReservationRow.facility_id == facility_id,
        ReservationRow.drug_code == drug_code,
        ReservationRow.active.is_(True),
    )
    facility_and_lots = (
        select(
            literal(0).label("kind"),
            KnownFacility.active.label("active"),
            select(DrugRow.drug_code)
            .where(DrugRow.drug_code == drug_code)
            .scalar_subquery()
            .label("drug"),
            reserved.scalar_subquery().label("reserved"),
            select(StockItem.first_moved_at).where(item).scalar_subquery().label("first"),
            select(LevelOverride.reorder_point).where(override).scalar_subquery().label("point"),
            select(LevelOverride.target_level).where(override).scalar_subquery().label("target"),
            StockLot.lot_number.label("lot"),
            StockLot.expiry_date.label("day"),
            StockLot.on_hand.label("packs"),
            StockLot.unit_cost.label("cost"),
        )
        .select_from(KnownFacility)
        .outerjoin(
            StockLot,
            and_(
                StockLot.facility_id == KnownFacility.facility_id, StockLot.drug_code == drug_code
            ),
        )
        .where(KnownFacility.facility_id == facility_id)
    )
    consumption = select(
        literal(1),
        *(null() for _ in range(7)),
        DailyConsumption.business_day,
        DailyConsumption.dispensed,
        null(),
    ).where(
        DailyConsumption.facility_id == facility_id,
        DailyConsumption.drug_code == drug_code,
        DailyConsumption.business_day >= since,
    )
    rows = union_all(facility_and_lots, consumption).subquery()
    return select(rows).order_by(rows.c.kind, rows.c.day, rows.c.lot)


_QUERY = _query()


def drug_at_facility(uow: PharmacyUnitOfWork, facility_id: str, drug_code: str) -> dict[str, Any]:
    """The body of ``GET /stock/{facility}/drugs/{drug}``; 404 for an unknown facility or drug."""
    today = uow.today()
    policy = uow.policy.replenishment
    since = today - timedelta(days=policy.lookback_days - 1)
    parameters = {"facility_id": facility_id, "drug_code": drug_code, "since": since}
    rows = uow.session.execute(_QUERY, parameters).all()
    if not rows or rows[0].kind != 0 or not rows[0].active:
        raise NotFound("unknown_facility", f"facility {facility_id} is not a member known here")
    head = rows[0]
    if head.drug is None:
        raise NotFound("unknown_drug", f"drug {drug_code} is not in the formulary")
    lots = [
        LotBalance(row.lot, row.day, row.packs, Decimal(row.cost))
        for row in rows
        if row.kind == 0 and row.lot is not None
    ]
    history = ItemHistory(
        first_moved_on=uow.clock.date_of(head.first) if head.first else None,
        dispensed={row.day: row.packs for row in rows if row.kind == 1},
        manual=(head.point, head.target) if head.point is not None else None,
    )
    levels = levels_in_force(history, today, policy)
    return drug_stock_body(facility_id, drug_code, lots, int(head.reserved or 0), levels, today)


def drug_stock_body(
    facility_id: str,
    drug_code: str,
    lots: list[LotBalance],
    reserved: int,
    levels: StockLevels,
    today: date,
) -> dict[str, Any]:
    """The answer's shape, from the drug's lots (FEFO order), the packs others reserved and
    the levels in force."""
    return {
        "facility_id": facility_id,
        "drug_code": drug_code,
        "on_hand": sum(lot.on_hand for lot in lots),
        "reserved": reserved,
        "available": available(lots, today, held_back=reserved),
        "lots": [
            {
                "lot_number": lot.lot_number,
                "expiry_date": lot.expiry_date.isoformat(),
                "on_hand": lot.on_hand,
                "unit_cost": str(lot.unit_cost),
                "expired": lot.expired(today),
            }
            for lot in lots
            if lot.on_hand > 0
        ],
        "levels": {
            "average_monthly_consumption": str(levels.average_monthly_consumption),
            "reorder_point": levels.reorder_point,
            "target_level": levels.target_level,
            "manual": levels.manual,
        },
    }
