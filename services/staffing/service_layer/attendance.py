"""Attendance: a session is checked in, then out (delivered, with patients seen), or
recorded as a no-show.

Delivery is announced exactly once. The session's state machine refuses a repeated
transition with a clear answer, and its version column makes two racing requests for the
same transition collide: the loser's transaction, outbox row included, rolls back.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm.exc import StaleDataError

from libs.events.catalogue.staffing import SessionDelivered, SessionMissed
from libs.events.catalogue.values import HalfDay
from services.staffing.adapters.schema import ExpertSession
from services.staffing.domain.sessions import Action, SessionStatus, TransitionRefused, transition
from services.staffing.service_layer.errors import Conflict, NotFound
from services.staffing.service_layer.lookup import aware
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork

__all__ = ["check_in", "check_out", "no_show", "session_facility"]


def session_facility(uow: StaffingUnitOfWork, session_id: str) -> str:
    """Where a session is held (to check who may record its attendance)."""
    with uow:
        row = uow.session.get(ExpertSession, session_id)
        if row is None:
            raise NotFound("not_found", f"session {session_id} does not exist")
        return row.facility_id


def _record(
    uow: StaffingUnitOfWork,
    session_id: str,
    action: Action,
    apply: Callable[[ExpertSession], None],
) -> ExpertSession:
    with uow:
        row = uow.session.get(ExpertSession, session_id)
        if row is None:
            raise NotFound("not_found", f"session {session_id} does not exist")
        try:
            target = transition(
                SessionStatus(row.status), action, session_date=row.date, today=uow.today()
            )
        except TransitionRefused as exc:
            raise Conflict(
                exc.code, f"session {session_id}: {exc.message}", {"status": exc.status.value}
            ) from None
        try:
            row.status = target.value
            apply(row)
            uow.commit()
        except StaleDataError:
            raise Conflict(
                "concurrent_update",
                f"session {session_id} was changed by another request at the same time; "
                "look at it again",
            ) from None
        return row


def check_in(uow: StaffingUnitOfWork, session_id: str) -> ExpertSession:
    """The specialist arrived (not before the session's day)."""

    def arrived(row: ExpertSession) -> None:
        row.checked_in_at = uow.now()

    return _record(uow, session_id, Action.CHECK_IN, arrived)


def check_out(
    uow: StaffingUnitOfWork, session_id: str, *, patients_seen: int, home_visits: int = 0
) -> ExpertSession:
    """The session took place: announce it once, with the patients seen (counts only)."""

    def delivered(row: ExpertSession) -> None:
        assert row.checked_in_at is not None  # the state machine admits only checked-in
        now = uow.now()
        row.checked_out_at, row.patients_seen, row.home_visits = now, patients_seen, home_visits
        uow.publish(
            SessionDelivered(
                session_id=row.session_id,
                staff_id=row.staff_id,
                home_facility_id=row.home_facility_id,
                facility_id=row.facility_id,
                date=row.date,
                half_day=HalfDay(row.half_day),
                patients_seen=patients_seen,
                home_visits=home_visits,
                checked_in_at=aware(row.checked_in_at),
                checked_out_at=now,
            )
        )

    return _record(uow, session_id, Action.CHECK_OUT, delivered)


def no_show(uow: StaffingUnitOfWork, session_id: str) -> ExpertSession:
    """The specialist did not come (recorded on or after the session's day)."""

    def missed(row: ExpertSession) -> None:
        row.missed_at = uow.now()
        uow.publish(
            SessionMissed(
                session_id=row.session_id,
                staff_id=row.staff_id,
                home_facility_id=row.home_facility_id,
                facility_id=row.facility_id,
                date=row.date,
                half_day=HalfDay(row.half_day),
                recorded_at=row.missed_at,
            )
        )

    return _record(uow, session_id, Action.NO_SHOW, missed)
