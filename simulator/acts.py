"""The plan's vocabulary: the model's knobs and every kind of act a plan holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from libs.events.catalogue.values import (
    AgeBand,
    FacilityTier,
    InsuranceType,
    PrescriptionCategory,
    TestKind,
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
    # Antibiotics (抗菌药物: the items infra/quality/review-rules.yaml grades): the share of
    # western prescriptions with one (national target for outpatients: at most 20 %), and of
    # those the share of restricted or special-use ones the facility holds — above a
    # township centre's grade, so the central review holds them.
    antibiotic_share: float = 0.18
    restricted_share_of_antibiotics: float = 0.25
    # The patients' age bands (infant, child, adolescent, adult, elderly: 65+ see a doctor
    # most), and for women of 15-49 the share whose HIS records the pregnancy status and the
    # share of those who are pregnant (the .v2 prescription's age and pregnancy rules).
    age_band_shares: tuple[float, float, float, float, float] = (0.02, 0.08, 0.05, 0.55, 0.30)
    pregnancy_recorded_share: float = 0.4
    pregnant_share: float = 0.15
    # What the review desk returns to the prescriber of what the rules held: holds for an
    # antibiotic grade (越级: the documented emergency never comes), and every other hold.
    antibiotic_hold_reject_share: float = 1.0
    other_hold_reject_share: float = 0.0
    # Tests (检查检验): the share of visits at centres and hospitals with a test ordered and
    # reported there, and the share of those ordered again at another member after the
    # next pharmacists' round (result mutual recognition, infra/quality/recognition.yaml).
    test_share: float = 0.15
    repeat_test_share: float = 0.3
    # The share of herbal prescriptions (中药饮片) the shared TCM pharmacy's senders
    # (infra/quality/shared-pharmacy.yaml) send there to be prepared, decocted and delivered
    # home (共享中药房), 3-14 doses each; only when the shared pharmacy holds every herb.
    shared_pharmacy_share: float = 0.4


def birth_date_of(national_id: str) -> date:
    """The birth date a resident identity number carries (GB 11643: digits 7-14)."""
    return date(int(national_id[6:10]), int(national_id[10:12]), int(national_id[12:14]))


@dataclass(frozen=True)
class Patient:
    national_id: str
    name: str
    pregnant: bool | None = None
    """What the patient's HIS records of pregnancy (``None``: nothing, as for most)."""

    @property
    def born(self) -> date:
        return birth_date_of(self.national_id)

    @property
    def female(self) -> bool:
        """The resident identity number's 17th digit is even for women."""
        return int(self.national_id[16]) % 2 == 0

    def age_band_on(self, day: date) -> AgeBand:
        """The age band on ``day``, as the gateway derives it from a birthDate."""
        born = self.born
        years = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        return next(b for b in AgeBand if b.from_years <= max(0, years) < b.below_years)


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
    # The prescriber (a doctor of the facility in the staff registry): a .v2 prescription
    # with the patient's age band and pregnancy; ``None`` (village clinics, whose doctors
    # the registry does not hold) a .v1.
    prescriber_id: str | None = None
    age_band: AgeBand | None = None
    pregnant: bool | None = None
    # Doses for the shared TCM pharmacy (a herbal .v2 it prepares, decocts and delivers).
    shared_pharmacy_doses: int | None = None

    @property
    def total(self) -> Decimal:
        return sum(((p * q).quantize(CENT, ROUND_HALF_UP) for _, q, p in self.lines), Decimal(0))


@dataclass(frozen=True)
class OrderAct:
    """A test ordered (``ingestion.order.placed.v1``): at the visit's member, or again at
    another member (``repeat``), where quality recognises the earlier result or says why not."""

    at_s: float
    order_id: str
    facility_id: str
    tier: FacilityTier
    patient: Patient
    test_kind: TestKind
    test_code: str
    visit_id: str | None = None
    orderer_id: str | None = None
    department_id: str | None = None
    repeat: bool = False


@dataclass(frozen=True)
class ResultAct:
    """The result of an order, reported by the member that did it
    (``ingestion.result.reported.v1``)."""

    at_s: float
    result_id: str
    order: OrderAct
    observation_count: int
    performed_at_s: float  # between the order and the report


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


Act = VisitAct | PrescriptionAct | OrderAct | ResultAct | ReferralAct | SessionAct | PharmacyRound


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
    knobs: Knobs = field(default_factory=Knobs)
