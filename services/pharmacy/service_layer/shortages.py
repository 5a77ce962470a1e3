"""A shortage: a facility could not give what a prescription or a referral needed.

Recorded for the replenishment review and announced (reporting counts them); the same
for a patient at the counter and for a patient referred down with a medication plan.
"""

from __future__ import annotations

from datetime import datetime

from libs.events.catalogue.pharmacy import ShortageRecorded
from services.pharmacy.adapters.schema import ShortageRow
from services.pharmacy.service_layer.ids import new_id
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["record_shortage"]


def record_shortage(
    uow: PharmacyUnitOfWork,
    facility_id: str,
    drug_code: str,
    quantity_short: int,
    at: datetime,
    *,
    prescription_id: str | None = None,
    referral_id: str | None = None,
) -> None:
    """Store the shortage and announce it, naming what it fell short for."""
    fields = {
        "shortage_id": new_id("SHT"),
        "facility_id": facility_id,
        "drug_code": drug_code,
        "quantity_short": quantity_short,
        "recorded_at": at,
    }
    cause = {"prescription_id": prescription_id} if prescription_id else {}
    if referral_id:
        cause["referral_id"] = referral_id
    uow.records.add_shortage(ShortageRow(**fields, **cause))
    uow.publish(ShortageRecorded(**fields, **cause))
