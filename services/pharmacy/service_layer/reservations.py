"""Announcing what reservations gave back: drawn by their patient, lapsed, or cancelled with
their referral. Reporting and the referral desks learn it from ``ReservationReleased``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from libs.events.catalogue.pharmacy import ReservationReleased
from services.pharmacy.domain.items import Draw
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["announce_released"]


def announce_released(
    uow: PharmacyUnitOfWork, draws: Iterable[Draw], reason: str, at: datetime
) -> None:
    """One event per draw that gave back packs (an empty reservation gives back nothing)."""
    for draw in draws:
        if draw.quantity > 0:
            uow.publish(
                ReservationReleased(
                    reservation_id=draw.reservation_id,
                    facility_id=draw.facility_id,
                    drug_code=draw.drug_code,
                    quantity=draw.quantity,
                    reason=reason,
                    released_at=at,
                )
            )
