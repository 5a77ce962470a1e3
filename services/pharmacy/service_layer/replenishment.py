"""The re-order point in action: a facility low on a drug asks its central pharmacy.

Levels come from consumption (see ``domain/replenishment.py``) unless the pharmacy centre set
them for the item. Consumption is read from the running figures (``daily_consumption``: packs
dispensed per business day, kept with the stock card), never summed over the card. A request
is raised only when no transfer of that drug to the facility is still open, so a busy day
does not raise one per prescription.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta

from libs.directory import KnownFacility
from libs.events.catalogue.pharmacy import TransferReason, TransferRequested
from services.pharmacy.adapters.repository import ItemKey
from services.pharmacy.domain.replenishment import (
    ItemHistory,
    StockLevels,
    levels_in_force,
    quantity_to_request,
)
from services.pharmacy.service_layer.transfers import TransferRequest, open_transfer
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["ReorderCheck", "central_pharmacy_of", "levels_for", "replenish"]

SYSTEM = "system:reorder-point"


def _histories(uow: PharmacyUnitOfWork, keys: Iterable[ItemKey]) -> dict[ItemKey, ItemHistory]:
    # The longest window there can be ends today: older days never count.
    since = uow.today() - timedelta(days=uow.policy.replenishment.lookback_days - 1)
    return uow.records.item_histories(keys, since)


def levels_for(uow: PharmacyUnitOfWork, facility_id: str, drug_code: str) -> StockLevels:
    """The levels in force: the pharmacy centre's if set, else from average consumption."""
    history = _histories(uow, [(facility_id, drug_code)])[(facility_id, drug_code)]
    return levels_in_force(history, uow.today(), uow.policy.replenishment)


def central_pharmacy_of(uow: PharmacyUnitOfWork, facility: KnownFacility) -> str | None:
    """The lead facility of the facility's community: the central pharmacy supplying it."""
    return uow.records.central_pharmacy_of(facility)


class ReorderCheck:
    """The re-order check for the items one use case moves, at whichever facilities: what
    it needs (central pharmacies, open transfers, consumption and levels) is loaded once, then
    kept current in memory as the use case dispenses and requests, so a set of prescriptions
    asks exactly as the same prescriptions one by one would."""

    def __init__(
        self,
        uow: PharmacyUnitOfWork,
        keys: Iterable[ItemKey],
        facilities: Mapping[str, KnownFacility],
    ) -> None:
        self._uow = uow
        self._today = uow.today()
        self._central = {f: central_pharmacy_of(uow, known) for f, known in facilities.items()}
        # The central pharmacy itself is supplied by purchases: nothing to load for it.
        supplied = {f for f, central in self._central.items() if central not in (None, f)}
        self._on_the_way = uow.records.open_transfer_drugs(supplied) if supplied else {}
        self._histories = _histories(uow, sorted({k for k in keys if k[0] in supplied}))

    def dispensed(self, facility_id: str, drug_code: str, packs: int) -> None:
        """Count packs dispensed today, as the running table will once they are saved."""
        history = self._histories.get((facility_id, drug_code))
        if history is not None:
            history.dispense(self._today, packs)
            if packs and history.first_moved_on is None:  # its first line is saved with them
                history.first_moved_on = self._today

    def request(
        self,
        facility: KnownFacility,
        available: Mapping[str, int],
        short: Mapping[str, int] | None = None,
    ) -> TransferRequested | None:
        """Ask the central pharmacy for every drug that crossed its re-order point or fell
        short: ``available`` is what each touched drug has now (unexpired, unreserved),
        ``short`` what a demand just lacked. One request for all the drugs, or none."""
        facility_id = facility.facility_id
        central = self._central.get(facility_id)
        if central is None or central == facility_id:
            return None
        short = short or {}
        on_the_way = self._on_the_way.setdefault(facility_id, set())
        wanted: dict[str, int] = {}
        for drug_code in sorted(code for code in available if code not in on_the_way):
            history = self._histories.setdefault((facility_id, drug_code), ItemHistory())
            levels = levels_in_force(history, self._today, self._uow.policy.replenishment)
            needed = quantity_to_request(available[drug_code], short.get(drug_code, 0), levels)
            if needed:
                wanted[drug_code] = needed
        if not wanted:
            return None
        on_the_way.update(wanted)
        return open_transfer(
            self._uow,
            TransferRequest(
                from_facility_id=central,
                to_facility_id=facility_id,
                reason=TransferReason.REPLENISHMENT,
                quantities=wanted,
                requested_by=SYSTEM,
            ),
        )


def replenish(
    uow: PharmacyUnitOfWork,
    facility: KnownFacility,
    available: Mapping[str, int],
    short: Mapping[str, int] | None = None,
) -> TransferRequested | None:
    """:meth:`ReorderCheck.request` for one use case's drugs at one facility, inside the
    caller's unit of work (after stock moved down: a count, a write-off, a shipment...)."""
    keys = [(facility.facility_id, code) for code in available]
    check = ReorderCheck(uow, keys, {facility.facility_id: facility})
    return check.request(facility, available, short)
