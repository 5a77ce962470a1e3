"""Capacity under contention: a schedule counts the day's holds only once it holds the
day's lock, so two schedulers never both take the last bed; two clerks publishing the same
new day at once do not collide."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta
from functools import partial

from sqlalchemy import select

from libs.events.envelope import utc_now
from libs.events.unit_of_work import UnitOfWork
from libs.platform.database import Database, create_database
from services.referral.adapters.schema import CapacityHold, DepartmentCapacity, Referral
from services.referral.config import ReferralConfig
from services.referral.domain.lifecycle import Action
from services.referral.service_layer.actions import ActionRequest, act
from services.referral.service_layer.capacity import publish_capacity
from services.referral.service_layer.errors import Actor, CapacityFull
from services.referral.service_layer.requests import request_referral
from tests.support.harness import HandlerHarness
from tests.support.referral import CLINIC, HOSPITAL, at_once, referral_request, resident_id, upward

HOSPITAL_STAFF = Actor("hospital-clerk", HOSPITAL)
DEPARTMENT = "QS-H01-RESP"


def publish(database: Database, cfg: ReferralConfig, day, beds: int) -> None:
    publish_capacity(
        UnitOfWork(database.sessions, source="/services/referral"),
        cfg,
        facility_id=HOSPITAL,
        department_id=DEPARTMENT,
        day=day,
        slots=0,
        beds=beds,
        actor=HOSPITAL_STAFF,
        now=utc_now(),
    )


def accepted_referral(harness: HandlerHarness, cfg: ReferralConfig) -> str:
    body = upward(
        "梁建军",
        resident_id(),
        to_department_id=DEPARTMENT,
        needs_bed=True,
        reason_code="needs_inpatient",
    )
    rid = request_referral(
        harness.uow(), cfg, referral_request(body), actor=Actor("gp", CLINIC), now=utc_now()
    ).referral_id
    act(harness.uow(), cfg, rid, ActionRequest(Action.ACCEPT), actor=HOSPITAL_STAFF, now=utc_now())
    return rid


def test_a_schedule_waits_for_the_day_s_lock_and_then_sees_the_last_bed_taken(
    harness: HandlerHarness, cfg: ReferralConfig, referral_db: str
) -> None:
    day = cfg.clock.today() + timedelta(days=3)
    clerks = [create_database(referral_db) for _ in range(2)]
    try:
        assert at_once(clerks, partial(publish, cfg=cfg, day=day, beds=1)) == []
    finally:
        for database in clerks:
            database.dispose()
    rid = accepted_referral(harness, cfg)
    other = accepted_referral(harness, cfg)

    # Another scheduler is mid-way: it holds the day and is taking the only bed.
    rival = create_database(referral_db)
    session = rival.sessions()
    session.get(DepartmentCapacity, (HOSPITAL, DEPARTMENT, day), with_for_update=True)
    outcome: list[object] = []
    when = datetime.combine(day, time(9), tzinfo=cfg.clock.zone)

    def schedule() -> None:
        request = ActionRequest(Action.SCHEDULE, scheduled_for=when)
        try:
            act(harness.uow(), cfg, rid, request, actor=HOSPITAL_STAFF, now=utc_now())
            outcome.append("scheduled")
        except BaseException as exc:  # reported by the assertion below
            outcome.append(exc)

    waiting = threading.Thread(target=schedule)
    waiting.start()
    waiting.join(1.0)
    assert waiting.is_alive()  # blocked on the day's lock, not counting yet
    session.add(
        CapacityHold(
            hold_id="H-rival",
            referral_id=other,
            facility_id=HOSPITAL,
            department_id=DEPARTMENT,
            day=day,
            kind="bed",
            held_at=utc_now(),
        )
    )
    session.commit()
    session.close()
    rival.dispose()
    waiting.join(30)
    assert len(outcome) == 1
    assert isinstance(outcome[0], CapacityFull), outcome
    with harness.database.sessions() as check:
        state = check.scalar(select(Referral.state).where(Referral.referral_id == rid))
        days = check.scalars(
            select(DepartmentCapacity.beds).where(
                DepartmentCapacity.department_id == DEPARTMENT, DepartmentCapacity.day == day
            )
        ).all()
    assert state == "accepted"
    assert days == [1]  # the two clerks' publications made one row
