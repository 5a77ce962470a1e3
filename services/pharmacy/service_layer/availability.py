"""Whether each touched item is stocked out, announced when that changes.

Called at the end of every use case that moves stock, with the items still locked, so the
stocked_out / restocked events alternate strictly for each facility and drug.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import func, select, update

from libs.directory import KnownFacility
from libs.events.catalogue.pharmacy import LotQuantity, Restocked, StockedOut
from services.pharmacy.adapters.schema import ReservationRow, ShortageRow, StockItem, StockLot
from services.pharmacy.domain import items as domain
from services.pharmacy.domain.stock import LotBalance, Pick, available
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = [
    "announce_availability",
    "announce_changes",
    "available_at_members",
    "available_by_drug",
    "available_now",
    "lot_quantities",
    "refresh_availability",
]


def lot_quantities(picks: list[Pick]) -> list[LotQuantity]:
    """The lots a movement took, as events carry them."""
    return [
        LotQuantity(
            lot_number=p.lot_number,
            expiry_date=p.expiry_date,
            quantity=p.quantity,
            unit_cost=p.unit_cost,
        )
        for p in picks
    ]


def announce_availability(
    uow: PharmacyUnitOfWork, items: Mapping[str, domain.StockItem]
) -> dict[str, int]:
    """:func:`refresh_availability` for stock items of the domain (saved here): publish
    stocked_out / restocked where it changed; returns what each has."""
    now = uow.now()
    result = announce_changes(uow, items.values(), now)
    uow.items.save(items.values(), now)
    return result


def announce_changes(
    uow: PharmacyUnitOfWork, items: Iterable[domain.StockItem], now: datetime
) -> dict[str, int]:
    """Publish stocked_out / restocked for the items (of one facility) whose availability
    crossed zero, from what they hold in memory (no query); returns what each has. The caller
    saves the items."""
    today = uow.today()
    result: dict[str, int] = {}
    for item in sorted(items, key=lambda i: i.drug_code):
        drug_code = item.drug_code
        result[drug_code] = item.available(today)
        change = item.refresh(today)
        if change is domain.Availability.STOCKED_OUT:
            uow.publish(
                StockedOut(facility_id=item.facility_id, drug_code=drug_code, occurred_at=now)
            )
        elif change is domain.Availability.RESTOCKED:
            uow.publish(
                Restocked(
                    facility_id=item.facility_id,
                    drug_code=drug_code,
                    available_quantity=result[drug_code],
                    occurred_at=now,
                )
            )
            uow.records.resolve_shortages(item.facility_id, drug_code, now)
    return result


def available_at_members(
    uow: PharmacyUnitOfWork, drug_code: str, community_id: str | None
) -> dict[str, int]:
    """Active members (of a community, or all) that could offer some of a drug now, with how
    much: unexpired stock less active reservations, in one query whatever their number."""
    usable = (
        select(StockLot.facility_id, func.sum(StockLot.on_hand).label("packs"))
        .where(
            StockLot.drug_code == drug_code,
            StockLot.expiry_date >= uow.today(),
            StockLot.on_hand > 0,
        )
        .group_by(StockLot.facility_id)
        .subquery()
    )
    held = (
        select(ReservationRow.facility_id, func.sum(ReservationRow.quantity).label("packs"))
        .where(ReservationRow.drug_code == drug_code, ReservationRow.active.is_(True))
        .group_by(ReservationRow.facility_id)
        .subquery()
    )
    query = (
        select(usable.c.facility_id, usable.c.packs - func.coalesce(held.c.packs, 0))
        .join(KnownFacility, KnownFacility.facility_id == usable.c.facility_id)
        .outerjoin(held, held.c.facility_id == usable.c.facility_id)
        .where(KnownFacility.active.is_(True))
    )
    if community_id is not None:
        query = query.where(KnownFacility.community_id == community_id)
    found = {facility: int(offer) for facility, offer in uow.session.execute(query)}
    return {facility: offer for facility, offer in found.items() if offer > 0}


def available_by_drug(
    uow: PharmacyUnitOfWork,
    facility_id: str,
    drug_codes: Iterable[str],
    lots: Mapping[str, list[LotBalance]] | None = None,
) -> dict[str, int]:
    """Unexpired stock less every active reservation, for several drugs in two queries."""
    codes = sorted(set(drug_codes))
    current = lots if lots is not None else uow.stock.lots(facility_id, codes)
    held = uow.stock.reserved_by_drug(facility_id, codes)
    today = uow.today()
    return {code: available(current.get(code, []), today, held_back=held[code]) for code in codes}


def available_now(
    uow: PharmacyUnitOfWork, facility_id: str, drug_code: str, lots: list[LotBalance]
) -> int:
    """Unexpired stock less every active reservation: what a new demand could get."""
    return available(lots, uow.today(), held_back=uow.stock.reserved(facility_id, drug_code))


def refresh_availability(
    uow: PharmacyUnitOfWork,
    facility_id: str,
    items: Mapping[str, StockItem],
    lots: Mapping[str, list[LotBalance]] | None = None,
) -> dict[str, int]:
    """Publish stocked_out / restocked for items whose state changed; returns what each has.

    A restock also closes the item's open shortages (缺药登记): the demand can be met again.
    """
    now = uow.now()
    result = available_by_drug(uow, facility_id, items, lots)
    for drug_code, item in sorted(items.items()):
        quantity = result[drug_code]
        if quantity == 0 and not item.stocked_out:
            item.stocked_out, item.changed_at = True, now
            uow.publish(StockedOut(facility_id=facility_id, drug_code=drug_code, occurred_at=now))
        elif quantity > 0 and item.stocked_out:
            item.stocked_out, item.changed_at = False, now
            uow.publish(
                Restocked(
                    facility_id=facility_id,
                    drug_code=drug_code,
                    available_quantity=quantity,
                    occurred_at=now,
                )
            )
            uow.session.execute(
                update(ShortageRow)
                .where(
                    ShortageRow.facility_id == facility_id,
                    ShortageRow.drug_code == drug_code,
                    ShortageRow.resolved_at.is_(None),
                )
                .values(resolved_at=now)
            )
    return result
