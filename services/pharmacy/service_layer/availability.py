"""Whether each touched item is stocked out, announced when that changes.

Called at the end of every use case that moves stock, with the items still locked, so the
stocked_out / restocked events alternate strictly for each facility and drug.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import update

from libs.events.catalogue.pharmacy import Restocked, StockedOut
from services.pharmacy.adapters.schema import ShortageRow, StockItem
from services.pharmacy.domain.stock import LotBalance, available
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["available_now", "refresh_availability"]


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
    current = lots if lots is not None else uow.stock.lots(facility_id, items)
    held = uow.stock.reserved_by_drug(facility_id, items)
    today = uow.today()
    result: dict[str, int] = {}
    for drug_code, item in sorted(items.items()):
        quantity = available(current.get(drug_code, []), today, held_back=held[drug_code])
        result[drug_code] = quantity
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
