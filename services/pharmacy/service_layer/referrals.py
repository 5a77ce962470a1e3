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

from datetime import timedelta

from sqlalchemy import select

from libs.events.catalogue.pharmacy import (
    ReservationReleased,
    ShortageRecorded,
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
from services.pharmacy.adapters.schema import (
    DrugRow,
    ReferralPatient,
    ReservationRow,
    ShortageRow,
)
from services.pharmacy.domain.formulary import refusal_for
from services.pharmacy.domain.stock import available
from services.pharmacy.service_layer.availability import refresh_availability
from services.pharmacy.service_layer.formulary import drug_of
from services.pharmacy.service_layer.ids import new_id
from services.pharmacy.service_layer.replenishment import central_pharmacy_of
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
    rows = {
        row.drug_code: row
        for row in uow.session.scalars(select(DrugRow).where(DrugRow.drug_code.in_(planned)))
    }
    unknown = sorted(set(planned) - set(rows))
    if unknown:
        raise PermanentError("unknown_drug", f"not in the formulary: {', '.join(unknown)}")
    done = set(
        uow.session.scalars(
            select(ReservationRow.drug_code).where(ReservationRow.referral_id == data.referral_id)
        )
    )
    patient = uow.session.get(ReferralPatient, data.referral_id)
    now, today = uow.now(), uow.today()
    hold_days = plan.follow_up_within_days or uow.policy.reservation_hold_days
    until = uow.policy.local_date(data.accepted_at) + timedelta(days=hold_days)
    tier, kind = FacilityTier(clinic.tier), FacilityType(clinic.facility_type)

    to_reserve = {code: q for code, q in planned.items() if code not in done}
    allowed = {}
    for code, quantity in sorted(to_reserve.items()):
        refusal = refusal_for(drug_of(rows[code]), tier, kind)
        if refusal is None:
            allowed[code] = quantity
        else:
            _shortage(uow, data, code, quantity)
    if not allowed:
        return
    items = uow.stock.lock_items(clinic.facility_id, allowed, now)
    lots = uow.stock.lots(clinic.facility_id, allowed)
    lacking: dict[str, int] = {}
    for code, quantity in sorted(allowed.items()):
        free = available(lots[code], today, held_back=uow.stock.reserved(clinic.facility_id, code))
        reservation_id = new_id("RSV")
        uow.session.add(
            ReservationRow(
                reservation_id=reservation_id,
                facility_id=clinic.facility_id,
                drug_code=code,
                referral_id=data.referral_id,
                patient_pseudonym=patient.patient_pseudonym if patient else None,
                quantity=quantity,
                reserved_until=until,
                active=True,
                reserved_at=now,
            )
        )
        uow.publish(
            StockReserved(
                reservation_id=reservation_id,
                facility_id=clinic.facility_id,
                drug_code=code,
                quantity=quantity,
                referral_id=data.referral_id,
                reserved_until=until,
                reserved_at=now,
            )
        )
        if free < quantity:
            lacking[code] = quantity - free
    refresh_availability(uow, clinic.facility_id, items, lots)
    if not lacking:
        return
    central = central_pharmacy_of(uow, clinic)
    if central is None or central == clinic.facility_id:
        for code, quantity in sorted(lacking.items()):
            _shortage(uow, data, code, quantity)
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


def _shortage(
    uow: PharmacyUnitOfWork, data: ReferralAccepted, drug_code: str, quantity: int
) -> None:
    now = uow.now()
    shortage_id = new_id("SHT")
    uow.session.add(
        ShortageRow(
            shortage_id=shortage_id,
            facility_id=data.to_facility_id,
            drug_code=drug_code,
            quantity_short=quantity,
            referral_id=data.referral_id,
            recorded_at=now,
        )
    )
    uow.publish(
        ShortageRecorded(
            shortage_id=shortage_id,
            facility_id=data.to_facility_id,
            drug_code=drug_code,
            quantity_short=quantity,
            referral_id=data.referral_id,
            recorded_at=now,
        )
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
        items = uow.stock.lock_items(facility_id, codes, now)
        for reservation in uow.session.scalars(
            select(ReservationRow).where(
                ReservationRow.referral_id == data.referral_id,
                ReservationRow.facility_id == facility_id,
                ReservationRow.active.is_(True),
            )
        ):
            reservation.active = False
            reservation.released_reason, reservation.released_at = "referral_cancelled", now
            if reservation.quantity > 0:
                uow.publish(
                    ReservationReleased(
                        reservation_id=reservation.reservation_id,
                        facility_id=facility_id,
                        drug_code=reservation.drug_code,
                        quantity=reservation.quantity,
                        reason="referral_cancelled",
                        released_at=now,
                    )
                )
        refresh_availability(uow, facility_id, items)
