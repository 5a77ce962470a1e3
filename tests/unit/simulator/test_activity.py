"""The simulator's generator: the shape of a day, the shares the county is judged on, and
reproducibility from the seed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from libs.events.catalogue.values import PrescriptionCategory
from simulator.activity import (
    PharmacyRound,
    PrescriptionAct,
    ReferralAct,
    SessionAct,
    VisitAct,
    plan_period,
    resident_id,
)
from simulator.clock import SimClock
from simulator.county import load_county

END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
COUNTY = load_county()


def day_plan(seed: int = 1, scale: float = 1.0, days: int = 1, window=None):
    return plan_period(
        COUNTY, SimClock.ending(END, days=days, window=window), seed=seed, scale=scale, run_id="t"
    )


@pytest.fixture(scope="module")
def day():
    return day_plan(seed=5, days=2)


def of(plan, kind):
    return [a for a in plan.acts if isinstance(a, kind)]


def test_the_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    first, again, other = day_plan(seed=3), day_plan(seed=3), day_plan(seed=4)
    assert first.acts == again.acts
    assert first.opening_stock == again.opening_stock
    assert first.sessions == again.sessions
    assert first.acts != other.acts


def test_visits_come_in_two_daily_peaks(day) -> None:
    per_hour = Counter(int(day.clock.local_hour(v.at_s)) for v in of(day, VisitAct))
    morning = (per_hour[9] + per_hour[10]) / 2
    afternoon = (per_hour[14] + per_hour[15]) / 2
    lunch = (per_hour[12] + per_hour[13]) / 2
    night = sum(per_hour[h] for h in range(0, 6)) / 6
    assert morning > 3 * lunch and afternoon > 3 * lunch
    assert morning > 20 * max(night, 1) / 2
    busiest = {h for h, _ in per_hour.most_common(4)}
    assert busiest <= {9, 10, 14, 15}


def test_about_seventy_percent_of_visits_are_at_primary_care(day) -> None:
    inside = [v for v in of(day, VisitAct) if v.in_county]
    primary = sum(1 for v in inside if COUNTY.facility(v.facility_id).is_primary)
    assert 0.66 <= primary / len(inside) <= 0.74
    outside = [v for v in of(day, VisitAct) if not v.in_county]
    assert 0.03 <= len(outside) / len(of(day, VisitAct)) <= 0.10  # drain on the bundle


def test_about_thirty_percent_of_prescriptions_are_tcm(day) -> None:
    rx = of(day, PrescriptionAct)
    tcm = sum(1 for p in rx if p.category is not PrescriptionCategory.WESTERN)
    assert 0.26 <= tcm / len(rx) <= 0.34


def test_prescriptions_hold_only_drugs_the_facility_may_dispense(day) -> None:
    drugs = {d.drug_code: d for d in COUNTY.drugs}
    for rx in of(day, PrescriptionAct):
        facility = COUNTY.facility(rx.facility_id)
        for code, packs, _ in rx.lines:
            assert drugs[code].allowed_at(facility)
            assert drugs[code].prescription_category == rx.category
            assert packs >= 1


def test_referrals_go_mostly_down_with_a_few_urgent_and_emergency_ones_up() -> None:
    plan = day_plan(seed=2, days=3)
    requests = [dict(a.body) for a in of(plan, ReferralAct) if a.step == "request"]
    directions = Counter(r["direction"] for r in requests)
    assert 0.7 <= directions["down"] / len(requests) <= 0.9
    up = [r for r in requests if r["direction"] == "up"]
    assert {r["priority"] for r in up} == {"routine", "urgent", "emergency"}
    assert all(r.get("green_channel") for r in up if r["priority"] == "emergency")
    assert all(r["priority"] == "routine" and r["follow_up_plan"]["medications"]
               for r in requests if r["direction"] == "down")  # fmt: skip
    assert all(
        dict(a.body).get("green_channel") is None
        for a in of(plan, ReferralAct)
        if a.step == "request" and dict(a.body)["direction"] == "down"
    )


def test_every_referral_step_follows_its_request() -> None:
    plan = day_plan(seed=9)
    requested: dict[str, float] = {}
    for act in of(plan, ReferralAct):
        if act.step == "request":
            requested[act.key] = act.at_s
        else:
            assert requested[act.key] <= act.at_s


def test_business_times_are_never_in_the_future_and_a_compressed_day_fits_its_window() -> None:
    plan = day_plan(seed=1, scale=0.3, window=timedelta(hours=2))
    times = [plan.clock.real(a.at_s) for a in plan.acts]
    assert times == sorted(times)
    assert all(END - timedelta(hours=2) <= t <= END for t in times)
    assert isinstance(plan.acts[-1], PharmacyRound) and plan.acts[-1].final


def test_expert_sessions_are_specialists_at_member_clinics_once_per_half_day(day) -> None:
    assert day.sessions
    specialists = {s.staff_id for s in COUNTY.specialists}
    booked = Counter((s.staff_id, s.half_day) for s in day.sessions)
    assert max(booked.values()) == 1
    for session in day.sessions:
        assert session.staff_id in specialists
        assert COUNTY.facility(session.facility_id).is_primary
    steps = Counter(a.step for a in of(day, SessionAct))
    assert steps["check_in"] == steps["check_out"] == len(day.sessions)
    stationed = {s.staff_id for s in day.stationings} | {r.staff_id for r in day.rotations}
    assert not stationed & {s.staff_id for s in day.sessions}


def test_the_central_pharmacies_stock_every_item_they_may_hold(day) -> None:
    for community, lead in COUNTY.lead_of.items():
        held = {lot.drug_code for lot in day.opening_stock if lot.facility_id == lead}
        assert held == {d.drug_code for d in COUNTY.drugs_for(COUNTY.facility(lead))}, community
    assert all(lot.quantity > 0 and lot.expires_in_days > 30 for lot in day.opening_stock)
    near = [lot for lot in day.opening_stock if lot.expires_in_days <= 180]
    assert near  # some near-expiry stock for the 180-day alert


def test_the_default_county_is_the_seed_county_with_about_two_hundred_items() -> None:
    assert len(COUNTY.drugs) == 200
    assert len({d.drug_code for d in COUNTY.drugs}) == 200
    assert sum(d.seeded for d in COUNTY.drugs) == 51
    assert len(COUNTY.facilities) == 23
    assert len(COUNTY.primary) == 21 and len(COUNTY.hospitals) == 2
    small = load_county(80)
    kinds = Counter(d.prescription_category for d in small.drugs)
    assert len(small.drugs) == 80 and all(kinds.values())


def test_resident_ids_carry_a_valid_check_digit() -> None:
    import random

    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for _ in range(50):
        rid = resident_id(random.Random(_))
        total = sum(int(d) * w for d, w in zip(rid[:17], weights, strict=True))
        assert rid[17] == "10X98765432"[total % 11]
