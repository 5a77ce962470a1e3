"""An in-memory stand-in for the staffing records and unit of work (no database): what a
use case stored, published and whether it committed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from libs.events.catalogue.values import FacilityTier, FacilityType, HalfDay, StaffTitle
from libs.platform.clock import DEFAULT_ZONE, CountyClock
from libs.platform.settings import REPO_ROOT
from services.staffing.adapters.schema import (
    ExpertSession,
    Facility,
    Leave,
    StaffMember,
    Stationing,
)
from services.staffing.bootstrap import load_policy
from services.staffing.domain.calendar import Slot, week_start
from services.staffing.domain.rules import Absence, Booking, Diary, Stationed
from services.staffing.domain.sessions import HOLDING, SessionStatus
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork
from tests.support.kept_outbox import KeptOutbox

__all__ = ["FakeStaffingUnitOfWork", "FakeWorkforce", "clock_at", "facility", "session", "staff"]

POLICY = load_policy(REPO_ROOT / "infra" / "staffing" / "rules.yaml")
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def clock_at(day: date, at: time = time(9)) -> CountyClock:
    """The county's clock stopped at ``at`` on ``day`` (county time)."""
    instant = datetime.combine(day, at, tzinfo=ZoneInfo(DEFAULT_ZONE)).astimezone(UTC)
    return CountyClock.of(DEFAULT_ZONE, now=lambda: instant)


def facility(facility_id: str, kind: FacilityType, *, name: str | None = None) -> Facility:
    hospital = kind in (FacilityType.COUNTY_HOSPITAL, FacilityType.TCM_HOSPITAL)
    return Facility(
        facility_id=facility_id,
        name=name or facility_id,
        community_id="C-1",
        county_code="320412",
        tier=(FacilityTier.TERTIARY if hospital else FacilityTier.PRIMARY).value,
        facility_type=kind.value,
        departments=[],
        active=True,
        updated_at=_EPOCH,
    )


def staff(
    staff_id: str,
    home: str,
    title: StaffTitle,
    *,
    name: str = "王建国",
    active_from: date = date(2020, 1, 1),
    active_until: date | None = None,
) -> StaffMember:
    return StaffMember(
        staff_id=staff_id,
        display_name=name,
        home_facility_id=home,
        title=title.value,
        specialty="cardiology",
        active_from=active_from,
        active_until=active_until,
        seeded=False,
        updated_at=_EPOCH,
    )


def session(
    session_id: str,
    person: StaffMember,
    facility_id: str,
    day: date,
    half_day: HalfDay = HalfDay.MORNING,
    status: SessionStatus = SessionStatus.PLANNED,
) -> ExpertSession:
    return ExpertSession(
        session_id=session_id,
        staff_id=person.staff_id,
        home_facility_id=person.home_facility_id,
        facility_id=facility_id,
        date=day,
        half_day=half_day.value,
        week_start=week_start(day),
        status=status.value,
        planned_at=_EPOCH,
        version=1,
    )


class FakeWorkforce:
    """The staffing records, in dicts and lists."""

    def __init__(self) -> None:
        self.staff: dict[str, StaffMember] = {}
        self.facilities: dict[str, Facility] = {}
        self.sessions: list[ExpertSession] = []
        self.stationings: list[Stationing] = []
        self.leave: list[Leave] = []

    def has(self, *records: StaffMember | Facility | ExpertSession | Stationing) -> None:
        for record in records:
            if isinstance(record, StaffMember):
                self.staff[record.staff_id] = record
            elif isinstance(record, Facility):
                self.facilities[record.facility_id] = record
            elif isinstance(record, ExpertSession):
                self.sessions.append(record)
            else:
                self.stationings.append(record)

    def staff_member(self, staff_id: str) -> StaffMember | None:
        return self.staff.get(staff_id)

    def facility(self, facility_id: str) -> Facility | None:
        return self.facilities.get(facility_id)

    def held_sessions(self, staff_id: str, first: date, last: date) -> list[ExpertSession]:
        return sorted(
            (
                s
                for s in self.sessions
                if s.staff_id == staff_id and first <= s.date <= last and s.status in HOLDING
            ),
            key=lambda s: (s.date, s.half_day),
        )

    def add(self, record: Stationing | Leave) -> None:
        if isinstance(record, Stationing):
            self.stationings.append(record)
        else:
            self.leave.append(record)

    def _name(self, facility_id: str) -> str:
        known = self.facilities.get(facility_id)
        return known.name if known else facility_id

    def diary(self, staff: StaffMember, first: date, last: date) -> Diary:
        diary = Diary(staff.staff_id, staff.display_name, staff.active_from, staff.active_until)
        for held in self.held_sessions(staff.staff_id, first, last):
            booking = Booking(held.session_id, held.facility_id, self._name(held.facility_id))
            diary.book(Slot(held.date, HalfDay(held.half_day)), booking)
        diary.absences = [
            Absence(
                leave.leave_id,
                leave.kind,
                leave.start_date,
                leave.end_date,
                HalfDay(leave.half_day) if leave.half_day else None,
            )
            for leave in self.leave
            if leave.staff_id == staff.staff_id
            and leave.withdrawn_at is None
            and leave.start_date <= last
            and leave.end_date >= first
        ]
        diary.stationings = [
            Stationed(
                s.stationing_id,
                s.facility_id,
                self._name(s.facility_id),
                s.start_date,
                s.end_date or s.planned_end_date,
            )
            for s in self.stationings
            if s.staff_id == staff.staff_id
            and s.start_date <= last
            and (s.end_date or s.planned_end_date) >= first
        ]
        return diary


def _no_database() -> Session:
    raise AssertionError("a unit test's use case reached for the database")


class FakeStaffingUnitOfWork(KeptOutbox, StaffingUnitOfWork):
    """The staffing unit of work over :class:`FakeWorkforce`: events are kept, not staged."""

    def __init__(self, clock: CountyClock, workforce: FakeWorkforce | None = None) -> None:
        super().__init__(_no_database, source="/services/staffing", policy=POLICY, clock=clock)
        self.records = workforce or FakeWorkforce()
        self.keep_events()

    @property
    def workforce(self) -> FakeWorkforce:
        return self.records
