"""The county the simulator plays: organisation, formulary and staff.

The default county is the seed county the services already load (``infra/county``,
``infra/pharmacy/formulary.yaml``, ``infra/staffing/seed-staff.yaml``, and of
``infra/quality/`` the antibiotic grades and the recognised tests): the simulator reads
those files rather than repeating them, and widens the seed formulary (51 items) with
generated entries to the size asked for (about 200 by default), which it lists through the
pharmacy's admin API before the day starts. Pure: reading files is the only thing done here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from libs.events.catalogue.values import (
    FacilityTier,
    FacilityType,
    PrescriptionCategory,
    TestKind,
)

__all__ = [
    "HOSPITAL_TYPES",
    "PRIMARY_TYPES",
    "County",
    "Department",
    "Drug",
    "Facility",
    "Staff",
    "load_county",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
PRIMARY_TYPES = frozenset(
    {FacilityType.TOWNSHIP_CENTRE, FacilityType.COMMUNITY_CENTRE, FacilityType.VILLAGE_CLINIC}
)
HOSPITAL_TYPES = frozenset({FacilityType.COUNTY_HOSPITAL, FacilityType.TCM_HOSPITAL})
SPECIALIST_TITLES = frozenset({"chief", "associate_chief", "attending"})


@dataclass(frozen=True)
class Department:
    department_id: str
    name: str
    specialty: str


@dataclass(frozen=True)
class Facility:
    facility_id: str
    name: str
    community_id: str
    tier: FacilityTier
    facility_type: FacilityType
    parent_facility_id: str | None = None
    departments: tuple[Department, ...] = ()

    @property
    def is_primary(self) -> bool:
        return self.facility_type in PRIMARY_TYPES


@dataclass(frozen=True)
class Drug:
    """A catalogue item. ``seeded`` items are listed by the pharmacy service itself."""

    drug_code: str
    name: str
    dosage_form: str
    strength: str
    pack_size: int
    unit: str
    unit_price: Decimal
    essential: bool
    tcm: bool
    category: str  # drug, consumable, device
    allowed_tiers: tuple[FacilityTier, ...]
    allowed_facility_types: tuple[FacilityType, ...]
    seeded: bool
    generic_name: str | None = None

    @property
    def prescription_category(self) -> PrescriptionCategory | None:
        """Which kind of prescription it is written on (None: consumables, not prescribed)."""
        if self.category != "drug":
            return None
        if not self.tcm:
            return PrescriptionCategory.WESTERN
        return (
            PrescriptionCategory.TCM_HERBAL
            if self.dosage_form == "饮片"
            else PrescriptionCategory.TCM_PATENT
        )

    def allowed_at(self, facility: Facility) -> bool:
        return (
            facility.tier in self.allowed_tiers
            and facility.facility_type in self.allowed_facility_types
        )

    def listing(self) -> dict[str, Any]:
        """The body of ``POST /formulary/drugs``."""
        return {
            "drug_code": self.drug_code,
            "name": self.name,
            "generic_name": self.generic_name,
            "dosage_form": self.dosage_form,
            "strength": self.strength,
            "pack_size": self.pack_size,
            "unit": self.unit,
            "unit_price": f"{self.unit_price:.4f}",
            "essential": self.essential,
            "tcm": self.tcm,
            "category": self.category,
            "allowed_tiers": [t.value for t in self.allowed_tiers],
            "allowed_facility_types": [t.value for t in self.allowed_facility_types],
        }


@dataclass(frozen=True)
class Staff:
    staff_id: str
    display_name: str
    home_facility_id: str
    title: str
    specialty: str
    department_id: str | None

    @property
    def is_specialist(self) -> bool:
        return self.title in SPECIALIST_TITLES and self.staff_id.startswith("S-H")


@dataclass(frozen=True)
class County:
    code: str
    name: str
    lead_of: dict[str, str]  # community -> lead facility (its central pharmacy)
    facilities: tuple[Facility, ...]
    drugs: tuple[Drug, ...]  # in order of popularity within each prescription category
    staff: tuple[Staff, ...]
    by_id: dict[str, Facility] = field(default_factory=dict)
    #: drug code → antibiotic grade (non_restricted, restricted, special), as the review
    #: centre grades them: the formulary's antibiotics.
    antibiotic_grades: dict[str, str] = field(default_factory=dict)
    #: The tests the members recognise from one another: (item code, kind).
    tests: tuple[tuple[str, TestKind], ...] = ()
    #: The shared TCM pharmacy's facility and the members that may send to it.
    shared_pharmacy: str | None = None
    shared_pharmacy_senders: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.by_id.update({f.facility_id: f for f in self.facilities})

    def facility(self, facility_id: str) -> Facility:
        return self.by_id[facility_id]

    @property
    def primary(self) -> list[Facility]:
        return [f for f in self.facilities if f.is_primary]

    @property
    def hospitals(self) -> list[Facility]:
        return [f for f in self.facilities if f.facility_type in HOSPITAL_TYPES]

    def may_share(self, facility: Facility, herbs: list[Drug]) -> bool:
        """Whether the facility may send these herbs to the shared TCM pharmacy: one of its
        senders, and the shared pharmacy may hold every herb (its stock is what the patient
        gets, not the clinic's)."""
        shared = self.shared_pharmacy
        return (
            shared is not None
            and facility.facility_id in self.shared_pharmacy_senders
            and all(d.allowed_at(self.facility(shared)) for d in herbs)
        )

    def central_pharmacy(self, facility_id: str) -> str:
        return self.lead_of[self.facility(facility_id).community_id]

    def drugs_for(
        self, facility: Facility, category: PrescriptionCategory | None = None
    ) -> list[Drug]:
        """Items the facility may hold (of one prescription category), by popularity."""
        return [
            d
            for d in self.drugs
            if d.allowed_at(facility) and (category is None or d.prescription_category == category)
        ]

    @property
    def specialists(self) -> list[Staff]:
        return [s for s in self.staff if s.is_specialist]

    def doctors_at(self, facility_id: str, department_id: str | None = None) -> list[Staff]:
        """The registry's doctors of a facility (of the department, when it has some)."""
        home = [s for s in self.staff if s.home_facility_id == facility_id]
        of_department = [s for s in home if department_id and s.department_id == department_id]
        return of_department or home


def _yaml(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def _facilities(doc: dict[str, Any]) -> tuple[Facility, ...]:
    return tuple(
        Facility(
            facility_id=f["facility_id"],
            name=f["name"],
            community_id=f["community_id"],
            tier=FacilityTier(f["tier"]),
            facility_type=FacilityType(f["facility_type"]),
            parent_facility_id=f.get("parent_facility_id"),
            departments=tuple(
                Department(d["department_id"], d["name"], d.get("specialty") or "")
                for d in f.get("departments") or ()
            ),
        )
        for f in doc["facilities"]
    )


def _seed_drugs(doc: dict[str, Any]) -> list[Drug]:
    holders = {k: tuple(FacilityType(t) for t in v) for k, v in doc["holders"].items()}
    default_tiers = tuple(FacilityTier(t) for t in doc.get("default_allowed_tiers", []))
    drugs = []
    for d in doc["drugs"]:
        drugs.append(
            Drug(
                drug_code=d["drug_code"],
                name=d["name"],
                generic_name=d.get("generic_name"),
                dosage_form=d["dosage_form"],
                strength=str(d["strength"]),
                pack_size=int(d["pack_size"]),
                unit=d["unit"],
                unit_price=Decimal(d["unit_price"]),
                essential=bool(d["essential"]),
                tcm=bool(d["tcm"]),
                category=d.get("category", "drug"),
                allowed_tiers=tuple(FacilityTier(t) for t in d["allowed_tiers"])
                if "allowed_tiers" in d
                else default_tiers,
                allowed_facility_types=holders[d.get("holders", "all")],
                seeded=True,
            )
        )
    return drugs


def load_county(formulary_size: int = 200, repo_root: Path = REPO_ROOT) -> County:
    """The seed county, with the seed formulary widened to ``formulary_size`` items."""
    county_doc = _yaml(repo_root / "infra" / "county" / "seed-county.yaml")
    seed = _seed_drugs(_yaml(repo_root / "infra" / "pharmacy" / "formulary.yaml"))
    from simulator.formulary import generated_drugs  # it builds on Drug, defined above

    drugs = seed + generated_drugs(formulary_size - len(seed))
    rules = _yaml(repo_root / "infra" / "quality" / "review-rules.yaml")
    recognised = _yaml(repo_root / "infra" / "quality" / "recognition.yaml")
    shared = _yaml(repo_root / "infra" / "quality" / "shared-pharmacy.yaml")
    staff_doc = _yaml(repo_root / "infra" / "staffing" / "seed-staff.yaml")
    staff = tuple(
        Staff(
            staff_id=s["staff_id"],
            display_name=s["display_name"],
            home_facility_id=s["home_facility_id"],
            title=s["title"],
            specialty=s["specialty"],
            department_id=s.get("department_id"),
        )
        for s in staff_doc["staff"]
    )
    return County(
        code=county_doc["county"]["code"],
        name=county_doc["county"]["name"],
        lead_of={c["community_id"]: c["lead_facility_id"] for c in county_doc["communities"]},
        facilities=_facilities(county_doc),
        drugs=tuple(drugs),
        staff=staff,
        antibiotic_grades={
            str(code): str(rule["antibiotic_grade"])
            for code, rule in (rules.get("drugs") or {}).items()
            if rule.get("antibiotic_grade")
        },
        tests=tuple(
            (str(code), TestKind(item["kind"])) for code, item in recognised["items"].items()
        ),
        shared_pharmacy=str(shared["pharmacy_facility_id"]),
        shared_pharmacy_senders=frozenset(str(f) for f in shared.get("senders") or ()),
    )
