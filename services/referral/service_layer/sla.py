"""SLA timers: breaches (once per referral and stage) and expiry of undecided referrals.

A stage is breached when its deadline passed without the step: the periodic job finds such
referrals, and a step taken late records the breach itself if the job has not yet. Either
way the breach row (primary key referral + stage) is inserted with ON CONFLICT DO NOTHING in
the same transaction as its event, so several processes running the job, or a job racing a
late acceptance, still produce exactly one breach event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from libs.events.catalogue.referral import ReferralExpired, ReferralSlaBreached
from libs.events.catalogue.values import ReferralPriority
from libs.events.unit_of_work import UnitOfWork
from services.referral.adapters.schema import Referral, SlaBreach
from services.referral.domain.lifecycle import Action, ReferralState, next_state
from services.referral.domain.sla import SlaPolicy, Stage
from services.referral.service_layer.recording import aware, publish_step, referral_ref

__all__ = ["ScanResult", "record_breach", "scan"]

log = structlog.get_logger("referral.sla")

#: Referrals handled per stage and run; the next run takes the rest.
SCAN_BATCH = 200

_OPEN_FOR = {
    Stage.ACCEPTANCE: (ReferralState.REQUESTED,),
    Stage.ARRIVAL: (ReferralState.ACCEPTED, ReferralState.SCHEDULED),
}


@dataclass(frozen=True)
class ScanResult:
    breaches: int
    expired: int


def _claim(
    session: Session, row: Referral, stage: Stage, due_at: datetime, now: datetime, role: str
) -> bool:
    values = {
        "referral_id": row.referral_id,
        "stage": stage.value,
        "priority": row.priority,
        "due_at": due_at,
        "breached_at": now,
        "escalated_to_role": role,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(SlaBreach)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["referral_id", "stage"])
        .returning(SlaBreach.referral_id)
    )
    return session.execute(statement).first() is not None


def record_breach(
    uow: UnitOfWork,
    policy: SlaPolicy,
    row: Referral,
    stage: Stage,
    due_at: datetime,
    *,
    now: datetime,
) -> bool:
    """Record that ``row`` missed ``stage`` and escalate it; False if that was known already."""
    role = policy.of(ReferralPriority(row.priority)).escalate_to
    if not _claim(uow.session, row, stage, due_at, now, role):
        return False
    row.escalated_to_role = role
    publish_step(
        uow,
        row,
        ReferralSlaBreached(
            **referral_ref(row),
            stage=stage.value,
            due_at=due_at,
            breached_at=now,
            escalated_to_role=role,
        ),
        kind="sla_breached",
        actor="system",
        at=now,
        details={"stage": stage.value, "due_at": due_at.isoformat(), "escalated_to_role": role},
    )
    log.warning(
        "referral SLA breached",
        referral_id=row.referral_id,
        stage=stage.value,
        priority=row.priority,
        escalated_to=role,
    )
    return True


def _overdue(session: Session, stage: Stage, now: datetime) -> list[Referral]:
    due = Referral.accept_due_at if stage is Stage.ACCEPTANCE else Referral.arrive_due_at
    query = (
        select(Referral)
        .where(
            Referral.state.in_([s.value for s in _OPEN_FOR[stage]]),
            due.is_not(None),
            due <= now,
            ~exists().where(
                SlaBreach.referral_id == Referral.referral_id, SlaBreach.stage == stage.value
            ),
        )
        .order_by(due)
        .limit(SCAN_BATCH)
        # Another process's job (or a person acting) holds the row: skip it this round.
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def scan(uow: UnitOfWork, policy: SlaPolicy, *, now: datetime) -> ScanResult:
    """One run of the SLA job: breaches first, then expiry, in one transaction."""
    breaches = expired = 0
    with uow:
        for stage in Stage:
            for row in _overdue(uow.session, stage, now):
                due = row.accept_due_at if stage is Stage.ACCEPTANCE else row.arrive_due_at
                assert due is not None
                breaches += record_breach(uow, policy, row, stage, aware(due), now=now)
        lapsed = uow.session.scalars(
            select(Referral)
            .where(Referral.state == ReferralState.REQUESTED.value, Referral.expire_at <= now)
            .order_by(Referral.expire_at)
            .limit(SCAN_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        for row in lapsed:
            row.state = next_state(
                ReferralState(row.state), Action.EXPIRE, ReferralPriority(row.priority)
            ).value
            row.ended_at = row.updated_at = now
            publish_step(
                uow,
                row,
                ReferralExpired(**referral_ref(row), expired_at=now),
                kind="expired",
                actor="system",
                at=now,
            )
            expired += 1
        uow.commit()
    if expired:
        log.info("referrals expired", count=expired)
    return ScanResult(breaches=breaches, expired=expired)
