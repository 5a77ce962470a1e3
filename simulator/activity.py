"""What happens in the county: a pure, seeded plan of a period's activity.

``plan_period(county, clock, seed=..., scale=...)`` returns the same plan for the same
inputs: the stock on the shelves when the period starts, the expert sessions, rotations and
stationings to plan, and, in time order, every visit, prescription, referral step,
attendance record and pharmacist's round. Nothing here does I/O; ``simulator.drivers``
plays the plan against the suite.
"""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

from libs.events.catalogue.values import (
    FacilityTier,
    FacilityType,
    InsuranceType,
    PrescriptionCategory,
    VisitType,
)
from simulator.acts import (
    CENT,
    Act,
    Knobs,
    OpeningLot,
    OrderAct,
    Patient,
    PharmacyRound,
    Plan,
    PlannedSession,
    PrescriptionAct,
    ReferralAct,
    ResultAct,
    Rotation,
    SessionAct,
    Stationing,
    VisitAct,
)
from simulator.clock import SimClock
from simulator.county import County, Drug, Facility
from simulator.desks import referrals, rotations_and_stationings, sessions
from simulator.examinations import tests_and_repeats
from simulator.sampling import (
    DIAGNOSES,
    PRIMARY_DIAGNOSES,
    busy_days,
    count,
    instants,
    money,
    patients,
    resident_id,
    zipf,
)
from simulator.shelves import opening_stock

__all__ = [
    "Knobs",
    "OpeningLot",
    "OrderAct",
    "Patient",
    "PharmacyRound",
    "Plan",
    "PlannedSession",
    "PrescriptionAct",
    "ReferralAct",
    "ResultAct",
    "Rotation",
    "SessionAct",
    "Stationing",
    "VisitAct",
    "plan_period",
    "resident_id",
]

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
    days = busy_days(clock)
    n_visits = count(rng, knobs.visits_per_day * scale * days, minimum=1)
    people = patients(rng, max(10, int(n_visits * 0.8)), clock.real(0).date(), knobs)
    acts: list[Act] = []
    visits, prescriptions = _visits_and_prescriptions(
        county, clock, rng, knobs, n_visits, people, run_id
    )
    acts += visits
    acts += prescriptions
    acts += referrals(county, clock, rng, knobs, scale, people, run_id)
    planned_sessions, session_acts = sessions(county, clock, rng, knobs, scale, run_id)
    acts += session_acts
    used = {s.staff_id for s in planned_sessions}
    rotations, stationings = rotations_and_stationings(county, rng, knobs, used)
    rounds = [PharmacyRound(clock.offset_of(d, h)) for d, h in _round_times(clock, knobs)]
    acts += rounds
    acts.append(PharmacyRound(clock.seconds, final=True))
    # Tests draw from a generator of their own: tuning them leaves the rest of the plan.
    examinations = random.Random(f"{seed}:{run_id}:tests")
    acts += tests_and_repeats(county, clock, examinations, knobs, visits, rounds, run_id)
    order = {VisitAct: 0, PrescriptionAct: 1, OrderAct: 2, ResultAct: 3, ReferralAct: 4,
             SessionAct: 5, PharmacyRound: 6}  # fmt: skip
    acts.sort(key=lambda a: (a.at_s, order[type(a)]))
    kinds = Counter(type(a).__name__ for a in acts)
    kinds.update(
        f"referral_{a.step}" for a in acts if isinstance(a, ReferralAct) and a.step != "request"
    )
    return Plan(
        clock=clock,
        seed=seed,
        run_id=run_id,
        opening_stock=tuple(opening_stock(county, rng, knobs, prescriptions, acts, run_id)),
        sessions=tuple(planned_sessions),
        rotations=tuple(rotations),
        stationings=tuple(stationings),
        acts=tuple(acts),
        counts=dict(kinds),
        knobs=knobs,
    )


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
    # The order of the draws from ``rng`` is the plan: the same seed must give the same
    # visits, so the helpers below draw in the order this loop always has.
    facilities, weights = _visit_weights(county, knobs)
    visits: list[VisitAct] = []
    prescriptions: list[PrescriptionAct] = []
    for i, at in enumerate(instants(rng, clock, n)):
        patient = rng.choice(patients)
        insurance, insured_here = _insurance(rng)
        visit_id = f"V-{run_id}-{i:06d}"
        if insured_here and rng.random() < knobs.out_of_county_share:
            visits.append(_visit_out_of_county(rng, at, visit_id, patient, insurance))
            continue
        facility = rng.choices(facilities, weights=weights)[0]
        visits.append(
            _visit_in_county(clock, rng, at, visit_id, patient, facility, insurance, insured_here)
        )
        if rng.random() < knobs.prescription_rate:
            rx_at = at + rng.uniform(60, 900)
            rx = _prescription(county, rng, knobs, facility, visits[-1], (rx_at, clock))
            if rx is not None:
                prescriptions.append(rx)
    return visits, [p for p in prescriptions if p.at_s <= clock.seconds]


def _insurance(rng: random.Random) -> tuple[InsuranceType, bool]:
    """The patient's scheme, and whether it is the county's own (self-payers have none)."""
    roll = rng.random()
    insurance = (
        InsuranceType.SELF_PAY
        if roll < 0.06
        else InsuranceType.URBAN_EMPLOYEE
        if roll < 0.30
        else InsuranceType.URBAN_RURAL_RESIDENT
    )
    insured_here = insurance is not InsuranceType.SELF_PAY and rng.random() > 0.04
    return insurance, insured_here


def _visit_out_of_county(
    rng: random.Random, at: float, visit_id: str, patient: Patient, insurance: InsuranceType
) -> VisitAct:
    """A county patient seen at a tertiary hospital outside the county: the county's fund
    still pays, so finance hears of it."""
    return VisitAct(
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


def _visit_in_county(
    clock: SimClock,
    rng: random.Random,
    at: float,
    visit_id: str,
    patient: Patient,
    facility: Facility,
    insurance: InsuranceType,
    insured_here: bool,
) -> VisitAct:
    """A visit at one of the county's facilities: hospitals take the night's emergencies
    and the few admissions; a department's diagnoses follow its specialty."""
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
        rng.choice(DIAGNOSES.get(department.specialty, PRIMARY_DIAGNOSES))
        if department
        else rng.choice(PRIMARY_DIAGNOSES)
    )
    total, eligible = _amounts(rng, facility.tier, kind)
    return VisitAct(
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
    total = money(rng, low, high)
    eligible = (total * Decimal(str(rng.uniform(0.65, 0.95)))).quantize(CENT)
    return total, eligible


def _prescription(
    county: County,
    rng: random.Random,
    knobs: Knobs,
    facility: Facility,
    visit: VisitAct,
    when: tuple[float, SimClock],
) -> PrescriptionAct | None:
    at, clock = when
    category = _category(rng, knobs, facility)
    choices = county.drugs_for(facility, category)
    if not choices and category is PrescriptionCategory.TCM_HERBAL:
        category = PrescriptionCategory.TCM_PATENT  # village clinics hold no decoction pieces
        choices = county.drugs_for(facility, category)
    if not choices:
        return None
    picked = _drugs(county, rng, knobs, category, choices)
    lines = tuple(
        (d.drug_code, 1 if d.unit_price > 100 else rng.choice((1, 1, 2, 2, 3)), d.unit_price)
        for d in picked
    )
    doctors = county.doctors_at(facility.facility_id, visit.department_id)
    prescriber = rng.choice(doctors).staff_id if doctors else None
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
        prescriber_id=prescriber,
        # A .v2 prescription (a prescriber the registry knows) says what the HIS knows of
        # the patient: the age band on the day it is issued, and the pregnancy status.
        age_band=visit.patient.age_band_on(clock.real(at).date()) if prescriber else None,
        pregnant=visit.patient.pregnant if prescriber else None,
        shared_pharmacy_doses=(
            _shared_pharmacy_doses(county, rng, knobs, facility, picked)
            if prescriber and category is PrescriptionCategory.TCM_HERBAL
            else None
        ),
    )


def _shared_pharmacy_doses(
    county: County, rng: random.Random, knobs: Knobs, facility: Facility, picked: list[Drug]
) -> int | None:
    """Doses when this herbal prescription goes to the shared TCM pharmacy (a share of those
    it may prepare, ``County.may_share``); else ``None``."""
    if not county.may_share(facility, picked) or rng.random() >= knobs.shared_pharmacy_share:
        return None
    return rng.randint(3, 14)


def _category(rng: random.Random, knobs: Knobs, facility: Facility) -> PrescriptionCategory:
    tcm_share = (
        knobs.tcm_share_at_tcm_hospital
        if facility.facility_type is FacilityType.TCM_HOSPITAL
        else knobs.tcm_share_elsewhere
    )
    if rng.random() >= tcm_share:
        return PrescriptionCategory.WESTERN
    if rng.random() < knobs.herbal_share_of_tcm:
        return PrescriptionCategory.TCM_HERBAL
    return PrescriptionCategory.TCM_PATENT


def _drugs(
    county: County,
    rng: random.Random,
    knobs: Knobs,
    category: PrescriptionCategory,
    choices: list[Drug],
) -> list[Drug]:
    """1-4 drugs by popularity; a western prescription has an antibiotic with the knobs'
    share, and then only that one (the others are drawn from the rest)."""
    picked: list[Drug] = []
    if category is PrescriptionCategory.WESTERN:
        antibiotics = [d for d in choices if d.drug_code in county.antibiotic_grades]
        choices = [d for d in choices if d.drug_code not in county.antibiotic_grades]
        if antibiotics and (not choices or rng.random() < knobs.antibiotic_share):
            picked.append(_antibiotic(county, rng, knobs, antibiotics))
    drawn = rng.choices((1, 2, 3, 4), weights=(45, 35, 15, 5))[0]
    n_lines = min(len(choices) + len(picked), drawn)
    weights = zipf(len(choices))
    while len(picked) < n_lines:
        drug = rng.choices(choices, weights=weights)[0]
        if drug not in picked:
            picked.append(drug)
    return picked


def _antibiotic(county: County, rng: random.Random, knobs: Knobs, antibiotics: list[Drug]) -> Drug:
    """An antibiotic the facility holds; with the knobs' share a restricted or special-use
    one (above a primary-care facility's grade: the review holds it), if it holds any."""
    graded = [d for d in antibiotics if county.antibiotic_grades[d.drug_code] != "non_restricted"]
    basic = [d for d in antibiotics if d not in graded]
    if graded and (not basic or rng.random() < knobs.restricted_share_of_antibiotics):
        return rng.choice(graded)
    return rng.choice(basic)
