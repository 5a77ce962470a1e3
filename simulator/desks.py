"""The people at the desks in the plan: referral desks, experts and HR (pure, seeded)."""

from __future__ import annotations

import random

from libs.events.catalogue.values import (
    FacilityType,
    PrescriptionCategory,
)
from simulator.acts import (
    Knobs,
    Patient,
    PlannedSession,
    ReferralAct,
    Rotation,
    SessionAct,
    Stationing,
)
from simulator.clock import SimClock
from simulator.county import County, Facility, Staff
from simulator.sampling import DIAGNOSES, PRIMARY_DIAGNOSES, busy_days, count, instants


def referrals(
    county: County,
    clock: SimClock,
    rng: random.Random,
    knobs: Knobs,
    scale: float,
    patients: list[Patient],
    run_id: str,
) -> list[ReferralAct]:
    n = count(rng, knobs.referrals_per_day * scale * busy_days(clock), minimum=4)
    acts: list[ReferralAct] = []
    minutes = 60.0
    times = instants(rng, clock, n)
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
    diagnosis = rng.choice(DIAGNOSES.get(department.specialty, PRIMARY_DIAGNOSES))
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
        "diagnosis_codes": [rng.choice(DIAGNOSES.get(department.specialty, PRIMARY_DIAGNOSES))],
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


def sessions(
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
    n = count(rng, knobs.sessions_per_day * min(1.0, max(scale, 0.15)), minimum=2)
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


def rotations_and_stationings(
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
