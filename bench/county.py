"""The benchmark's county: the seed county copied ``counties`` times, stocked deep, and a
stream of three-line prescriptions spread over its facilities.

The first copy keeps the seed ids (``QS-…``) so the seed staff list still fits; copy ``n``
is renamed ``Bnnn-…``. Every facility holds a large lot of each benchmark drug, so no
prescription is short and every one reaches stock, ledger and indicators.

Every prescription is one the county's review rules release without a pharmacist
(``infra/quality/review-rules.yaml``): where the county reviews before dispensing (township
and community centres, village clinics), pharmacy holds a prescription until quality
releases it, and a held one would wait for a pharmacist the benchmark does not have, so it
would never reach stock and the measurement would wait for ever. :func:`combinations` lists
what the generator can issue; ``bench/review_check.py`` puts each through quality's own rule
pass at start-up and stops the run if one would be held or rejected.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from libs.events import encode, new_event
from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionLine
from libs.events.catalogue.values import FacilityTier, FacilityType, PrescriptionCategory
from libs.events.pseudonym import pseudonymise

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED_COUNTY = REPO_ROOT / "infra" / "county" / "seed-county.yaml"

#: Drugs every kind of facility may hold (formulary ``holders: all``), with unified prices.
#: Chosen so that the review rules (infra/quality/review-rules.yaml) release any prescription
#: the generator makes of them, with the prescriber unknown (the benchmark loads no staff)
#: and no days of supply: no two share a therapeutic class (amlodipine, aspirin and
#: amoxicillin are the only ones the rules list, each of its own class), no pair of them is an
#: interacting pair (aspirin's are with warfarin and ibuprofen, neither here), up to
#: ``MAX_QUANTITY`` packs stays within every listed drug's ``max_packs_without_days``
#: (amoxicillin 5, amlodipine 3, aspirin 3), and the one antibiotic, amoxicillin, is
#: non-restricted: any prescriber and any facility type may use it. Metformin, atorvastatin,
#: paracetamol and the two patent medicines meet no rule. Adding a drug here, or raising
#: ``MAX_QUANTITY``, must keep that true: ``bench/review_check.py`` checks it at start-up.
DRUGS: dict[str, Decimal] = {
    "QSY-W001": Decimal("6.8000"),
    "QSY-W007": Decimal("3.9000"),
    "QSY-W011": Decimal("4.2000"),
    "QSY-W017": Decimal("8.9000"),
    "QSY-W018": Decimal("4.5000"),
    "QSY-W024": Decimal("2.2000"),
    "QSY-Z002": Decimal("14.8000"),
    "QSY-Z004": Decimal("16.5000"),
}
TCM_DRUGS = {"QSY-Z002", "QSY-Z004"}
LINES_PER_PRESCRIPTION = 3
#: Packs per line, drawn uniformly from 1 to this (the review's dose limits without days of
#: supply are 3 packs for amlodipine and aspirin).
MAX_QUANTITY = 3


@dataclass(frozen=True)
class Facility:
    facility_id: str
    tier: FacilityTier
    #: From the county file; decides whether the county reviews its prescriptions before
    #: pharmacy dispenses them (``review_before_dispensing``).
    facility_type: FacilityType | None = None


@dataclass(frozen=True)
class BenchCounty:
    config: Path  # ADMINISTRATION_COUNTY_CONFIG
    opening_stock: Path  # PHARMACY_OPENING_STOCK
    facilities: list[Facility]

    @property
    def lots(self) -> int:
        return len(self.facilities) * len(DRUGS)


def _renamed(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(f"{old}-", f"{new}-")
    if isinstance(value, list):
        return [_renamed(item, old, new) for item in value]
    if isinstance(value, dict):
        return {key: _renamed(item, old, new) for key, item in value.items()}
    return value


def write_county(counties: int, directory: Path) -> BenchCounty:
    """The county configuration and opening stock for ``counties`` copies of the seed."""
    seed = yaml.safe_load(SEED_COUNTY.read_text())
    code = seed["county"]["code"]
    communities: list[dict[str, Any]] = []
    facilities: list[dict[str, Any]] = []
    for n in range(counties):
        copy = seed if n == 0 else _renamed(seed, code, f"B{n:03d}")
        communities += copy["communities"]
        facilities += copy["facilities"]
    config = {"county": seed["county"], "communities": communities, "facilities": facilities}
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "county.yaml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    lots = [
        {
            "facility_id": facility["facility_id"],
            "drug_code": drug,
            "lot_number": f"BENCH-{drug[-4:]}",
            "expires_in_days": 720,
            "quantity": 1_000_000,
            "unit_cost": str((price * Decimal("0.85")).quantize(Decimal("0.0001"))),
        }
        for facility in facilities
        for drug, price in DRUGS.items()
    ]
    stock_path = directory / "opening-stock.yaml"
    stock_path.write_text(yaml.safe_dump({"lots": lots}, sort_keys=False))
    return BenchCounty(
        config_path,
        stock_path,
        [
            Facility(f["facility_id"], FacilityTier(f["tier"]), FacilityType(f["facility_type"]))
            for f in facilities
        ],
    )


def combinations() -> list[tuple[PrescriptionCategory, tuple[str, ...]]]:
    """Every (category, drugs) a :class:`Prescriptions` can issue, each set of drugs in one
    of its orders (the review's outcome does not depend on the lines' order: its rules look
    at single lines and at pairs); each line takes 1 to ``MAX_QUANTITY`` packs."""
    western = sorted(set(DRUGS) - TCM_DRUGS)
    tcm = [(PrescriptionCategory.TCM_PATENT, (*sorted(TCM_DRUGS), code)) for code in western]
    return [
        *(
            (PrescriptionCategory.WESTERN, c)
            for c in itertools.combinations(western, LINES_PER_PRESCRIPTION)
        ),
        *tcm,
    ]


class Prescriptions:
    """Encoded ``ingestion.prescription.issued.v1`` records, seeded: three lines each,
    one in three a TCM prescription, facilities drawn uniformly; each one of
    :func:`combinations`, so the county's review rules release it (the module's docstring)."""

    def __init__(self, county: BenchCounty, secret: bytes, seed: int = 7) -> None:
        self._facilities = county.facilities
        self._random = random.Random(seed)
        self._patients = [pseudonymise(f"11010119800101{n:04d}", secret) for n in range(500)]
        self._western = sorted(set(DRUGS) - TCM_DRUGS)
        self._types = {f.facility_id: f.facility_type for f in county.facilities}

    def facility_type(self, facility_id: str) -> FacilityType | None:
        return self._types.get(facility_id)

    def next(self, issued_at: datetime) -> tuple[str, bytes, bytes]:
        """(prescription id, key, value) of one prescription issued at ``issued_at``. The
        draws are those of the earlier benchmark runs (a seed gives the same prescriptions as
        before the review was measured), so the figures stay comparable."""
        rng = self._random
        facility = rng.choice(self._facilities)
        tcm = rng.random() < 1 / 3
        if tcm:  # two Chinese patent medicines and a western drug
            drugs = [*sorted(TCM_DRUGS), rng.choice(self._western)]
        else:
            drugs = rng.sample(self._western, LINES_PER_PRESCRIPTION)
        lines = [
            PrescriptionLine(line_no=i + 1, drug_code=code, quantity=rng.randint(1, MAX_QUANTITY))
            for i, code in enumerate(drugs)
        ]
        prescription_id = f"RX-{uuid.UUID(int=rng.getrandbits(128)).hex[:20]}"
        data = PrescriptionIssued(
            prescription_id=prescription_id,
            facility_id=facility.facility_id,
            facility_tier=facility.tier,
            patient_pseudonym=rng.choice(self._patients),
            category=PrescriptionCategory.TCM_PATENT if tcm else PrescriptionCategory.WESTERN,
            lines=lines,
            total_amount=sum((DRUGS[line.drug_code] * line.quantity for line in lines), Decimal(0)),
            issued_at=issued_at,
        )
        event = new_event(data, source=f"/his/{facility.facility_id}")
        return prescription_id, facility.facility_id.encode(), encode(event)

    def batch(self, count: int, issued_at: datetime) -> Iterator[tuple[str, bytes, bytes]]:
        for _ in range(count):
            yield self.next(issued_at)
