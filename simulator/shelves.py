"""What is on the shelves when the period starts (pure, seeded)."""

from __future__ import annotations

import math
import random
from collections import Counter
from decimal import Decimal

from simulator.acts import Act, Knobs, OpeningLot, PrescriptionAct, ReferralAct
from simulator.county import County, Drug


def opening_stock(
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
