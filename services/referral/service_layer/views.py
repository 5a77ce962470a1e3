"""Reading referrals for the admin API: who may see which, the detail, lists and timelines.

A clinic sees only referrals from or to it. Names and identity numbers are decrypted here,
for the response only; they are never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from libs.events.catalogue.values import ReferralDirection, ReferralPriority
from services.referral.adapters.schema import (
    CapacityHold,
    FollowUpBooking,
    Referral,
    SlaBreach,
    SpecialistSession,
    TimelineEntry,
)
from services.referral.config import ReferralConfig
from services.referral.domain.fhir import ReferralFacts
from services.referral.domain.lifecycle import ReferralState, allowed_actions, party_facility
from services.referral.domain.patient import mask_resident_id
from services.referral.service_layer.errors import Actor, NotAParty, ReferralNotFound
from services.referral.service_layer.recording import aware

__all__ = [
    "ReferralFilter",
    "detail",
    "fhir_facts",
    "list_referrals",
    "summary",
    "timeline",
    "visible_referral",
]


def visible_referral(session: Session, referral_id: str, actor: Actor) -> Referral:
    """The referral if ``actor`` may see it: 404 if none, 403 if neither party is theirs."""
    row = session.get(Referral, referral_id)
    if row is None:
        raise ReferralNotFound(f"referral {referral_id} does not exist")
    if not (actor.acts_for(row.from_facility_id) or actor.acts_for(row.to_facility_id)):
        raise NotAParty(f"referral {referral_id} is neither from nor to {actor.facility_id}")
    return row


def _patient(row: Referral, config: ReferralConfig, *, full: bool) -> dict[str, str]:
    open_ = config.cipher.decrypt
    national_id = open_(row.patient_national_id, row=row.referral_id, column="patient_national_id")
    return {
        "name": open_(row.patient_name, row=row.referral_id, column="patient_name"),
        "national_id": national_id if full else mask_resident_id(national_id),
        "pseudonym": row.patient_pseudonym,
    }


def _instant(value: datetime | None) -> datetime | None:
    return aware(value) if value is not None else None


def summary(row: Referral, config: ReferralConfig) -> dict[str, Any]:
    """A list line: the parties, where it stands, and whom it is about (masked number)."""
    return {
        "referral_id": row.referral_id,
        "state": row.state,
        "direction": row.direction,
        "priority": row.priority,
        "green_channel": row.green_channel,
        "from_facility_id": row.from_facility_id,
        "from_department_id": row.from_department_id,
        "to_facility_id": row.to_facility_id,
        "to_department_id": row.to_department_id,
        "reason_code": row.reason_code,
        "diagnosis_codes": row.diagnosis_codes,
        "patient": _patient(row, config, full=False),
        "requested_at": aware(row.requested_at),
        "accept_due_at": aware(row.accept_due_at),
        "scheduled_for": _instant(row.scheduled_for),
        "escalated_to_role": row.escalated_to_role,
        "updated_at": aware(row.updated_at),
    }


def _actions_for(row: Referral, actor: Actor) -> list[str]:
    mine = []
    for action in allowed_actions(ReferralState(row.state), ReferralPriority(row.priority)):
        facility = party_facility(
            action, from_facility_id=row.from_facility_id, to_facility_id=row.to_facility_id
        )
        if facility is not None and actor.acts_for(facility):
            mine.append(action.value)
    return mine


def _sla_breaches(session: Session, referral_id: str) -> list[dict[str, Any]]:
    """The deadlines the referral missed, in the order they were missed."""
    return [
        {
            "stage": b.stage,
            "due_at": aware(b.due_at),
            "breached_at": aware(b.breached_at),
            "escalated_to_role": b.escalated_to_role,
        }
        for b in session.scalars(
            select(SlaBreach)
            .where(SlaBreach.referral_id == referral_id)
            .order_by(SlaBreach.breached_at)
        )
    ]


def _capacity_hold(session: Session, referral_id: str) -> dict[str, Any] | None:
    """The slot or bed the referral holds (None once released or never held)."""
    hold = session.scalars(
        select(CapacityHold).where(
            CapacityHold.referral_id == referral_id, CapacityHold.released_at.is_(None)
        )
    ).first()
    if hold is None:
        return None
    return {
        "hold_id": hold.hold_id,
        "department_id": hold.department_id,
        "day": hold.day,
        "kind": hold.kind,
    }


def _follow_up_booking(session: Session, referral_id: str) -> dict[str, Any] | None:
    """The specialist session a downward referral's follow-up is booked into."""
    booking = session.get(FollowUpBooking, referral_id)
    sitting = session.get(SpecialistSession, booking.session_id) if booking else None
    if sitting is None:
        return None
    return {
        "session_id": sitting.session_id,
        "date": sitting.day,
        "half_day": sitting.half_day,
        "specialty": sitting.specialty,
    }


def detail(session: Session, row: Referral, config: ReferralConfig, actor: Actor) -> dict[str, Any]:
    """Everything about one referral, and what this caller may do next."""
    view = summary(row, config)
    view["patient"] = _patient(row, config, full=True)
    view["needs_bed"] = row.needs_bed
    view["clinical_note"] = (
        config.cipher.decrypt(row.clinical_note, row=row.referral_id, column="clinical_note")
        if row.clinical_note
        else None
    )
    view["follow_up_plan"] = row.follow_up_plan
    view["expire_at"] = aware(row.expire_at)
    view["arrive_due_at"] = _instant(row.arrive_due_at)
    view["decided_at"] = _instant(row.decided_at)
    view["arrived_at"] = _instant(row.arrived_at)
    view["completed_at"] = _instant(row.completed_at)
    view["record_returned"] = row.record_returned
    view["ended_at"] = _instant(row.ended_at)
    view["end_reason_code"] = row.end_reason_code
    view["allowed_actions"] = _actions_for(row, actor)
    view["sla_breaches"] = _sla_breaches(session, row.referral_id)
    view["capacity_hold"] = _capacity_hold(session, row.referral_id)
    view["follow_up_booking"] = _follow_up_booking(session, row.referral_id)
    return view


def timeline(session: Session, referral_id: str) -> list[dict[str, Any]]:
    """Every step of the referral in the order it happened."""
    entries = session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.referral_id == referral_id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    return [
        {
            "at": aware(e.at),
            "kind": e.kind,
            "state": e.state,
            "actor": e.actor,
            "details": e.details,
            "event_id": e.event_id,
        }
        for e in entries
    ]


@dataclass(frozen=True)
class ReferralFilter:
    direction: ReferralDirection | None = None
    priority: ReferralPriority | None = None
    state: ReferralState | None = None
    green_channel: str | None = None
    facility_id: str | None = None
    from_facility_id: str | None = None
    to_facility_id: str | None = None
    breached: bool | None = None
    escalated_to_role: str | None = None
    requested_from: datetime | None = None
    requested_until: datetime | None = None


def _conditions(wanted: ReferralFilter, actor: Actor) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if actor.facility_id is not None:
        conditions.append(
            or_(
                Referral.from_facility_id == actor.facility_id,
                Referral.to_facility_id == actor.facility_id,
            )
        )
    equal = [
        (Referral.direction, wanted.direction),
        (Referral.priority, wanted.priority),
        (Referral.state, wanted.state),
        (Referral.green_channel, wanted.green_channel),
        (Referral.from_facility_id, wanted.from_facility_id),
        (Referral.to_facility_id, wanted.to_facility_id),
        (Referral.escalated_to_role, wanted.escalated_to_role),
    ]
    conditions += [column == str(value) for column, value in equal if value is not None]
    if wanted.facility_id is not None:
        conditions.append(
            or_(
                Referral.from_facility_id == wanted.facility_id,
                Referral.to_facility_id == wanted.facility_id,
            )
        )
    if wanted.breached is not None:
        breached = exists().where(SlaBreach.referral_id == Referral.referral_id)
        conditions.append(breached if wanted.breached else ~breached)
    if wanted.requested_from is not None:
        conditions.append(Referral.requested_at >= wanted.requested_from)
    if wanted.requested_until is not None:
        conditions.append(Referral.requested_at < wanted.requested_until)
    return conditions


def list_referrals(
    session: Session, wanted: ReferralFilter, actor: Actor, *, limit: int, offset: int
) -> tuple[list[Referral], int]:
    """The referrals ``actor`` may see that match ``wanted``, newest first, and their count."""
    if (
        actor.facility_id is not None
        and wanted.facility_id is not None
        and wanted.facility_id != actor.facility_id
    ):
        raise NotAParty(f"this token acts for {actor.facility_id}, not {wanted.facility_id}")
    conditions = _conditions(wanted, actor)
    total = session.scalar(select(func.count()).select_from(Referral).where(*conditions)) or 0
    rows = session.scalars(
        select(Referral)
        .where(*conditions)
        .order_by(Referral.requested_at.desc(), Referral.referral_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total)


def fhir_facts(row: Referral, config: ReferralConfig) -> ReferralFacts:
    """What the FHIR view shows (see domain/fhir.py)."""
    return ReferralFacts(
        referral_id=row.referral_id,
        state=ReferralState(row.state),
        direction=ReferralDirection(row.direction),
        priority=ReferralPriority(row.priority),
        green_channel=row.green_channel,
        from_facility_id=row.from_facility_id,
        from_department_id=row.from_department_id,
        to_facility_id=row.to_facility_id,
        to_department_id=row.to_department_id,
        patient_pseudonym=row.patient_pseudonym,
        reason_code=row.reason_code,
        reason_display=config.codes.display(row.reason_code),
        diagnosis_codes=list(row.diagnosis_codes),
        requested_at=aware(row.requested_at),
        updated_at=aware(row.updated_at),
        scheduled_for=_instant(row.scheduled_for),
        arrived_at=_instant(row.arrived_at),
        completed_at=_instant(row.completed_at),
        end_reason_code=row.end_reason_code,
        end_reason_display=config.codes.display(row.end_reason_code)
        if row.end_reason_code
        else None,
    )
