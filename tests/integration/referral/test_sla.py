"""SLA timers on event time: one breach per referral and stage, however many jobs run."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import func, select

from libs.events.envelope import utc_now
from libs.events.unit_of_work import UnitOfWork
from libs.platform.database import Database, create_database
from services.referral.adapters.schema import Referral, SlaBreach
from services.referral.config import ReferralConfig
from services.referral.domain.lifecycle import Action
from services.referral.domain.sla import SlaPolicy, Stage
from services.referral.service_layer.actions import ActionRequest, act
from services.referral.service_layer.errors import Actor, RefusedTransition
from services.referral.service_layer.requests import request_referral
from services.referral.service_layer.sla import record_breach, scan
from tests.support.harness import HandlerHarness
from tests.support.referral import (
    CLINIC,
    HOSPITAL,
    at_once,
    chest_pain,
    referral_request,
    resident_id,
    upward,
)

CLINIC_STAFF = Actor("clinic-doctor", CLINIC)
HOSPITAL_STAFF = Actor("hospital-doctor", HOSPITAL)
EMERGENCY = {"to_department_id": "QS-H01-EMER"}


def create(harness: HandlerHarness, cfg: ReferralConfig, body: dict, at: datetime) -> str:
    request = referral_request(body)
    return request_referral(harness.uow(), cfg, request, actor=CLINIC_STAFF, now=at).referral_id


def do(
    harness: HandlerHarness, cfg: ReferralConfig, rid: str, action: Action, at: datetime, **kwargs
) -> None:
    who = CLINIC_STAFF if action is Action.CANCEL else HOSPITAL_STAFF
    act(harness.uow(), cfg, rid, ActionRequest(action, **kwargs), actor=who, now=at)


def breaches(harness: HandlerHarness, rid: str) -> list:
    return [e for e in harness.published("referral.referral.sla_breached.v1") if e.subject == rid]


def scan_with(database: Database, *, policy: SlaPolicy, now: datetime) -> None:
    scan(UnitOfWork(database.sessions, source="/services/referral"), policy, now=now)


def test_an_emergency_chest_pain_referral_not_accepted_in_time_breaches_exactly_once(
    harness: HandlerHarness, cfg: ReferralConfig
) -> None:
    t0 = utc_now()
    rid = create(harness, cfg, chest_pain("黄德胜", resident_id(), **EMERGENCY), t0)

    scan(harness.uow(), cfg.sla, now=t0 + timedelta(minutes=9, seconds=59))
    assert breaches(harness, rid) == []
    for minutes in (11, 11, 12, 30):  # the job runs again and again
        scan(harness.uow(), cfg.sla, now=t0 + timedelta(minutes=minutes))
    [breach] = breaches(harness, rid)
    assert breach.data.stage == "acceptance"
    assert breach.data.green_channel == "chest_pain"
    assert breach.data.priority == "emergency"
    assert breach.data.due_at == t0 + timedelta(minutes=10)
    assert breach.data.escalated_to_role == "medical_director"

    # Accepted late: the breach is already on record, not repeated; the arrival clock starts.
    accepted_at = t0 + timedelta(minutes=31)
    do(harness, cfg, rid, Action.ACCEPT, accepted_at)
    scan(harness.uow(), cfg.sla, now=accepted_at + timedelta(minutes=89))
    assert len(breaches(harness, rid)) == 1
    scan(harness.uow(), cfg.sla, now=accepted_at + timedelta(minutes=91))
    scan(harness.uow(), cfg.sla, now=accepted_at + timedelta(minutes=92))
    assert [b.data.stage for b in breaches(harness, rid)] == ["acceptance", "arrival"]
    do(harness, cfg, rid, Action.ARRIVE, accepted_at + timedelta(minutes=95))
    assert len(breaches(harness, rid)) == 2
    with harness.database.sessions() as session:
        row = session.get(Referral, rid)
        assert row is not None
        assert row.escalated_to_role == "medical_director"


def test_a_step_in_time_never_breaches_and_a_late_one_records_its_own_breach(
    harness: HandlerHarness, cfg: ReferralConfig
) -> None:
    t0 = utc_now()
    in_time = create(harness, cfg, chest_pain("林淑芬", resident_id(), **EMERGENCY), t0)
    do(harness, cfg, in_time, Action.ACCEPT, t0 + timedelta(minutes=8))
    do(harness, cfg, in_time, Action.ARRIVE, t0 + timedelta(minutes=60))
    late_reject = create(harness, cfg, chest_pain("何志强", resident_id(), **EMERGENCY), t0)
    late_cancel = create(harness, cfg, chest_pain("罗美华", resident_id(), **EMERGENCY), t0)

    # No job ran in between: the late decision and the late withdrawal record the breach.
    do(
        harness,
        cfg,
        late_reject,
        Action.REJECT,
        t0 + timedelta(minutes=15),
        reason_code="not_indicated",
    )
    do(
        harness,
        cfg,
        late_cancel,
        Action.CANCEL,
        t0 + timedelta(minutes=16),
        reason_code="referred_elsewhere",
    )
    for minutes in (20, 200):
        scan(harness.uow(), cfg.sla, now=t0 + timedelta(minutes=minutes))
    assert breaches(harness, in_time) == []
    assert [b.data.stage for b in breaches(harness, late_reject)] == ["acceptance"]
    assert [b.data.stage for b in breaches(harness, late_cancel)] == ["acceptance"]


def test_a_referral_nobody_decides_on_lapses_after_its_breach(
    harness: HandlerHarness, cfg: ReferralConfig
) -> None:
    t0 = utc_now()
    rid = create(
        harness,
        cfg,
        upward(
            "高建华",
            resident_id(),
            to_department_id="QS-H01-EMER",
            priority="emergency",
            reason_code="beyond_capability",
        ),
        t0,
    )
    result = scan(harness.uow(), cfg.sla, now=t0 + timedelta(hours=3))  # past 10m and past 2h
    assert result.expired >= 1
    scan(harness.uow(), cfg.sla, now=t0 + timedelta(hours=4))
    mine = [e for e in harness.published() if e.subject == rid]
    assert [e.type.split(".")[2] for e in mine] == ["requested", "sla_breached", "expired"]
    with pytest.raises(RefusedTransition):
        do(harness, cfg, rid, Action.ACCEPT, t0 + timedelta(hours=5))


def test_concurrent_sla_jobs_emit_one_breach_per_referral(
    harness: HandlerHarness, cfg: ReferralConfig, referral_db: str
) -> None:
    """Four "processes" (own engines and connections) run the job at the same moment, twice."""
    t0 = utc_now()
    ids = [
        create(harness, cfg, chest_pain(f"病人{i}", resident_id(), **EMERGENCY), t0)
        for i in range(12)
    ]
    databases = [create_database(referral_db) for _ in range(4)]
    try:
        for minutes in (11, 12):
            job = partial(scan_with, policy=cfg.sla, now=t0 + timedelta(minutes=minutes))
            assert at_once(databases, job) == []
    finally:
        for database in databases:
            database.dispose()
    for rid in ids:
        assert len(breaches(harness, rid)) == 1, rid
    with harness.database.sessions() as session:
        rows = session.scalar(
            select(func.count()).select_from(SlaBreach).where(SlaBreach.referral_id.in_(ids))
        )
    assert rows == len(ids)


def test_the_breach_key_alone_lets_only_one_of_two_racing_writers_through(
    harness: HandlerHarness, cfg: ReferralConfig, referral_db: str
) -> None:
    """Even past the job's row locks, the (referral, stage) key admits one breach."""
    t0 = utc_now()
    rid = create(harness, cfg, chest_pain("唐秀兰", resident_id(), **EMERGENCY), t0)
    databases = [create_database(referral_db) for _ in range(2)]
    start, outcomes = threading.Barrier(2), []

    # PostgreSQL: both read the referral, then both insert (one waits on the key, then does
    # nothing). SQLite serialises whole write transactions, so there they simply queue.
    overlap = harness.database.dialect == "postgresql"

    def writer(database) -> None:
        uow = UnitOfWork(database.sessions, source="/services/referral")
        if not overlap:
            start.wait()
        with uow:
            row = uow.session.get(Referral, rid)
            assert row is not None
            if overlap:
                start.wait()
            due = t0 + timedelta(minutes=10)
            outcomes.append(record_breach(uow, cfg.sla, row, Stage.ACCEPTANCE, due, now=utc_now()))
            uow.commit()

    threads = [threading.Thread(target=writer, args=(db,)) for db in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for database in databases:
        database.dispose()
    assert sorted(outcomes) == [False, True]
    assert len(breaches(harness, rid)) == 1
