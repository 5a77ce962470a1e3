"""What happens in the county: a pure, seeded plan of a period's activity.

``plan_period(county, clock, seed=..., scale=...)`` returns the same plan for the same
inputs: the stock on the shelves when the period starts, the expert sessions, rotations and
stationings to plan, and, in time order, every visit, prescription, referral step,
attendance record and pharmacist's round. Nothing here does I/O; ``simulator.drivers``
plays the plan against the suite.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from libs.events.catalogue.values import (
    FacilityTier,
    FacilityType,
    InsuranceType,
    PrescriptionCategory,
    VisitType,
)
from simulator.clock import HOURLY_WEIGHTS, SimClock
from simulator.county import County, Drug, Facility, Staff

__all__ = [
    "Knobs",
    "OpeningLot",
    "Patient",
    "PharmacyRound",
    "Plan",
    "PlannedSession",
    "PrescriptionAct",
    "ReferralAct",
    "SessionAct",
    "VisitAct",
    "plan_period",
    "resident_id",
]

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Knobs:
    """The model's parameters; ``scale`` multiplies the volumes (1.0: about 2,400 visits a day
    in the seed county's 23 facilities)."""

    visits_per_day: float = 2400.0
    primary_share: float = 0.70  # of in-county visits (基层就诊率 target ≥ 65 %)
    out_of_county_share: float = 0.07  # of county insurees' visits, outside the county
    prescription_rate: float = 0.72  # prescriptions per in-county visit
    tcm_share_at_tcm_hospital: float = 0.58
    tcm_share_elsewhere: float = 0.26  # together about 30 % of prescriptions
    herbal_share_of_tcm: float = 0.25
    referrals_per_day: float = 30.0  # 436 a year in one county; more in a busy one
    down_share: float = 0.80  # 355 down / 81 up
    emergency_share_of_up: float = 0.15
    urgent_share_of_up: float = 0.35
    sessions_per_day: float = 14.0  # expert half-days at member clinics
    rotations: int = 3  # weekly patterns planned for the coming weeks
    stationings: int = 2  # specialists stationed at township centres
    stock_cover: tuple[float, float] = (0.5, 1.6)  # member shelf ÷ the period's demand
    pharmacy_round_hours: tuple[float, ...] = (10.5, 13.5, 16.5)


@dataclass(frozen=True)
class Patient:
    national_id: str
    name: str


@dataclass(frozen=True)
class OpeningLot:
    facility_id: str
    drug_code: str
    lot_number: str
    expires_in_days: int
    quantity: int
    unit_cost: Decimal


@dataclass(frozen=True)
class PlannedSession:
    key: str
    staff_id: str
    facility_id: str
    half_day: str  # morning, afternoon
    day_offset: int  # 0: the county's today when the period ends; sessions cannot be past


@dataclass(frozen=True)
class Rotation:
    staff_id: str
    facility_id: str
    weekday: str
    half_day: str
    weeks: int


@dataclass(frozen=True)
class Stationing:
    staff_id: str
    facility_id: str
    months: int


@dataclass(frozen=True)
class VisitAct:
    at_s: float
    visit_id: str
    facility_id: str
    tier: FacilityTier
    in_county: bool
    patient: Patient
    insurance: InsuranceType
    insured_in_county: bool
    visit_type: VisitType
    department_id: str | None
    diagnosis: str
    total: Decimal
    eligible: Decimal


@dataclass(frozen=True)
class PrescriptionAct:
    at_s: float
    prescription_id: str
    visit_id: str
    facility_id: str
    tier: FacilityTier
    patient: Patient
    category: PrescriptionCategory
    department_id: str | None
    lines: tuple[tuple[str, int, Decimal], ...]  # drug code, packs, HIS price

    @property
    def total(self) -> Decimal:
        return sum(((p * q).quantize(CENT, ROUND_HALF_UP) for _, q, p in self.lines), Decimal(0))


ReferralStep = Literal["request", "accept", "reject", "schedule", "arrive", "complete"]


@dataclass(frozen=True)
class ReferralAct:
    at_s: float
    key: str
    step: ReferralStep
    actor_facility_id: str
    body: tuple[tuple[str, object], ...] = ()  # the request's fields (request step only)
    backdate: bool = False  # send requested_at (routine referrals entered afterwards)


@dataclass(frozen=True)
class SessionAct:
    at_s: float
    key: str
    step: Literal["check_in", "check_out"]
    facility_id: str
    patients_seen: int = 0
    home_visits: int = 0


@dataclass(frozen=True)
class PharmacyRound:
    """The central pharmacists approve and ship what was asked; clinics receive."""

    at_s: float
    final: bool = False


Act = VisitAct | PrescriptionAct | ReferralAct | SessionAct | PharmacyRound


@dataclass(frozen=True)
class Plan:
    clock: SimClock
    seed: int
    run_id: str
    opening_stock: tuple[OpeningLot, ...]
    sessions: tuple[PlannedSession, ...]
    rotations: tuple[Rotation, ...]
    stationings: tuple[Stationing, ...]
    acts: tuple[Act, ...]
    counts: dict[str, int] = field(default_factory=dict)


# --- people --------------------------------------------------------------------------------

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华玉兰志强国庆春梅海燕文博德明淑芬永康"
)


def resident_id(rng: random.Random, area: str = "320412") -> str:
    """A well-formed 18-character resident identity number (GB 11643 check digit)."""
    born = date(1935, 1, 1) + timedelta(days=rng.randrange(0, 365 * 85))
    body = f"{area}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]
    return body + check


def _patients(rng: random.Random, count: int) -> list[Patient]:
    people: list[Patient] = []
    seen: set[str] = set()
    while len(people) < count:
        nid = resident_id(rng)
        if nid in seen:
            continue
        seen.add(nid)
        name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2)))
        people.append(Patient(nid, name))
    return people


# --- helpers -------------------------------------------------------------------------------


def _count(rng: random.Random, mean: float, minimum: int = 0) -> int:
    """A Poisson-ish count around ``mean`` (normal approximation, never below ``minimum``)."""
    if mean <= 0:
        return minimum
    drawn = round(rng.gauss(mean, math.sqrt(mean))) if mean > 20 else _poisson(rng, mean)
    return max(minimum, drawn)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _instants(rng: random.Random, clock: SimClock, n: int, *, flat: bool = False) -> list[float]:
    """``n`` offsets drawn from the day's shape (or uniformly), sorted."""
    slots = clock.hourly_slots()
    weights = [(to - fro) if flat else w for fro, to, w in slots]
    if not any(weights):
        weights = [to - fro for fro, to, _ in slots]
    picks = rng.choices(slots, weights=weights, k=n)
    return sorted(rng.uniform(fro, to) for fro, to, _ in picks)


def _zipf(n: int, s: float = 0.9) -> list[float]:
    return [1.0 / (rank + 1) ** s for rank in range(n)]


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), 2))).quantize(CENT)


_DIAGNOSES = {
    "cardiology": ["I10", "I20.0", "I25.1", "I48.9"],
    "neurology": ["I63.9", "G43.9", "G45.9"],
    "emergency medicine": ["R07.4", "T14.9", "R55"],
    "general surgery": ["K35.8", "K80.2", "K40.9"],
    "orthopaedics": ["M54.5", "S72.0", "M17.9"],
    "endocrinology": ["E11.9", "E03.9", "E78.5"],
    "respiratory medicine": ["J18.9", "J44.1", "J45.9"],
    "TCM internal medicine": ["K29.7", "R51", "I10"],
    "acupuncture": ["M54.2", "G51.0"],
    "rehabilitation": ["I69.3", "Z50.9"],
}
_PRIMARY_DIAGNOSES = ["J06.9", "I10", "E11.9", "K29.7", "M54.5", "J20.9", "R51", "A09.9"]


# --- the plan ------------------------------------------------------------------------------


def plan_period(
    county: County,
    clock: SimClock,
    *,
    seed: int = 1,
    scale: float = 1.0,
    knobs: Knobs | None = None,
    run_id: str = "sim",
) -> Plan:
    """The period's activity; the same arguments always give the same plan."""
    knobs = knobs or Knobs()
    rng = random.Random(f"{seed}:{run_id}")
    days = _busy_days(clock)
    n_visits = _count(rng, knobs.visits_per_day * scale * days, minimum=1)
    patients = _patients(rng, max(10, int(n_visits * 0.8)))
    acts: list[Act] = []
    visits, prescriptions = _visits_and_prescriptions(
        county, clock, rng, knobs, n_visits, patients, run_id
    )
    acts += visits
    acts += prescriptions
    acts += _referrals(county, clock, rng, knobs, scale, patients, run_id)
    sessions, session_acts = _sessions(county, clock, rng, knobs, scale, run_id)
    acts += session_acts
    used = {s.staff_id for s in sessions}
    rotations, stationings = _rotations_and_stationings(county, rng, knobs, used)
    acts += [PharmacyRound(clock.offset_of(d, h)) for d, h in _round_times(clock, knobs)]
    acts.append(PharmacyRound(clock.seconds, final=True))
    order = {VisitAct: 0, PrescriptionAct: 1, ReferralAct: 2, SessionAct: 3, PharmacyRound: 4}
    acts.sort(key=lambda a: (a.at_s, order[type(a)]))
    kinds = Counter(type(a).__name__ for a in acts)
    kinds.update(
        f"referral_{a.step}" for a in acts if isinstance(a, ReferralAct) and a.step != "request"
    )
    return Plan(
        clock=clock,
        seed=seed,
        run_id=run_id,
        opening_stock=tuple(_opening_stock(county, rng, knobs, prescriptions, acts, run_id)),
        sessions=tuple(sessions),
        rotations=tuple(rotations),
        stationings=tuple(stationings),
        acts=tuple(acts),
        counts=dict(kinds),
    )


def _busy_days(clock: SimClock) -> float:
    """The period's length in days, weighted by the day's shape (two peak hours count for
    more than a night)."""
    return sum(w for _, _, w in clock.hourly_slots()) / sum(HOURLY_WEIGHTS)


def _round_times(clock: SimClock, knobs: Knobs) -> list[tuple[int, float]]:
    last_day = clock.day_index(clock.seconds - 1)
    return [
        (day, hour)
        for day in range(last_day + 1)
        for hour in knobs.pharmacy_round_hours
        if 0 < clock.offset_of(day, hour) < clock.seconds
    ]


def _visit_weights(county: County, knobs: Knobs) -> tuple[list[Facility], list[float]]:
    primary_kind = {
        FacilityType.TOWNSHIP_CENTRE: 1.0,
        FacilityType.COMMUNITY_CENTRE: 1.3,
        FacilityType.VILLAGE_CLINIC: 0.25,
    }
    hospital_kind = {FacilityType.COUNTY_HOSPITAL: 0.62, FacilityType.TCM_HOSPITAL: 0.38}
    primary = county.primary
    hospitals = county.hospitals
    p_total = sum(primary_kind[f.facility_type] for f in primary)
    h_total = sum(hospital_kind[f.facility_type] for f in hospitals)
    facilities = primary + hospitals
    weights = [knobs.primary_share * primary_kind[f.facility_type] / p_total for f in primary]
    weights += [
        (1 - knobs.primary_share) * hospital_kind[f.facility_type] / h_total for f in hospitals
    ]
    return facilities, weights


def _visits_and_prescriptions(
    county: County,
    clock: SimClock,
    rng: random.Random,
    knobs: Knobs,
    n: int,
    patients: list[Patient],
    run_id: str,
) -> tuple[list[VisitAct], list[PrescriptionAct]]:
    facilities, weights = _visit_weights(county, knobs)
    visits: list[VisitAct] = []
    prescriptions: list[PrescriptionAct] = []
    for i, at in enumerate(_instants(rng, clock, n)):
        patient = rng.choice(patients)
        roll = rng.random()
        insurance = (
            InsuranceType.SELF_PAY
            if roll < 0.06
            else InsuranceType.URBAN_EMPLOYEE
            if roll < 0.30
            else InsuranceType.URBAN_RURAL_RESIDENT
        )
        insured_here = insurance is not InsuranceType.SELF_PAY and rng.random() > 0.04
        visit_id = f"V-{run_id}-{i:06d}"
        if insured_here and rng.random() < knobs.out_of_county_share:
            visits.append(
                VisitAct(
                    at,
                    visit_id,
                    f"EXT-{rng.randint(1, 4):02d}",
                    FacilityTier.TERTIARY,
                    False,
                    patient,
                    insurance,
                    True,
                    VisitType.OUTPATIENT,
                    None,
                    "I25.1",
                    *_amounts(rng, FacilityTier.TERTIARY),
                )
            )
            continue
        facility = rng.choices(facilities, weights=weights)[0]
        department = rng.choice(facility.departments) if facility.departments else None
        hour = clock.local_hour(at)
        night = hour < 7 or hour >= 20
        kind = (
            VisitType.EMERGENCY
            if (night or rng.random() < 0.04) and not facility.is_primary
            else VisitType.INPATIENT
            if not facility.is_primary and rng.random() < 0.05
            else VisitType.OUTPATIENT
        )
        diagnosis = (
            rng.choice(_DIAGNOSES.get(department.specialty, _PRIMARY_DIAGNOSES))
            if department
            else rng.choice(_PRIMARY_DIAGNOSES)
        )
        total, eligible = _amounts(rng, facility.tier, kind)
        visits.append(
            VisitAct(
                at,
                visit_id,
                facility.facility_id,
                facility.tier,
                True,
                patient,
                insurance,
                insured_here,
                kind,
                department.department_id if department else None,
                diagnosis,
                total,
                eligible,
            )
        )
        if rng.random() < knobs.prescription_rate:
            rx = _prescription(county, rng, knobs, facility, visits[-1], at + rng.uniform(60, 900))
            if rx is not None:
                prescriptions.append(rx)
    return visits, [p for p in prescriptions if p.at_s <= clock.seconds]


def _amounts(
    rng: random.Random, tier: FacilityTier, kind: VisitType = VisitType.OUTPATIENT
) -> tuple[Decimal, Decimal]:
    low, high = {
        FacilityTier.PRIMARY: (12, 90),
        FacilityTier.SECONDARY: (30, 260),
        FacilityTier.TERTIARY: (40, 380),
    }[tier]
    if kind is VisitType.INPATIENT:
        low, high = low * 20, high * 20
    elif kind is VisitType.EMERGENCY:
        low, high = low * 2, high * 3
    total = _money(rng, low, high)
    eligible = (total * Decimal(str(rng.uniform(0.65, 0.95)))).quantize(CENT)
    return total, eligible


def _prescription(
    county: County,
    rng: random.Random,
    knobs: Knobs,
    facility: Facility,
    visit: VisitAct,
    at: float,
) -> PrescriptionAct | None:
    tcm_share = (
        knobs.tcm_share_at_tcm_hospital
        if facility.facility_type is FacilityType.TCM_HOSPITAL
        else knobs.tcm_share_elsewhere
    )
    category = PrescriptionCategory.WESTERN
    if rng.random() < tcm_share:
        category = (
            PrescriptionCategory.TCM_HERBAL
            if rng.random() < knobs.herbal_share_of_tcm
            else PrescriptionCategory.TCM_PATENT
        )
    choices = county.drugs_for(facility, category)
    if not choices and category is PrescriptionCategory.TCM_HERBAL:
        category = PrescriptionCategory.TCM_PATENT  # village clinics hold no decoction pieces
        choices = county.drugs_for(facility, category)
    if not choices:
        return None
    n_lines = min(len(choices), rng.choices((1, 2, 3, 4), weights=(45, 35, 15, 5))[0])
    picked: list[Drug] = []
    weights = _zipf(len(choices))
    while len(picked) < n_lines:
        drug = rng.choices(choices, weights=weights)[0]
        if drug not in picked:
            picked.append(drug)
    lines = tuple(
        (d.drug_code, 1 if d.unit_price > 100 else rng.choice((1, 1, 2, 2, 3)), d.unit_price)
        for d in picked
    )
    return PrescriptionAct(
        at,
        visit.visit_id.replace("V-", "RX-", 1),
        visit.visit_id,
        facility.facility_id,
        facility.tier,
        visit.patient,
        category,
        visit.department_id,
        lines,
    )


def _referrals(
    county: County,
    clock: SimClock,
    rng: random.Random,
    knobs: Knobs,
    scale: float,
    patients: list[Patient],
    run_id: str,
) -> list[ReferralAct]:
    n = _count(rng, knobs.referrals_per_day * scale * _busy_days(clock), minimum=4)
    acts: list[ReferralAct] = []
    minutes = 60.0
    times = _instants(rng, clock, n)
    # Every period has at least two referrals down with medications, one routine up and one
    # emergency up, so each reaction of the suite is exercised.
    forced = ["down", "down", "up_routine", "up_emergency"]
    for i, at in enumerate(times):
        key = f"R-{run_id}-{i:04d}"
        patient = rng.choice(patients)
        kind = forced[i] if i < len(forced) else None
        down = kind == "down" or (kind is None and rng.random() < knobs.down_share)
        if down:
            acts += _downward(county, rng, key, at, patient, minutes)
            continue
        if kind == "up_emergency":
            priority = "emergency"
        elif kind == "up_routine":
            priority = "routine"
        else:
            roll = rng.random()
            priority = (
                "emergency"
                if roll < knobs.emergency_share_of_up
                else "urgent"
                if roll < knobs.emergency_share_of_up + knobs.urgent_share_of_up
                else "routine"
            )
        acts += _upward(county, rng, key, at, patient, priority, minutes)
    return [a for a in acts if a.at_s <= clock.seconds]


def _upward(
    county: County,
    rng: random.Random,
    key: str,
    at: float,
    patient: Patient,
    priority: str,
    minutes: float,
) -> list[ReferralAct]:
    clinic = rng.choice([f for f in county.primary if f.facility_type.value != "village_clinic"])
    hospital = county.facility(county.lead_of[clinic.community_id])
    if priority == "emergency":  # green channels go to the people's hospital
        hospital = next(f for f in county.hospitals if f.facility_type.value == "county_hospital")
    departments = [d for d in hospital.departments if d.specialty != "pharmacy"]
    green = None
    if priority == "emergency":
        green = rng.choice(("chest_pain", "stroke"))
        wanted = {"chest_pain": "cardiology", "stroke": "neurology"}[green]
        department = next(d for d in departments if d.specialty == wanted)
    else:
        department = rng.choice(departments)
    diagnosis = rng.choice(_DIAGNOSES.get(department.specialty, _PRIMARY_DIAGNOSES))
    body: dict[str, object] = {
        "direction": "up",
        "priority": priority,
        "from_facility_id": clinic.facility_id,
        "to_facility_id": hospital.facility_id,
        "to_department_id": department.department_id,
        "patient": {"name": patient.name, "national_id": patient.national_id},
        "reason_code": "green_channel"
        if green
        else rng.choice(("beyond_capability", "needs_specialist", "needs_imaging")),
        "diagnosis_codes": ["I21.9" if green == "chest_pain" else diagnosis],
        "needs_bed": priority == "emergency" or rng.random() < 0.3,
    }
    if green:
        body["green_channel"] = green
    acts = [
        ReferralAct(
            at, key, "request", clinic.facility_id, tuple(body.items()), priority == "routine"
        )
    ]
    to = hospital.facility_id
    if priority == "emergency":
        accept = at + rng.uniform(2, 8) * minutes
        acts += [
            ReferralAct(accept, key, "accept", to),
            ReferralAct(accept + rng.uniform(20, 60) * minutes, key, "arrive", to),
            ReferralAct(accept + rng.uniform(2, 5) * 3600, key, "complete", to),
        ]
    elif priority == "routine" and rng.random() < 0.06:
        acts.append(ReferralAct(at + rng.uniform(20, 90) * minutes, key, "reject", to))
    else:
        accept = at + rng.uniform(5, 45 if priority == "urgent" else 120) * minutes
        acts += [
            ReferralAct(accept, key, "accept", to),
            ReferralAct(accept + rng.uniform(1, 10) * minutes, key, "schedule", to),
        ]
    return acts


def _downward(
    county: County, rng: random.Random, key: str, at: float, patient: Patient, minutes: float
) -> list[ReferralAct]:
    hospital = rng.choices(county.hospitals, weights=(0.65, 0.35))[0]
    members = [
        f for f in county.primary if f.community_id == hospital.community_id and f.departments == ()
    ]
    clinic = rng.choice([f for f in members if f.facility_type.value != "village_clinic"])
    department = rng.choice([d for d in hospital.departments if d.specialty != "pharmacy"])
    held = county.drugs_for(clinic, PrescriptionCategory.WESTERN)[:30]
    held += county.drugs_for(clinic, PrescriptionCategory.TCM_PATENT)[:10]
    medications = rng.sample(held, k=rng.randint(1, 3))
    body: dict[str, object] = {
        "direction": "down",
        "priority": "routine",
        "from_facility_id": hospital.facility_id,
        "from_department_id": department.department_id,
        "to_facility_id": clinic.facility_id,
        "patient": {"name": patient.name, "national_id": patient.national_id},
        "reason_code": rng.choice(
            ("stable_for_primary_care", "chronic_management", "rehabilitation")
        ),
        "diagnosis_codes": [rng.choice(_DIAGNOSES.get(department.specialty, _PRIMARY_DIAGNOSES))],
        "follow_up_plan": {
            "medications": [
                {"drug_code": d.drug_code, "quantity": rng.randint(1, 3), "days_supply": 30}
                for d in medications
            ],
            "follow_up_within_days": rng.choice((14, 21, 30)),
        },
    }
    accept = at + rng.uniform(10, 180) * minutes
    return [
        ReferralAct(at, key, "request", hospital.facility_id, tuple(body.items()), True),
        ReferralAct(accept, key, "accept", clinic.facility_id),
        ReferralAct(accept + rng.uniform(1, 20) * minutes, key, "schedule", clinic.facility_id),
    ]


def _sessions(
    county: County,
    clock: SimClock,
    rng: random.Random,
    knobs: Knobs,
    scale: float,
    run_id: str,
) -> tuple[list[PlannedSession], list[SessionAct]]:
    """Expert half-days on the period's last simulated day (staffing plans no past day)."""
    last_day = clock.day_index(clock.seconds - 1)
    halves = [
        (half, clock.offset_of(last_day, start), clock.offset_of(last_day, end))
        for half, start, end in (("morning", 8.0, 12.0), ("afternoon", 14.0, 17.5))
    ]
    halves = [(h, s, min(e, clock.seconds)) for h, s, e in halves if 0 <= s < clock.seconds]
    if not halves:
        return [], []
    n = _count(rng, knobs.sessions_per_day * min(1.0, max(scale, 0.15)), minimum=2)
    experts = sorted(county.specialists, key=lambda s: s.staff_id)
    hosts: list[Facility] = county.primary
    booked: set[tuple[str, str]] = set()
    sessions: list[PlannedSession] = []
    acts: list[SessionAct] = []
    for i in range(n * 3):
        if len(sessions) >= n:
            break
        expert = rng.choice(experts[: max(4, len(experts) - knobs.stationings - knobs.rotations)])
        half, start, end = rng.choice(halves)
        home = county.facility(expert.home_facility_id)
        members = [f for f in hosts if f.community_id == home.community_id]
        host = rng.choice(members)
        if (expert.staff_id, half) in booked:
            continue
        booked.add((expert.staff_id, half))
        key = f"SES-{run_id}-{i:03d}"
        sessions.append(PlannedSession(key, expert.staff_id, host.facility_id, half, 0))
        seen = rng.randint(6, 28)
        acts += [
            SessionAct(start + rng.uniform(0, 20) * 60, key, "check_in", host.facility_id),
            SessionAct(
                end - rng.uniform(0, 30) * 60,
                key,
                "check_out",
                host.facility_id,
                patients_seen=seen,
                home_visits=rng.choice((0, 0, 1, 2, 3)),
            ),
        ]
    return sessions, acts


def _rotations_and_stationings(
    county: County, rng: random.Random, knobs: Knobs, used: set[str]
) -> tuple[list[Rotation], list[Stationing]]:
    spare = [
        s for s in sorted(county.specialists, key=lambda s: s.staff_id) if s.staff_id not in used
    ]
    rng.shuffle(spare)
    stationed: list[Staff] = spare[: knobs.stationings]
    rotating: list[Staff] = spare[knobs.stationings : knobs.stationings + knobs.rotations]
    townships = [f for f in county.primary if f.facility_type is FacilityType.TOWNSHIP_CENTRE]
    stationings = []
    for staff in stationed:
        home = county.facility(staff.home_facility_id)
        options = [f for f in townships if f.community_id == home.community_id]
        stationings.append(Stationing(staff.staff_id, rng.choice(options).facility_id, 6))
    rotations = []
    for staff in rotating:
        home = county.facility(staff.home_facility_id)
        options = [
            f
            for f in county.primary
            if f.community_id == home.community_id
            and f.facility_type is FacilityType.COMMUNITY_CENTRE
        ]
        rotations.append(
            Rotation(
                staff.staff_id,
                rng.choice(options).facility_id,
                rng.choice(("tuesday", "wednesday", "thursday")),
                rng.choice(("morning", "afternoon")),
                8,
            )
        )
    return rotations, stationings


def _opening_stock(
    county: County,
    rng: random.Random,
    knobs: Knobs,
    prescriptions: list[PrescriptionAct],
    acts: list[Act],
    run_id: str,
) -> list[OpeningLot]:
    """What is on the shelves when the period starts: members hold roughly the period's
    demand (some less, so they run low and are replenished), the central pharmacies enough
    for their own patients and their members' replenishment."""
    demand: Counter[tuple[str, str]] = Counter()
    for rx in prescriptions:
        for code, packs, _ in rx.lines:
            demand[(rx.facility_id, code)] += packs
    for act in acts:  # referral medications reserved at the receiving clinic
        if isinstance(act, ReferralAct) and act.step == "request":
            body = dict(act.body)
            plan = body.get("follow_up_plan")
            if isinstance(plan, dict):
                for med in plan["medications"]:
                    demand[(str(body["to_facility_id"]), med["drug_code"])] += med["quantity"]
    drugs = {d.drug_code: d for d in county.drugs}
    lots: list[OpeningLot] = []
    community_demand: Counter[tuple[str, str]] = Counter()
    for facility in county.facilities:
        central = county.lead_of[facility.community_id] == facility.facility_id
        if central:
            continue
        for drug in county.drugs_for(facility):
            wanted = demand[(facility.facility_id, drug.drug_code)]
            community_demand[(facility.community_id, drug.drug_code)] += wanted
            if wanted == 0 and rng.random() > 0.04:
                continue  # members keep what their patients use
            cover = rng.uniform(*knobs.stock_cover)
            quantity = max(1, math.ceil(wanted * cover)) if wanted else rng.randint(1, 4)
            lots.append(_lot(rng, facility.facility_id, drug, quantity, run_id, near=0.12))
    for community, lead in sorted(county.lead_of.items()):
        facility = county.facility(lead)
        for drug in county.drugs_for(facility):
            own = demand[(lead, drug.drug_code)]
            members = community_demand[(community, drug.drug_code)]
            quantity = 2 * own + 3 * members + 20
            if own + members == 0:  # one lot of what nobody asks for this period
                lots.append(_lot(rng, lead, drug, quantity, run_id, near=0.2, suffix="A"))
                continue
            first = math.ceil(quantity * 0.4)
            lots.append(_lot(rng, lead, drug, first, run_id, near=0.3, suffix="A"))
            lots.append(_lot(rng, lead, drug, quantity - first, run_id, near=0.0, suffix="B"))
    del drugs
    return lots


def _lot(
    rng: random.Random,
    facility_id: str,
    drug: Drug,
    quantity: int,
    run_id: str,
    *,
    near: float,
    suffix: str = "M",
) -> OpeningLot:
    near_expiry = rng.random() < near
    days = rng.randint(40, 175) if near_expiry else rng.randint(300, 900)
    cost = (drug.unit_price * Decimal(str(rng.uniform(0.82, 0.95)))).quantize(Decimal("0.0001"))
    lot = f"{drug.drug_code[-4:]}{run_id[-6:]}{suffix}".replace("-", "")
    return OpeningLot(facility_id, drug.drug_code, lot, days, quantity, cost)
