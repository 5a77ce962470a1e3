"""The coverage rules as configured, evaluated on facts about one week."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from libs.events.catalogue.values import FacilityType as F
from libs.events.catalogue.values import HalfDay
from libs.events.catalogue.values import StaffTitle as T
from services.staffing.domain.coverage import (
    FacilityFacts,
    SessionFacts,
    StaffFacts,
    StationingFacts,
    WeekFacts,
    evaluate,
)
from services.staffing.domain.policy import parse_policy

RULES = Path(__file__).resolve().parents[3] / "infra" / "staffing" / "rules.yaml"
MONDAY = date(2027, 3, 1)


def policy_doc() -> dict:
    return yaml.safe_load(RULES.read_text(encoding="utf-8"))


POLICY = parse_policy(policy_doc())


def staff(sid: str, title: T, community: str = "QS-MC1", **kw: bool) -> StaffFacts:
    return StaffFacts(sid, sid, title, F.COUNTY_HOSPITAL, community, **kw)


def sessions(sid: str, facility_type: F, half_days: int) -> list[SessionFacts]:
    return [SessionFacts(sid, facility_type)] * half_days


def results(facts: WeekFacts) -> dict[str, dict[str, tuple[bool, Decimal]]]:
    report = evaluate(POLICY, facts)
    return {r.rule_id: {c.subject_id: (c.met, c.actual) for c in r.checks} for r in report.rules}


def week(staff_: list[StaffFacts], sessions_: list[SessionFacts], **kw: list) -> WeekFacts:
    return WeekFacts(MONDAY, staff_, sessions_, kw.get("facilities", []), kw.get("stationings", []))


def test_the_seed_rules_are_the_field_values() -> None:
    rules = {r.rule_id: r for r in POLICY.coverage}
    assert set(rules) == {
        "senior_community_day",
        "specialist_days_down",
        "township_stationed_physician",
    }
    assert POLICY.half_days_per_day == 2
    assert (POLICY.times(HalfDay.MORNING).label, POLICY.times(HalfDay.AFTERNOON).label) == (
        "上午",
        "下午",
    )


def test_an_associate_chief_without_a_community_day_misses_the_rule() -> None:
    people = [
        staff("A", T.ASSOCIATE_CHIEF),
        staff("B", T.CHIEF),
        staff("C", T.ATTENDING),  # not held to the senior rule
        staff("D", T.ASSOCIATE_CHIEF, away_all_week=True),  # on leave all week
    ]
    planned = (
        sessions("A", F.TOWNSHIP_CENTRE, 4)  # two days down, none at a community centre
        + sessions("B", F.COMMUNITY_CENTRE, 2)  # one day: met
    )
    senior = results(week(people, planned))["senior_community_day"]
    assert senior == {"A": (False, Decimal(0)), "B": (True, Decimal(1))}


def test_a_half_day_is_half_a_day() -> None:
    people = [staff("A", T.CHIEF)]
    senior = results(week(people, sessions("A", F.COMMUNITY_CENTRE, 1)))["senior_community_day"]
    assert senior == {"A": (False, Decimal("0.5"))}


def test_specialists_average_days_down_per_community() -> None:
    people = [
        staff("A", T.CHIEF),
        staff("B", T.ATTENDING),
        staff("X", T.CHIEF, community="QS-MC2"),
        staff("R", T.RESIDENT),  # residents are not counted
    ]
    planned = (
        sessions("A", F.TOWNSHIP_CENTRE, 4)
        + sessions("B", F.VILLAGE_CLINIC, 2)
        + sessions("X", F.COMMUNITY_CENTRE, 2)
        + sessions("R", F.TOWNSHIP_CENTRE, 10)
    )
    average = results(week(people, planned))["specialist_days_down"]
    assert average == {"QS-MC1": (True, Decimal("1.50")), "QS-MC2": (False, Decimal("1.00"))}


def test_each_township_needs_a_long_enough_stationing_that_week() -> None:
    facilities = [
        FacilityFacts("T1", "东湖", F.TOWNSHIP_CENTRE),
        FacilityFacts("T2", "西山", F.TOWNSHIP_CENTRE),
        FacilityFacts("T3", "南塘", F.TOWNSHIP_CENTRE),
        FacilityFacts("C1", "城东", F.COMMUNITY_CENTRE),
    ]
    stationings = [
        # six months to the day: counts.
        StationingFacts("A", "T1", date(2027, 1, 1), date(2027, 6, 30)),
        # five months: does not count.
        StationingFacts("B", "T2", date(2027, 1, 1), date(2027, 5, 31)),
        # ended the week before.
        StationingFacts("C", "T3", date(2026, 9, 1), date(2027, 8, 31), MONDAY - timedelta(1)),
    ]
    stationed = results(week([], [], facilities=facilities, stationings=stationings))[
        "township_stationed_physician"
    ]
    assert stationed == {
        "T1": (True, Decimal(1)),
        "T2": (False, Decimal(0)),
        "T3": (False, Decimal(0)),
    }


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        # The zone is the platform's COUNTY_TIMEZONE now: a leftover key is a typo.
        (lambda d: d.update(timezone="Asia/Shanghai"), "timezone"),
        (lambda d: d["half_days"].pop("afternoon"), "afternoon"),
        (lambda d: d["half_days"]["morning"].update(end="07:00"), "ends after it starts"),
        (lambda d: d["coverage"][0].update(kind="min_hours"), "kind"),
        (lambda d: d["coverage"][1].update(rule_id="senior_community_day"), "appears twice"),
        (lambda d: d["coverage"][0].update(titles=["professor"]), "titles"),
        (lambda d: d["coverage"][2].update(extra=1), "extra"),
    ],
)
def test_a_wrong_policy_file_is_refused(mutate, message: str) -> None:
    doc = policy_doc()
    mutate(doc)
    with pytest.raises(ValueError, match=message):
        parse_policy(doc)
