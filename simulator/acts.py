"""The plan's vocabulary: the model's knobs and every kind of act a plan holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from libs.events.catalogue.values import (
    FacilityTier,
    InsuranceType,
    PrescriptionCategory,
    VisitType,
)
from simulator.clock import SimClock

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
