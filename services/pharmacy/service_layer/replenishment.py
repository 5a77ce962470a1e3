"""The re-order point in action: a facility low on a drug asks its central pharmacy.

Levels come from consumption (see ``domain/replenishment.py``) unless the pharmacy centre set
them for the item. A request is raised only when no transfer of that drug to the facility is
still open, so a busy day does not raise one per prescription.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta

from sqlalchemy import select

from libs.directory import KnownFacility
from libs.events.catalogue.pharmacy import TransferReason, TransferRequested
from services.pharmacy.adapters.schema import LevelOverride, TransferLineRow, TransferRow
from services.pharmacy.adapters.sql import aware
from services.pharmacy.domain.replenishment import (
    StockLevels,
    consumption_window_days,
    levels_from_consumption,
    quantity_to_request,
)
from services.pharmacy.domain.transfers import OPEN_STATES
from services.pharmacy.service_layer.transfers import TransferRequest, open_transfer
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = [
    "central_pharmacy_of",
    "levels_for",
    "levels_for_drugs",
    "open_transfer_drugs",
    "replenish",
]

SYSTEM = "system:reorder-point"


def levels_for(uow: PharmacyUnitOfWork, facility_id: str, drug_code: str) -> StockLevels:
    """The levels in force: the pharmacy centre's if set, else from average consumption."""
    return levels_for_drugs(uow, facility_id, [drug_code])[drug_code]


def levels_for_drugs(
    uow: PharmacyUnitOfWork, facility_id: str, drug_codes: Iterable[str]
) -> dict[str, StockLevels]:
    """:func:`levels_for` for several drugs of one facility, in three queries whatever their
    number (dispensing asks for every drug of a prescription)."""
    codes = sorted(set(drug_codes))
    if not codes:
        return {}
    overrides = {
        row.drug_code: row
        for row in uow.session.scalars(
            select(LevelOverride).where(
                LevelOverride.facility_id == facility_id, LevelOverride.drug_code.in_(codes)
            )
        )
    }
    computed = _levels_from_card(uow, facility_id, codes)
    result: dict[str, StockLevels] = {}
    for code in codes:
        override = overrides.get(code)
        if override is None:
            result[code] = computed[code]
        else:
            amc = computed[code].average_monthly_consumption
            result[code] = StockLevels(
                amc, override.reorder_point, override.target_level, manual=True
            )
    return result


def _levels_from_card(
    uow: PharmacyUnitOfWork, facility_id: str, codes: list[str]
) -> dict[str, StockLevels]:
    policy = uow.policy.replenishment
    now = uow.now()
    windows: dict[str, int] = {}
    for code, first in uow.stock.first_movements(facility_id, codes).items():
        age_days = (now - aware(first)).days + 1 if first is not None else 0
        windows[code] = consumption_window_days(age_days, policy)
    consumed = uow.stock.consumed_since_by_drug(
        facility_id, {code: now - timedelta(days=window) for code, window in windows.items()}
    )
    return {code: levels_from_consumption(consumed[code], windows[code], policy) for code in codes}


def central_pharmacy_of(uow: PharmacyUnitOfWork, facility: KnownFacility) -> str | None:
    """The lead facility of the facility's community: the central pharmacy supplying it."""
    return uow.records.central_pharmacy_of(facility)


def open_transfer_drugs(uow: PharmacyUnitOfWork, facility_id: str) -> set[str]:
    """Drugs already on their way to the facility (a transfer requested, approved or shipped)."""
    rows = uow.session.scalars(
        select(TransferLineRow.drug_code)
        .join(TransferRow, TransferRow.transfer_id == TransferLineRow.transfer_id)
        .where(
            TransferRow.to_facility_id == facility_id,
            TransferRow.state.in_([s.value for s in OPEN_STATES]),
        )
    )
    return set(rows)


def replenish(
    uow: PharmacyUnitOfWork,
    facility: KnownFacility,
    available: Mapping[str, int],
    short: Mapping[str, int] | None = None,
) -> TransferRequested | None:
    """Ask the central pharmacy for every drug that crossed its re-order point or fell short.

    ``available`` is what each touched drug has now (unexpired, unreserved); ``short`` what a
    demand just lacked. Runs inside the caller's unit of work; one request for all the drugs.
    The central pharmacy itself is supplied by purchases, not transfers: nothing is raised.
    """
    central = central_pharmacy_of(uow, facility)
    if central is None or central == facility.facility_id:
        return None
    short = short or {}
    on_the_way = open_transfer_drugs(uow, facility.facility_id)
    wanted: dict[str, int] = {}
    considered = sorted(code for code in available if code not in on_the_way)
    levels_by_drug = levels_for_drugs(uow, facility.facility_id, considered)
    for drug_code in considered:
        quantity = available[drug_code]
        levels = levels_by_drug[drug_code]
        needed = quantity_to_request(quantity, short.get(drug_code, 0), levels)
        if needed:
            wanted[drug_code] = needed
    if not wanted:
        return None
    return open_transfer(
        uow,
        TransferRequest(
            from_facility_id=central,
            to_facility_id=facility.facility_id,
            reason=TransferReason.REPLENISHMENT,
            quantities=wanted,
            requested_by=SYSTEM,
        ),
    )
