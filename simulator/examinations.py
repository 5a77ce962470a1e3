"""Tests and examinations (检查检验) in the plan: a share of the visits at centres and
hospitals has a test ordered and reported at that member, and a share of those is ordered
again at another member, where the review centre recognises the earlier result (结果互认,
``infra/quality/recognition.yaml``) or says why not (the first member not accredited).

A repeat is placed only after the pharmacists' round that follows the first result: the
round waits until the suite has consumed everything sent, so quality has indexed the result
when the repeat arrives, however fast or slow (or killed and restarted) it was — orders and
results travel on different topics, and the decision must not depend on which came first.
For the same reason a patient has one test of an item in a period. Pure and seeded.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from libs.events.catalogue.values import FacilityType, TestKind
from simulator.acts import Act, Knobs, OrderAct, Patient, PharmacyRound, ResultAct, VisitAct
from simulator.clock import SimClock
from simulator.county import County, Facility

__all__ = ["PRIMARY_TESTS", "tests_and_repeats"]

#: What a township or community centre's laboratory and ECG room do; the hospitals do every
#: recognised item, village clinics none.
PRIMARY_TESTS = frozenset({"CBC", "GLU", "HBA1C", "LIPID", "LFT", "RFT", "ECG"})


def tests_and_repeats(
    county: County,
    clock: SimClock,
    rng: random.Random,
    knobs: Knobs,
    visits: Sequence[VisitAct],
    rounds: Sequence[PharmacyRound],
    run_id: str,
) -> list[Act]:
    """The period's orders and results, and the repeat orders (each with ``repeat``)."""
    acts: list[Act] = []
    tested: set[tuple[str, str]] = set()
    round_times = sorted(r.at_s for r in rounds)
    for n, visit in enumerate(visits):
        facility = county.by_id.get(visit.facility_id) if visit.in_county else None
        items = _orderable(county, facility)
        if facility is None or not items or rng.random() >= knobs.test_share:
            continue
        code, kind = rng.choice(items)
        at = visit.at_s + rng.uniform(120, 1200)
        ids = (f"OR-{run_id}-{n:06d}", facility, visit.patient)
        order = _order(county, rng, at, ids, (code, kind), visit)
        result = _result(rng, order, f"RS-{run_id}-{n:06d}")
        key = (visit.patient.national_id, code)
        if result.at_s >= clock.seconds or key in tested:
            continue
        tested.add(key)
        acts += [order, result]
        if rng.random() < knobs.repeat_test_share:
            repeat = _repeat(county, clock, rng, result, round_times)
            acts += [repeat] if repeat is not None else []
    return acts


def _orderable(county: County, facility: Facility | None) -> list[tuple[str, TestKind]]:
    if facility is None or facility.facility_type is FacilityType.VILLAGE_CLINIC:
        return []
    if facility.is_primary:
        return [(code, kind) for code, kind in county.tests if code in PRIMARY_TESTS]
    return list(county.tests)


def _order(
    county: County,
    rng: random.Random,
    at: float,
    ids: tuple[str, Facility, Patient],
    test: tuple[str, TestKind],
    visit: VisitAct | None = None,
) -> OrderAct:
    """An order of ``test`` (code, kind): ``ids`` are the order id, where, and for whom."""
    order_id, facility, patient = ids
    department = visit.department_id if visit is not None else None
    doctors = county.doctors_at(facility.facility_id, department)
    return OrderAct(
        at,
        order_id,
        facility.facility_id,
        facility.tier,
        patient,
        test[1],
        test[0],
        visit_id=visit.visit_id if visit is not None else None,
        orderer_id=rng.choice(doctors).staff_id if doctors else None,
        department_id=department,
        repeat=visit is None,
    )


def _result(rng: random.Random, order: OrderAct, result_id: str) -> ResultAct:
    performed = order.at_s + rng.uniform(300, 1800)
    reported = performed + rng.uniform(600, 3600)
    observations = rng.randint(3, 20) if order.test_kind is TestKind.LABORATORY else 1
    return ResultAct(reported, result_id, order, observations, performed)


def _repeat(
    county: County,
    clock: SimClock,
    rng: random.Random,
    result: ResultAct,
    round_times: list[float],
) -> OrderAct | None:
    """The same test of the same patient at another member, after the next round."""
    first = result.order
    after = next((t for t in round_times if t > result.at_s), None)
    if after is None:
        return None
    at = after + rng.uniform(60, 1800)
    others = [
        f
        for f in county.facilities
        if f.facility_id != first.facility_id and (first.test_code, first.test_kind) in
        _orderable(county, f)
    ]  # fmt: skip
    if at >= clock.seconds or not others:
        return None
    hospitals = [f for f in others if not f.is_primary]
    # Patients go up more than down: a hospital repeats a clinic's test, mostly.
    place = rng.choice(hospitals if hospitals and rng.random() < 0.7 else others)
    ids = (f"{first.order_id}R", place, first.patient)
    return _order(county, rng, at, ids, (first.test_code, first.test_kind))
