"""Staffing (人员一体化): the staff registry, expert sessions at member clinics, timetables.

Staff display names are public (residents read them on the timetable); patient data never
appears here.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum

from pydantic import Field

from libs.events.catalogue.values import HalfDay, StaffTitle
from libs.events.payload import Code, Count, Date, Identifier, Instant, Name, Payload
from libs.events.registry import event_type

PRODUCER = "staffing"


# --- the registry: topic staffing.staff, keyed by staff member ---------------------------------


class StaffSnapshot(Payload):
    staff_id: Identifier
    display_name: Name
    home_facility_id: Identifier
    department_id: Identifier | None = None
    title: StaffTitle
    specialty: Name
    active_from: Date
    active_until: Date | None = None


@event_type("staffing.staff.registered.v1", key="staff_id", producer=PRODUCER)
class StaffRegistered(StaffSnapshot):
    """A member of staff joined the registry (full snapshot)."""


@event_type("staffing.staff.updated.v1", key="staff_id", producer=PRODUCER)
class StaffUpdated(StaffSnapshot):
    """A staff record changed (full snapshot after the change)."""


@event_type("staffing.staff.deactivated.v1", key="staff_id", producer=PRODUCER)
class StaffDeactivated(Payload):
    """A member of staff left; their delivered sessions stay on record."""

    staff_id: Identifier
    active_until: Date
    deactivated_at: Instant


# --- expert sessions (专家下沉坐诊): topic staffing.session, keyed by session ------------------


class _SessionRef(Payload):
    session_id: Identifier
    staff_id: Identifier
    home_facility_id: Identifier
    facility_id: Identifier = Field(description="The member facility the session is held at.")
    date: Date
    half_day: HalfDay


@event_type("staffing.session.planned.v1", key="session_id", producer=PRODUCER)
class SessionPlanned(_SessionRef):
    """A half-day session of a staff member at a member facility was planned."""

    rotation_id: Identifier | None = None
    planned_at: Instant


@event_type("staffing.session.cancelled.v1", key="session_id", producer=PRODUCER)
class SessionCancelled(_SessionRef):
    """A planned session was cancelled."""

    reason: Code
    cancelled_at: Instant


@event_type(
    "staffing.session.delivered.v1", key="session_id", producer=PRODUCER, identity=("session_id",)
)
class SessionDelivered(_SessionRef):
    """A session took place (checked in and out); counts for performance pay and reporting."""

    patients_seen: Count
    home_visits: Count = 0
    checked_in_at: Instant
    checked_out_at: Instant


@event_type(
    "staffing.session.missed.v1", key="session_id", producer=PRODUCER, identity=("session_id",)
)
class SessionMissed(_SessionRef):
    """The staff member did not turn up for a planned session (no-show)."""

    recorded_at: Instant


# --- the published weekly timetable: topic staffing.timetable, keyed by facility ---------------


class TimetableEntry(Payload):
    session_id: Identifier
    staff_id: Identifier
    display_name: Name
    title: StaffTitle
    specialty: Name
    date: Date
    half_day: HalfDay
    starts_at: time | None = Field(
        default=None, description="Local start time of the half-day at the facility (08:00)."
    )
    ends_at: time | None = Field(default=None, description="Local end time of the half-day.")


@event_type("staffing.timetable.published.v1", key="facility_id", producer=PRODUCER)
class TimetablePublished(Payload):
    """A facility's week was published to residents and frozen."""

    facility_id: Identifier
    week_start: Date = Field(description="The Monday of the week.")
    entries: list[TimetableEntry] = Field(max_length=500)
    published_at: Instant


class TimetableChange(StrEnum):
    ADDED = "added"
    CANCELLED = "cancelled"
    CHANGED = "changed"


@event_type("staffing.timetable.changed.v1", key="facility_id", producer=PRODUCER)
class TimetableChanged(Payload):
    """A published week changed: a session was added, cancelled or moved."""

    facility_id: Identifier
    week_start: Date
    change: TimetableChange
    entry: TimetableEntry
    reason: Code | None = None
    changed_at: Instant


# --- stationed physicians (派驻): topic staffing.stationing, keyed by stationing -------------


@event_type(
    "staffing.stationing.started.v1",
    key="stationing_id",
    producer=PRODUCER,
    identity=("stationing_id",),
)
class StationingStarted(Payload):
    """A lead-hospital physician was stationed at a member facility (a national indicator)."""

    stationing_id: Identifier
    staff_id: Identifier
    home_facility_id: Identifier
    facility_id: Identifier
    start_date: Date
    planned_end_date: Date
    started_at: Instant


@event_type("staffing.stationing.ended.v1", key="stationing_id", producer=PRODUCER)
class StationingEnded(Payload):
    """A stationing ended."""

    stationing_id: Identifier
    staff_id: Identifier
    facility_id: Identifier
    end_date: Date
    ended_at: Instant
