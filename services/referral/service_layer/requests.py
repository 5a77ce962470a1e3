"""Requesting a referral: the rules, the look-ups (facilities, formulary, capacity) and the
``requested`` event, in one unit of work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import structlog

from libs.events.catalogue.referral import FollowUpPlan, ReferralRequested
from libs.events.catalogue.values import GreenChannel, ReferralDirection, ReferralPriority
from libs.events.unit_of_work import UnitOfWork
from services.referral.adapters.schema import Referral
from services.referral.config import ReferralConfig
from services.referral.domain import rules
from services.referral.domain.capacity import CapacityKind
from services.referral.domain.codes import UnknownCode
from services.referral.domain.follow_up import specialty_key
from services.referral.domain.lifecycle import ReferralState
from services.referral.domain.patient import PatientIdentity
from services.referral.service_layer.capacity import earliest_free
from services.referral.service_layer.errors import Actor, CapacityFull, NotAParty, RuleViolation
from services.referral.service_layer.formulary import check_plan_drugs
from services.referral.service_layer.parties import department_specialty, facility_role
from services.referral.service_layer.recording import publish_step, referral_ref

__all__ = ["ReferralRequest", "Requested", "request_referral"]

log = structlog.get_logger("referral")


@dataclass(frozen=True)
class ReferralRequest:
    """Everything a referring facility says about a patient it sends."""

    direction: ReferralDirection
    priority: ReferralPriority
    from_facility_id: str
    to_facility_id: str
    patient: PatientIdentity
    reason_code: str
    diagnosis_codes: list[str] = field(default_factory=list)
    green_channel: GreenChannel | None = None
    from_department_id: str | None = None
    to_department_id: str | None = None
    needs_bed: bool = False
    clinical_note: str | None = field(default=None, repr=False)
    follow_up_plan: FollowUpPlan | None = None
    requested_at: datetime | None = None


@dataclass(frozen=True)
class Requested:
    referral_id: str
    earliest_free_day: date | None


def _check_rules(
    config: ReferralConfig, request: ReferralRequest, requested_at: datetime, now: datetime
) -> None:
    try:
        rules.check_requested_at(requested_at, now, config.backdate_limit)
        rules.check_priority(
            request.direction,
            request.priority,
            request.green_channel,
            request.follow_up_plan is not None,
        )
        if request.follow_up_plan is not None:
            rules.check_medications([m.drug_code for m in request.follow_up_plan.medications])
        config.codes.check_request_reason(request.direction, request.reason_code)
    except rules.ReferralRuleError as exc:
        raise RuleViolation(exc.code, exc.message) from None
    except UnknownCode as exc:
        raise RuleViolation(
            "unknown_code", str(exc), {"field": exc.field, "known": exc.allowed}
        ) from None


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
    # Stored and compared in UTC (SQLite keeps no offset).
    requested_at = (request.requested_at or now).astimezone(UTC)
    _check_rules(config, request, requested_at, now)
    plan = request.follow_up_plan
    with uow:
        session = uow.session
        origin_row, origin = facility_role(
            session, request.from_facility_id, request.from_department_id, side="from"
        )
        destination_row, destination = facility_role(
            session, request.to_facility_id, request.to_department_id, side="to"
        )
        try:
            rules.check_route(request.direction, origin, destination)
        except rules.ReferralRuleError as exc:
            raise RuleViolation(exc.code, exc.message) from None
        if plan is not None and plan.medications:
            check_plan_drugs(session, [m.drug_code for m in plan.medications], destination_row.tier)
        kind = CapacityKind.BED if request.needs_bed else CapacityKind.SLOT
        free_day = None
        if request.to_department_id and request.priority is not ReferralPriority.EMERGENCY:
            free_day = earliest_free(
                session, config, request.to_facility_id, request.to_department_id, kind, now
            )
            if free_day is None:
                raise CapacityFull(
                    f"{request.to_department_id} has no free {kind.value} in the next "
                    f"{config.capacity_lookahead_days} days"
                )
        specialty = None
        if plan is not None:
            specialty = plan.follow_up_specialty or department_specialty(
                origin_row, request.from_department_id
            )
        referral_id = f"RF-{uuid.uuid4().hex[:24]}"
        seal = config.cipher.encrypt
        row = Referral(
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
            follow_up_specialty=specialty_key(specialty) if specialty else None,
            requested_by=actor.subject,
            requested_at=requested_at,
            accept_due_at=config.sla.accept_due(request.priority, requested_at),
            expire_at=config.sla.expire_at(request.priority, requested_at),
            updated_at=now,
        )
        session.add(row)
        publish_step(
            uow,
            row,
            ReferralRequested(
                **referral_ref(row),
                from_department_id=request.from_department_id,
                to_department_id=request.to_department_id,
                patient_pseudonym=row.patient_pseudonym,
                reason_code=request.reason_code,
                diagnosis_codes=list(request.diagnosis_codes),
                follow_up_plan=plan,
                accept_due_at=row.accept_due_at,
                requested_at=requested_at,
            ),
            kind="requested",
            actor=actor.subject,
            at=requested_at,
            details={"earliest_free_day": free_day.isoformat() if free_day else None},
        )
        uow.commit()
    log.info(
        "referral requested",
        referral_id=referral_id,
        direction=request.direction.value,
        priority=request.priority.value,
    )
    return Requested(referral_id, free_day)
