"""Acting on a referral: accept, reject, schedule, arrive, complete, cancel.

Each action locks the referral's row, checks who may take it and whether its state admits
it (the domain's state machine), applies its effects (capacity holds, follow-up booking, a
late step's SLA breach) and publishes its event, all in one unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import select

from libs.events.catalogue.referral import (
    FollowUpPlan,
    ReferralAccepted,
    ReferralArrived,
    ReferralCancelled,
    ReferralCompleted,
    ReferralRejected,
    ReferralScheduled,
)
from libs.events.catalogue.values import ReferralDirection, ReferralPriority
from libs.events.payload import Payload
from libs.events.unit_of_work import UnitOfWork
from services.referral.adapters.schema import Referral
from services.referral.config import ReferralConfig
from services.referral.domain.capacity import CapacityKind
from services.referral.domain.codes import UnknownCode
from services.referral.domain.lifecycle import (
    ACTION_PARTY,
    Action,
    InvalidTransition,
    Party,
    ReferralState,
    next_state,
    party_facility,
)
from services.referral.domain.sla import Stage
from services.referral.service_layer.capacity import hold_capacity, release_holds
from services.referral.service_layer.errors import (
    Actor,
    NotAParty,
    ReferralNotFound,
    RefusedTransition,
    RuleViolation,
)
from services.referral.service_layer.follow_up import lock_bookings, try_book, unbook
from services.referral.service_layer.recording import aware, publish_step, referral_ref
from services.referral.service_layer.sla import record_breach

__all__ = ["ActionRequest", "act", "authorise"]

log = structlog.get_logger("referral")

#: How far ahead an appointment may be made.
SCHEDULE_HORIZON = timedelta(days=180)


@dataclass(frozen=True)
class ActionRequest:
    action: Action
    reason_code: str | None = None
    scheduled_for: datetime | None = None
    record_returned: bool = True


def authorise(row: Referral, action: Action, actor: Actor) -> None:
    """Only the party an action belongs to (or the county) may take it."""
    facility = party_facility(
        action, from_facility_id=row.from_facility_id, to_facility_id=row.to_facility_id
    )
    if facility is None:
        raise NotAParty(f"{action.value} is done by the SLA job, not by a person")
    if not actor.acts_for(facility):
        side = "receiving" if ACTION_PARTY[action] is Party.RECEIVER else "referring"
        raise NotAParty(f"only the {side} facility {facility} may {action.value} this referral")


@dataclass(frozen=True)
class _Context:
    uow: UnitOfWork
    config: ReferralConfig
    row: Referral
    request: ActionRequest
    actor: Actor
    now: datetime
    was: ReferralState

    @property
    def priority(self) -> ReferralPriority:
        return ReferralPriority(self.row.priority)

    def publish(self, payload: Payload, details: dict[str, object] | None = None) -> None:
        """Announce the step; its timeline entry is named after the state it led to."""
        publish_step(
            self.uow,
            self.row,
            payload,
            kind=self.row.state,
            actor=self.actor.subject,
            at=self.now,
            details=details,
        )

    def late(self, stage: Stage, due: datetime | None) -> None:
        """A step taken after its deadline records the breach if the SLA job has not."""
        if due is not None and self.now > aware(due):
            record_breach(self.uow, self.config.sla, self.row, stage, aware(due), now=self.now)

    def reason(self, check: Callable[[str], None]) -> str:
        code = self.request.reason_code
        if code is None:
            raise RuleViolation(
                "reason_required", f"{self.request.action.value} needs a reason_code"
            )
        try:
            check(code)
        except UnknownCode as exc:
            raise RuleViolation(
                "unknown_code", str(exc), {"field": exc.field, "known": exc.allowed}
            ) from None
        return code


def _accept(ctx: _Context) -> None:
    row, now = ctx.row, ctx.now
    ctx.late(Stage.ACCEPTANCE, row.accept_due_at)
    row.decided_at = now
    row.accept_seconds = max(0.0, (now - aware(row.requested_at)).total_seconds())
    row.arrive_due_at = ctx.config.sla.arrive_due(ctx.priority, now)
    plan = FollowUpPlan.model_validate(row.follow_up_plan) if row.follow_up_plan else None
    if plan is not None and row.direction == ReferralDirection.DOWN.value:
        row.follow_up_from = ctx.config.clock.date_of(now)
        days = plan.follow_up_within_days or ctx.config.follow_up_default_days
        row.follow_up_by = row.follow_up_from + timedelta(days=days)
    ctx.publish(ReferralAccepted(**referral_ref(row), follow_up_plan=plan, accepted_at=now))
    try_book(ctx.uow, row, at=now, actor=ctx.actor.subject)


def _reject(ctx: _Context) -> None:
    code = ctx.reason(ctx.config.codes.check_rejection_reason)
    ctx.late(Stage.ACCEPTANCE, ctx.row.accept_due_at)
    ctx.row.decided_at = ctx.row.ended_at = ctx.now
    ctx.row.end_reason_code = code
    ctx.publish(
        ReferralRejected(**referral_ref(ctx.row), reason_code=code, rejected_at=ctx.now),
        {"reason_code": code},
    )


def _schedule(ctx: _Context) -> None:
    row, now, when = ctx.row, ctx.now, ctx.request.scheduled_for
    if when is None:
        raise RuleViolation("scheduled_for_required", "schedule needs scheduled_for")
    when = when.astimezone(UTC)
    if when < now - timedelta(minutes=5) or when > now + SCHEDULE_HORIZON:
        raise RuleViolation(
            "scheduled_for_out_of_range",
            f"scheduled_for must be between now and {SCHEDULE_HORIZON.days} days ahead",
        )
    release_holds(ctx.uow.session, row.referral_id, now)  # a reschedule gives back the old one
    slot_id = None
    if row.to_department_id:
        hold = hold_capacity(
            ctx.uow.session,
            referral_id=row.referral_id,
            facility_id=row.to_facility_id,
            department_id=row.to_department_id,
            day=ctx.config.clock.date_of(when),
            kind=CapacityKind.BED if row.needs_bed else CapacityKind.SLOT,
            now=now,
            overbook=ctx.priority is ReferralPriority.EMERGENCY,
        )
        slot_id = hold.hold_id
    row.scheduled_for = when
    ctx.publish(
        ReferralScheduled(
            **referral_ref(row), scheduled_for=when, slot_id=slot_id, scheduled_at=now
        ),
        {"scheduled_for": when.isoformat(), "slot_id": slot_id},
    )


def _arrive(ctx: _Context) -> None:
    ctx.late(Stage.ARRIVAL, ctx.row.arrive_due_at)
    ctx.row.arrived_at = ctx.now
    ctx.publish(ReferralArrived(**referral_ref(ctx.row), arrived_at=ctx.now))


def _complete(ctx: _Context) -> None:
    ctx.row.completed_at = ctx.now
    ctx.row.record_returned = ctx.request.record_returned
    ctx.publish(
        ReferralCompleted(
            **referral_ref(ctx.row),
            record_returned=ctx.request.record_returned,
            completed_at=ctx.now,
        ),
        {"record_returned": ctx.request.record_returned},
    )


def _cancel(ctx: _Context) -> None:
    code = ctx.reason(ctx.config.codes.check_cancellation_reason)
    row, now = ctx.row, ctx.now
    if ctx.was is ReferralState.REQUESTED:
        ctx.late(Stage.ACCEPTANCE, row.accept_due_at)
    else:
        ctx.late(Stage.ARRIVAL, row.arrive_due_at)
    release_holds(ctx.uow.session, row.referral_id, now)
    row.ended_at, row.end_reason_code = now, code
    ctx.publish(
        ReferralCancelled(**referral_ref(row), reason_code=code, cancelled_at=now),
        {"reason_code": code},
    )
    unbook(ctx.uow, row, reason="referral_cancelled", at=now, actor=ctx.actor.subject)


_EFFECTS: dict[Action, Callable[[_Context], None]] = {
    Action.ACCEPT: _accept,
    Action.REJECT: _reject,
    Action.SCHEDULE: _schedule,
    Action.ARRIVE: _arrive,
    Action.COMPLETE: _complete,
    Action.CANCEL: _cancel,
}


def act(
    uow: UnitOfWork,
    config: ReferralConfig,
    referral_id: str,
    request: ActionRequest,
    *,
    actor: Actor,
    now: datetime,
) -> ReferralState:
    """Take ``request.action`` on the referral; returns its new state."""
    with uow:
        to_facility_id = uow.session.scalar(
            select(Referral.to_facility_id).where(Referral.referral_id == referral_id)
        )
        if to_facility_id is None:
            raise ReferralNotFound(f"referral {referral_id} does not exist")
        lock_bookings(uow.session, to_facility_id)  # before the referral's: see lock_bookings
        row = uow.session.get(Referral, referral_id, with_for_update=True)
        if row is None:  # cannot happen: referrals are never deleted
            raise ReferralNotFound(f"referral {referral_id} does not exist")
        if not (actor.acts_for(row.from_facility_id) or actor.acts_for(row.to_facility_id)):
            raise NotAParty(f"referral {referral_id} is neither from nor to {actor.facility_id}")
        authorise(row, request.action, actor)
        was = ReferralState(row.state)
        try:
            state = next_state(was, request.action, ReferralPriority(row.priority))
        except InvalidTransition as refused:
            raise RefusedTransition(refused) from None
        row.state, row.updated_at = state.value, now
        _EFFECTS[request.action](_Context(uow, config, row, request, actor, now, was))
        uow.commit()
    log.info("referral " + state.value, referral_id=referral_id, action=request.action.value)
    return state
