"""Requesting a referral: the rules, the look-ups (facilities, formulary, capacity) and the
``requested`` event, in one unit of work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import structlog

from libs.directory import KnownFacility
from libs.events.catalogue.referral import ReferralRequested
from libs.events.unit_of_work import UnitOfWork
from services.referral.adapters.repository import ReferralRepository
from services.referral.adapters.schema import Referral
from services.referral.config import ReferralConfig
from services.referral.domain.lifecycle import ReferralState
from services.referral.domain.requests import ReferralRequest
from services.referral.service_layer.capacity import earliest_free
from services.referral.service_layer.errors import Actor, CapacityFull, NotAParty, rule_refusals
from services.referral.service_layer.formulary import check_plan_drugs
from services.referral.service_layer.parties import department_specialty, facility_role
from services.referral.service_layer.recording import publish_step, referral_ref
from services.referral.service_layer.unit_of_work import referral_records

__all__ = ["ReferralRequest", "Requested", "request_referral"]

log = structlog.get_logger("referral")


@dataclass(frozen=True)
class Requested:
    referral_id: str
    earliest_free_day: date | None


def _check_parties(records: ReferralRepository, request: ReferralRequest) -> KnownFacility:
    """Both parties are members and suit the direction, and the clinic may stock the plan's
    drugs; the referring facility, whose department may name the follow-up specialty."""
    origin_row, origin = facility_role(
        records, request.from_facility_id, request.from_department_id, side="from"
    )
    destination_row, destination = facility_role(
        records, request.to_facility_id, request.to_department_id, side="to"
    )
    with rule_refusals():
        request.check_route(origin, destination)
    if request.drug_codes:
        check_plan_drugs(records, request.drug_codes, destination_row.tier)
    return origin_row


def _free_day(
    records: ReferralRepository, config: ReferralConfig, request: ReferralRequest, now: datetime
) -> date | None:
    """The receiving department's first day with a free slot or bed, when one is needed."""
    kind = request.capacity_needed
    if kind is None or request.to_department_id is None:
        return None
    free_day = earliest_free(
        records, config, request.to_facility_id, request.to_department_id, kind, now
    )
    if free_day is None:
        raise CapacityFull(
            f"{request.to_department_id} has no free {kind.value} in the next "
            f"{config.capacity_lookahead_days} days"
        )
    return free_day


def _new_referral(
    config: ReferralConfig,
    request: ReferralRequest,
    *,
    follow_up_specialty: str | None,
    by: Actor,
    now: datetime,
) -> Referral:
    """The referral as stored: requested, its SLA deadlines set, the patient sealed."""
    referral_id = f"RF-{uuid.uuid4().hex[:24]}"
    requested_at = request.entered_at(now)
    seal = config.cipher.encrypt
    plan = request.follow_up_plan
    return Referral(
        referral_id=referral_id,
        direction=request.direction.value,
        priority=request.priority.value,
        green_channel=request.green_channel.value if request.green_channel else None,
        state=ReferralState.REQUESTED.value,
        from_facility_id=request.from_facility_id,
        from_department_id=request.from_department_id,
        to_facility_id=request.to_facility_id,
        to_department_id=request.to_department_id,
        needs_bed=request.needs_bed,
        patient_pseudonym=config.pseudonym(request.patient.national_id),
        patient_name=seal(request.patient.name, row=referral_id, column="patient_name"),
        patient_national_id=seal(
            request.patient.national_id, row=referral_id, column="patient_national_id"
        ),
        clinical_note=seal(request.clinical_note, row=referral_id, column="clinical_note")
        if request.clinical_note
        else None,
        reason_code=request.reason_code,
        diagnosis_codes=list(request.diagnosis_codes),
        follow_up_plan=plan.model_dump(mode="json") if plan is not None else None,
        follow_up_specialty=follow_up_specialty,
        requested_by=by.subject,
        requested_at=requested_at,
        accept_due_at=config.sla.accept_due(request.priority, requested_at),
        expire_at=config.sla.expire_at(request.priority, requested_at),
        updated_at=now,
    )


def _requested(row: Referral, request: ReferralRequest) -> ReferralRequested:
    return ReferralRequested(
        **referral_ref(row),
        from_department_id=request.from_department_id,
        to_department_id=request.to_department_id,
        patient_pseudonym=row.patient_pseudonym,
        reason_code=request.reason_code,
        diagnosis_codes=list(request.diagnosis_codes),
        follow_up_plan=request.follow_up_plan,
        accept_due_at=row.accept_due_at,
        requested_at=row.requested_at,
    )


def request_referral(
    uow: UnitOfWork,
    config: ReferralConfig,
    request: ReferralRequest,
    *,
    actor: Actor,
    now: datetime,
) -> Requested:
    """Record and announce a new referral; the referring facility's staff (or the county)."""
    if not actor.acts_for(request.from_facility_id):
        raise NotAParty(
            f"this token acts for {actor.facility_id}, not for {request.from_facility_id}"
        )
    with rule_refusals():
        request.check(now, config.backdate_limit, config.codes)
    with uow:
        records = referral_records(uow)
        origin = _check_parties(records, request)
        free_day = _free_day(records, config, request, now)
        specialty = request.follow_up_specialty(
            department_specialty(origin, request.from_department_id)
        )
        row = _new_referral(config, request, follow_up_specialty=specialty, by=actor, now=now)
        records.add(row)
        publish_step(
            uow,
            row,
            _requested(row, request),
            kind="requested",
            actor=actor.subject,
            at=row.requested_at,
            details={"earliest_free_day": free_day.isoformat() if free_day else None},
        )
        uow.commit()
    log.info(
        "referral requested",
        referral_id=row.referral_id,
        direction=request.direction.value,
        priority=request.priority.value,
    )
    return Requested(row.referral_id, free_day)
