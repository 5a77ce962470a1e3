"""Downward referrals (下转): the receiving clinic must be able to give the patient the drugs
of the follow-up plan.

- ``referral.requested`` (down): remember whose referral it is (a pseudonym), so the
  reservation can later be dispensed to that patient and held back from everyone else.
- ``referral.accepted`` (down, with medications): at ``to_facility_id``, reserve the planned
  quantity of each drug; what the clinic lacks is asked of its central pharmacy in one
  transfer (reason referral_medication). A drug the clinic may not hold is recorded as a
  shortage with the referral's id. Handled once per referral and drug.
- ``referral.cancelled``: its active reservations are released.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select

from libs.directory import KnownFacility
from libs.events.catalogue.pharmacy import (
    StockReserved,
    TransferReason,
)
from libs.events.catalogue.referral import (
    ReferralAccepted,
    ReferralCancelled,
    ReferralRequested,
)
from libs.events.catalogue.values import FacilityTier, FacilityType, ReferralDirection
from libs.events.retry import PermanentError
from services.pharmacy.adapters.schema import ReferralPatient, ReservationRow
from services.pharmacy.domain.formulary import Drug, refusal_for
from services.pharmacy.domain.items import Reservation
from services.pharmacy.service_layer.availability import (
    announce_availability,
)
from services.pharmacy.service_layer.ids import new_id
from services.pharmacy.service_layer.replenishment import central_pharmacy_of
from services.pharmacy.service_layer.reservations import announce_released
from services.pharmacy.service_layer.shortages import record_shortage
from services.pharmacy.service_layer.transfers import TransferRequest, open_transfer
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["release_for_cancelled", "remember_patient", "reserve_for_referral"]

SYSTEM = "system:referral"


def remember_patient(uow: PharmacyUnitOfWork, data: ReferralRequested) -> None:
    """Keep the pseudonym of a downward referral's patient."""
    if data.direction is not ReferralDirection.DOWN:
        return
    if uow.session.get(ReferralPatient, data.referral_id) is None:
        uow.session.add(
            ReferralPatient(
                referral_id=data.referral_id,
                patient_pseudonym=data.patient_pseudonym,
                to_facility_id=data.to_facility_id,
                recorded_at=uow.now(),
            )
        )


def reserve_for_referral(uow: PharmacyUnitOfWork, data: ReferralAccepted) -> None:
    """Reserve the follow-up plan's drugs at the receiving clinic, or have them sent."""
    plan = data.follow_up_plan
    if data.direction is not ReferralDirection.DOWN or plan is None or not plan.medications:
        return
    clinic = uow.directory.require(data.to_facility_id)
    planned: dict[str, int] = {}
    for medication in plan.medications:
        planned[medication.drug_code] = planned.get(medication.drug_code, 0) + medication.quantity
    drugs = uow.records.drugs(planned)
    unknown = sorted(set(planned) - set(drugs))
    if unknown:
        raise PermanentError("unknown_drug", f"not in the formulary: {', '.join(unknown)}")
    done = set(
        uow.session.scalars(
            select(ReservationRow.drug_code).where(ReservationRow.referral_id == data.referral_id)
        )
    )
    allowed = _allowed(
        uow, data, clinic, drugs, {c: q for c, q in planned.items() if c not in done}
    )
    if not allowed:
        return
    now, today = uow.now(), uow.today()
    hold_days = plan.follow_up_within_days or uow.policy.reservation_hold_days
    until = uow.clock.date_of(data.accepted_at) + timedelta(days=hold_days)
    patient = uow.session.get(ReferralPatient, data.referral_id)
    items = uow.items.lock(clinic.facility_id, allowed, now)
    lacking: dict[str, int] = {}
    for code, quantity in sorted(allowed.items()):
        reservation = Reservation(
            new_id("RSV"),
            quantity,
            patient_pseudonym=patient.patient_pseudonym if patient else None,
            referral_id=data.referral_id,
            reserved_until=until,
            reserved_at=now,
        )
        short = items[code].reserve(reservation, today)
        uow.publish(
            StockReserved(
                reservation_id=reservation.reservation_id,
                facility_id=clinic.facility_id,
                drug_code=code,
                quantity=quantity,
                referral_id=data.referral_id,
                reserved_until=until,
                reserved_at=now,
            )
        )
        if short:
            lacking[code] = short
    uow.items.save(items.values(), now)
    announce_availability(uow, items)
    if lacking:
        _supply(uow, data, clinic, lacking)


def _allowed(
    uow: PharmacyUnitOfWork,
    data: ReferralAccepted,
    clinic: KnownFacility,
    drugs: Mapping[str, Drug],
    to_reserve: Mapping[str, int],
) -> dict[str, int]:
    """What the clinic may hold; a drug it may not is recorded as a shortage."""
    tier, kind = FacilityTier(clinic.tier), FacilityType(clinic.facility_type)
    allowed = {}
    for code, quantity in sorted(to_reserve.items()):
        if refusal_for(drugs[code], tier, kind) is None:
            allowed[code] = quantity
        else:
            _short(uow, data, code, quantity)
    return allowed


def _supply(
    uow: PharmacyUnitOfWork, data: ReferralAccepted, clinic: KnownFacility, lacking: dict[str, int]
) -> None:
    """Ask the clinic's central pharmacy for what the shelf lacks (or record it as short)."""
    central = central_pharmacy_of(uow, clinic)
    if central is None or central == clinic.facility_id:
        for code, quantity in sorted(lacking.items()):
            _short(uow, data, code, quantity)
        return
    open_transfer(
        uow,
        TransferRequest(
            from_facility_id=central,
            to_facility_id=clinic.facility_id,
            reason=TransferReason.REFERRAL_MEDICATION,
            quantities=lacking,
            requested_by=SYSTEM,
            referral_id=data.referral_id,
        ),
    )


def release_for_cancelled(uow: PharmacyUnitOfWork, data: ReferralCancelled) -> None:
    """A cancelled referral needs nothing kept for it any more."""
    now = uow.now()
    by_facility: dict[str, set[str]] = {}
    for row in uow.session.execute(
        select(ReservationRow.facility_id, ReservationRow.drug_code).where(
            ReservationRow.referral_id == data.referral_id, ReservationRow.active.is_(True)
        )
    ):
        by_facility.setdefault(row.facility_id, set()).add(row.drug_code)
    for facility_id, codes in sorted(by_facility.items()):
        items = uow.items.lock(facility_id, codes, now)
        for item in items.values():
            released = item.release(
                "referral_cancelled", lambda r: r.referral_id == data.referral_id
            )
            announce_released(uow, released, "referral_cancelled", now)
        announce_availability(uow, items)


def _short(uow: PharmacyUnitOfWork, data: ReferralAccepted, drug_code: str, quantity: int) -> None:
    record_shortage(
        uow, data.to_facility_id, drug_code, quantity, uow.now(), referral_id=data.referral_id
    )
