"""The coverage report from what is planned, on a real database."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from libs.events.catalogue.values import HalfDay
from services.staffing.domain.coverage import Check, WeekCoverage
from services.staffing.service_layer import leave, planning, stationing
from services.staffing.service_layer.coverage import coverage_report
from tests.integration.staffing.conftest import (
    CARDIOLOGY_ASSOCIATE,
    CARDIOLOGY_CHIEF,
    NEXT_WEEK,
    TCM_CHIEF,
    Staffing,
)


def check(report: WeekCoverage, rule_id: str, subject: str) -> Check:
    (rule,) = [r for r in report.rules if r.rule_id == rule_id]
    (found,) = [c for c in rule.checks if c.subject_id == subject]
    return found


def full_day(staffing: Staffing, staff_id: str, facility_id: str, day_offset: int) -> None:
    for half in HalfDay:
        planning.plan_session(
            staffing.uow(),
            staff_id=staff_id,
            facility_id=facility_id,
            day=NEXT_WEEK + timedelta(days=day_offset),
            half_day=half,
        )


def test_a_week_where_an_associate_chief_has_no_community_day_is_flagged(
    staffing: Staffing,
) -> None:
    full_day(staffing, CARDIOLOGY_ASSOCIATE, "QS-C01", 2)  # week 1: a day at a community centre
    full_day(staffing, CARDIOLOGY_ASSOCIATE, "QS-T01", 9)  # week 2: a day, but at a township
    first, second = coverage_report(staffing.uow(), NEXT_WEEK, 2)

    met = check(first, "senior_community_day", CARDIOLOGY_ASSOCIATE)
    assert (met.met, met.actual, met.required) == (True, Decimal(1), Decimal(1))
    missed = check(second, "senior_community_day", CARDIOLOGY_ASSOCIATE)
    assert not missed.met
    assert missed.subject_name == "李秀英"
    assert missed.reason == "0 day(s) at community_centre, fewer than 1"
    assert not second.met
    (rule,) = [r for r in second.rules if r.rule_id == "senior_community_day"]
    assert CARDIOLOGY_ASSOCIATE in {c.subject_id for c in rule.misses}

    # A specialist on leave the whole working week is not held to the weekly rules.
    leave.record_leave(
        staffing.uow(),
        staff_id=CARDIOLOGY_CHIEF,
        kind=leave.LeaveKind.ANNUAL,
        start=NEXT_WEEK,
        end=NEXT_WEEK + timedelta(days=4),
    )
    (again,) = coverage_report(staffing.uow(), NEXT_WEEK, 1)
    (rule,) = [r for r in again.rules if r.rule_id == "senior_community_day"]
    assert CARDIOLOGY_CHIEF not in {c.subject_id for c in rule.checks}


def test_the_average_and_stationing_rules(staffing: Staffing) -> None:
    full_day(staffing, TCM_CHIEF, "QS-T05", 0)
    stationing.start_stationing(
        staffing.uow(),
        staff_id=CARDIOLOGY_CHIEF,
        facility_id="QS-T01",
        start=NEXT_WEEK,
        planned_end=NEXT_WEEK + timedelta(days=200),
    )
    stationing.start_stationing(  # three months: too short to count
        staffing.uow(),
        staff_id=CARDIOLOGY_ASSOCIATE,
        facility_id="QS-T02",
        start=NEXT_WEEK,
        planned_end=NEXT_WEEK + timedelta(days=90),
    )
    (report,) = coverage_report(staffing.uow(), NEXT_WEEK, 1)

    assert check(report, "township_stationed_physician", "QS-T01").met
    short = check(report, "township_stationed_physician", "QS-T02")
    assert (short.met, short.actual) == (False, Decimal(0))
    (stationed,) = [r for r in report.rules if r.rule_id == "township_stationed_physician"]
    assert len(stationed.checks) == 10  # every township centre
    assert "QS-C01" not in {c.subject_id for c in stationed.checks}

    # QS-MC2's 10 specialists (the TCM hospital's chiefs to attendings): one day between them.
    tcm = check(report, "specialist_days_down", "QS-MC2")
    assert (tcm.met, tcm.actual, tcm.required) == (False, Decimal("0.10"), Decimal("1.5"))
