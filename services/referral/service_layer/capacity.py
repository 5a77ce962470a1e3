"""Receiving capacity: departments publish slots and beds per day; scheduled referrals hold
one. Holds are counted under a lock on the day's row, so two schedulers cannot both take the
last slot."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from libs.events.catalogue.referral import CapacityPublished
from libs.events.unit_of_work import UnitOfWork
from services.referral.adapters.repository import ReferralRepository, SqlReferralRepository
from services.referral.adapters.schema import CapacityHold, DepartmentCapacity
from services.referral.config import ReferralConfig
from services.referral.domain.capacity import CapacityKind, DayCapacity, earliest_free_day
from services.referral.service_layer.errors import Actor, CapacityFull, NotAParty, RuleViolation
from services.referral.service_layer.parties import facility_role
from services.referral.service_layer.unit_of_work import referral_records

__all__ = [
    "earliest_free",
    "hold_capacity",
    "publish_capacity",
    "release_holds",
]


def earliest_free(
    records: ReferralRepository,
    config: ReferralConfig,
    facility_id: str,
    department_id: str,
    kind: CapacityKind,
    now: datetime,
) -> date | None:
    """The profile's look-up before a request: the first day with a free unit."""
    start = config.clock.date_of(now)
    end = start + timedelta(days=config.capacity_lookahead_days)
    days = records.capacity_days(facility_id, department_id, start, end)
    return earliest_free_day(days, kind, start=start, end=end)


def publish_capacity(
    uow: UnitOfWork,
    config: ReferralConfig,
    *,
    facility_id: str,
    department_id: str,
    day: date,
    slots: int,
    beds: int,
    actor: Actor,
    now: datetime,
) -> DayCapacity:
    """A receiving department publishes a day's slots and beds (never below what is held)."""
    if not actor.acts_for(facility_id):
        raise NotAParty(f"this token acts for {actor.facility_id}, not {facility_id}")
    with uow:
        facility_role(referral_records(uow), facility_id, department_id, side="")
        if day < config.clock.date_of(now):
            raise RuleViolation("day_in_past", "capacity cannot be published for a past day")
        row = _locked_day(uow.session, facility_id, department_id, day, now, actor.subject)
        held = SqlReferralRepository(uow.session).held(facility_id, department_id, day, day)
        held_slots, held_beds = (
            held.get((day, CapacityKind.SLOT), 0),
            held.get((day, CapacityKind.BED), 0),
        )
        if slots < held_slots or beds < held_beds:
            raise CapacityFull(
                f"{held_slots} slots and {held_beds} beds are already held on {day}; "
                "publish at least that many"
            )
        row.slots, row.beds, row.published_at, row.published_by = slots, beds, now, actor.subject
        uow.publish(
            CapacityPublished(
                facility_id=facility_id,
                department_id=department_id,
                date=day,
                slots=slots,
                beds=beds,
                published_at=now,
            )
        )
        uow.commit()
        return DayCapacity(day, slots, beds, held_slots, held_beds)


def _locked_day(
    session: Session, facility_id: str, department_id: str, day: date, now: datetime, by: str
) -> DepartmentCapacity:
    """The day's row, created empty if it is new, locked for this transaction (two
    departments' clerks publishing the same new day at once must not collide)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(DepartmentCapacity)
        .values(
            facility_id=facility_id,
            department_id=department_id,
            day=day,
            slots=0,
            beds=0,
            published_at=now,
            published_by=by,
        )
        .on_conflict_do_nothing(index_elements=["facility_id", "department_id", "day"])
    )
    row = session.get(
        DepartmentCapacity,
        (facility_id, department_id, day),
        with_for_update=True,
        populate_existing=True,
    )
    assert row is not None
    return row


def hold_capacity(
    session: Session,
    *,
    referral_id: str,
    facility_id: str,
    department_id: str,
    day: date,
    kind: CapacityKind,
    now: datetime,
    overbook: bool,
) -> CapacityHold:
    """Take one unit on ``day``; :class:`CapacityFull` if none is free (unless ``overbook``:
    green channels are never turned away)."""
    published = session.get(
        DepartmentCapacity, (facility_id, department_id, day), with_for_update=True
    )
    if not overbook:
        if published is None:
            raise CapacityFull(f"{department_id} has published no capacity for {day}")
        held = (
            SqlReferralRepository(session)
            .held(facility_id, department_id, day, day)
            .get((day, kind), 0)
        )
        free = DayCapacity(day, published.slots, published.beds).published(kind) - held
        if free <= 0:
            raise CapacityFull(f"{department_id} has no free {kind.value} on {day}")
    hold = CapacityHold(
        hold_id=f"H-{uuid.uuid4().hex[:20]}",
        referral_id=referral_id,
        facility_id=facility_id,
        department_id=department_id,
        day=day,
        kind=kind.value,
        held_at=now,
    )
    session.add(hold)
    return hold


def release_holds(session: Session, referral_id: str, now: datetime) -> int:
    """Give back whatever the referral holds (it moved or was withdrawn)."""
    result = session.execute(
        update(CapacityHold)
        .where(CapacityHold.referral_id == referral_id, CapacityHold.released_at.is_(None))
        .values(released_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
