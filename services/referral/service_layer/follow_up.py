"""Follow-up visits of downward referrals, booked onto visiting specialists' sessions.

The referral service keeps a copy of each clinic's published sessions (``staffing.timetable``
events). A downward referral is booked when it is accepted if a session fits its plan; if
none does yet, it waits and is booked when a timetable brings one. A booked session that is
cancelled or moved loses its booking (``follow_up_unbooked``) and the referral is booked
again where possible.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from libs.directory import KnownFacility
from libs.events.catalogue.referral import FollowUpBooked, FollowUpUnbooked
from libs.events.catalogue.staffing import (
    TimetableChange,
    TimetableChanged,
    TimetableEntry,
    TimetablePublished,
)
from libs.events.catalogue.values import HalfDay, ReferralDirection
from libs.events.unit_of_work import UnitOfWork
from services.referral.adapters.schema import FollowUpBooking, Referral, SpecialistSession
from services.referral.domain import follow_up
from services.referral.domain.lifecycle import ReferralState
from services.referral.service_layer.recording import aware, publish_step, referral_ref

__all__ = [
    "BOOKABLE_STATES",
    "book_pending",
    "lock_bookings",
    "record_timetable",
    "record_timetable_change",
    "try_book",
    "unbook",
]

#: A follow-up is booked for a referral the clinic has taken on, even once it is closed:
#: the visit comes after the hand-over.
BOOKABLE_STATES = (
    ReferralState.ACCEPTED,
    ReferralState.SCHEDULED,
    ReferralState.ARRIVED,
    ReferralState.COMPLETED,
)


def lock_bookings(session: Session, facility_id: str) -> None:
    """Take the lock on ``facility_id``'s follow-up bookings (its directory row).

    A clinic's acceptance (which looks for a session) and its timetable arriving (which looks
    for accepted referrals) must not pass each other unseen: each would find nothing the
    other has not yet committed and the follow-up would never be booked. Both take this lock
    first, so the second sees what the first wrote. Taken before any referral's own row lock,
    in every path, so that the two orders never cross.
    """
    session.execute(
        select(KnownFacility.facility_id)
        .where(KnownFacility.facility_id == facility_id)
        .with_for_update()
    )


def try_book(uow: UnitOfWork, row: Referral, *, at: datetime, actor: str) -> bool:
    """Book ``row``'s follow-up onto the earliest fitting session; False if none fits.
    The caller holds :func:`lock_bookings` for ``row.to_facility_id``."""
    if row.follow_up_specialty is None or row.follow_up_from is None or row.follow_up_by is None:
        return False
    if uow.session.get(FollowUpBooking, row.referral_id) is not None:
        return False
    after = max(row.follow_up_from, at.date())
    sessions = _open_sessions(uow.session, row.to_facility_id, row.follow_up_specialty, after)
    chosen = follow_up.pick_session(
        sessions, specialty=row.follow_up_specialty, after=after, until=row.follow_up_by
    )
    if chosen is None:
        return False
    uow.session.add(
        FollowUpBooking(referral_id=row.referral_id, session_id=chosen.session_id, booked_at=at)
    )
    publish_step(
        uow,
        row,
        FollowUpBooked(
            **referral_ref(row),
            session_id=chosen.session_id,
            date=chosen.day,
            half_day=chosen.half_day,
            booked_at=at,
        ),
        kind="follow_up_booked",
        actor=actor,
        at=at,
        details={
            "session_id": chosen.session_id,
            "date": chosen.day.isoformat(),
            "half_day": chosen.half_day.value,
        },
    )
    return True


def _open_sessions(
    session: Session, facility_id: str, specialty: str, after: date
) -> list[follow_up.SpecialistSession]:
    rows = session.scalars(
        select(SpecialistSession).where(
            SpecialistSession.facility_id == facility_id,
            SpecialistSession.specialty_key == follow_up.specialty_key(specialty),
            SpecialistSession.cancelled.is_(False),
            SpecialistSession.day > after,
        )
    )
    return [
        follow_up.SpecialistSession(r.session_id, r.day, HalfDay(r.half_day), r.specialty)
        for r in rows
    ]


def unbook(uow: UnitOfWork, row: Referral, *, reason: str, at: datetime, actor: str) -> bool:
    """Drop ``row``'s booking, announcing it; False if it had none."""
    booking = uow.session.get(FollowUpBooking, row.referral_id)
    if booking is None:
        return False
    uow.session.delete(booking)
    uow.session.flush()
    publish_step(
        uow,
        row,
        FollowUpUnbooked(
            **referral_ref(row), session_id=booking.session_id, reason_code=reason, unbooked_at=at
        ),
        kind="follow_up_unbooked",
        actor=actor,
        at=at,
        details={"session_id": booking.session_id, "reason_code": reason},
    )
    return True


def book_pending(uow: UnitOfWork, facility_id: str, *, at: datetime) -> int:
    """Book every waiting downward referral to ``facility_id`` that a session now fits."""
    waiting = uow.session.scalars(
        select(Referral)
        .where(
            Referral.to_facility_id == facility_id,
            Referral.direction == ReferralDirection.DOWN.value,
            Referral.state.in_([s.value for s in BOOKABLE_STATES]),
            Referral.follow_up_specialty.is_not(None),
            Referral.follow_up_by >= at.date(),
            ~exists().where(FollowUpBooking.referral_id == Referral.referral_id),
        )
        .order_by(Referral.decided_at, Referral.referral_id)
    ).all()
    return sum(try_book(uow, row, at=at, actor="system") for row in waiting)


# --- the timetable copy -------------------------------------------------------------------


def _apply_entry(
    session: Session,
    facility_id: str,
    week_start: date,
    entry: TimetableEntry,
    *,
    cancelled: bool,
    at: datetime,
) -> SpecialistSession | None:
    """Write one session; None if what is stored is newer (an old event never wins)."""
    row = session.get(SpecialistSession, entry.session_id)
    if row is None:
        row = SpecialistSession(session_id=entry.session_id)
        session.add(row)
    elif at < aware(row.as_of):
        return None
    row.facility_id, row.week_start = facility_id, week_start
    row.day, row.half_day = entry.date, entry.half_day.value
    row.staff_id, row.specialty = entry.staff_id, entry.specialty
    row.specialty_key = follow_up.specialty_key(entry.specialty)
    row.cancelled, row.as_of = cancelled, at
    return row


def record_timetable(data: TimetablePublished, uow: UnitOfWork) -> None:
    """A clinic's week was published: it replaces what was known of that week."""
    at = uow.event.time
    lock_bookings(uow.session, data.facility_id)
    published = {e.session_id for e in data.entries}
    for entry in data.entries:
        _apply_entry(uow.session, data.facility_id, data.week_start, entry, cancelled=False, at=at)
    gone = uow.session.scalars(
        select(SpecialistSession).where(
            SpecialistSession.facility_id == data.facility_id,
            SpecialistSession.week_start == data.week_start,
            SpecialistSession.cancelled.is_(False),
            SpecialistSession.session_id.not_in(published),
        )
    ).all()
    dropped = []
    for row in gone:
        if at >= aware(row.as_of):
            row.cancelled, row.as_of = True, at
            dropped.append(row.session_id)
    uow.session.flush()
    _rebook(uow, dropped, reason="session_cancelled", at=at)
    book_pending(uow, data.facility_id, at=at)


def record_timetable_change(data: TimetableChanged, uow: UnitOfWork) -> None:
    """One session of a published week was added, cancelled or moved."""
    at = uow.event.time
    lock_bookings(uow.session, data.facility_id)
    cancelled = data.change is TimetableChange.CANCELLED
    row = _apply_entry(
        uow.session, data.facility_id, data.week_start, data.entry, cancelled=cancelled, at=at
    )
    uow.session.flush()
    if row is not None and data.change is not TimetableChange.ADDED:
        reason = "session_cancelled" if cancelled else "session_changed"
        _rebook(uow, [row.session_id], reason=reason, at=at)
    book_pending(uow, data.facility_id, at=at)


def _rebook(uow: UnitOfWork, session_ids: Iterable[str], *, reason: str, at: datetime) -> None:
    ids = list(session_ids)
    if not ids:
        return
    referral_ids = uow.session.scalars(
        select(FollowUpBooking.referral_id).where(FollowUpBooking.session_id.in_(ids))
    ).all()
    for referral_id in sorted(referral_ids):
        row = uow.session.get(Referral, referral_id, with_for_update=True)
        if row is None:  # cannot happen: bookings are only made for stored referrals
            uow.session.execute(
                delete(FollowUpBooking).where(FollowUpBooking.referral_id == referral_id)
            )
            continue
        unbook(uow, row, reason=reason, at=at, actor="system")
        try_book(uow, row, at=at, actor="system")
