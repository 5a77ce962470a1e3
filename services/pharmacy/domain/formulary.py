"""The unified formulary (统一药品目录): what a drug is, and where it may be held.

Pure domain: the catalogue entry as the pharmacy centre defines it, the rule that decides
whether a facility may hold and dispense it, and the reading of the seed formulary file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from libs.events.catalogue.pharmacy import DrugSnapshot, RejectionReason
from libs.events.catalogue.values import FacilityTier, FacilityType

__all__ = [
    "Drug",
    "Refusal",
    "fingerprint",
    "parse_formulary",
    "refusal_for",
]


@dataclass(frozen=True)
class Drug:
    """A catalogue entry; ``listed`` is false once it was delisted."""

    snapshot: DrugSnapshot
    listed: bool = True

    @property
    def code(self) -> str:
        return self.snapshot.drug_code

    @property
    def unit_price(self) -> Decimal:
        return self.snapshot.unit_price

    def may_be_held_at(self, tier: FacilityTier, facility_type: FacilityType) -> bool:
        """Both the facility's tier and its type must be allowed."""
        snapshot = self.snapshot
        return tier in snapshot.allowed_tiers and facility_type in snapshot.allowed_facility_types


@dataclass(frozen=True)
class Refusal:
    """Why a facility may not receive or dispense a drug."""

    reason: RejectionReason
    detail: str


def refusal_for(drug: Drug, tier: FacilityTier, facility_type: FacilityType) -> Refusal | None:
    """``None`` when ``drug`` may be held and dispensed at such a facility."""
    if not drug.listed:
        return Refusal(RejectionReason.DELISTED, f"{drug.code} was delisted from the formulary")
    if tier not in drug.snapshot.allowed_tiers:
        allowed = ", ".join(t.value for t in drug.snapshot.allowed_tiers)
        return Refusal(
            RejectionReason.TIER_NOT_ALLOWED,
            f"{drug.code} is not allowed at {tier.value} facilities (allowed: {allowed})",
        )
    if facility_type not in drug.snapshot.allowed_facility_types:
        allowed = ", ".join(t.value for t in drug.snapshot.allowed_facility_types)
        return Refusal(
            RejectionReason.TIER_NOT_ALLOWED,
            f"{drug.code} is not allowed at a {facility_type.value} (allowed: {allowed})",
        )
    return None


def fingerprint(snapshot: DrugSnapshot) -> str:
    """A stable digest of a catalogue entry, to tell whether the seed file changed it."""
    canonical = json.dumps(snapshot.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_formulary(doc: dict[str, Any]) -> list[DrugSnapshot]:
    """Validate a formulary seed document (``infra/pharmacy/formulary.yaml``).

    Entries name who may hold them by a ``holders`` key into the document's ``holders``
    table (sets of facility types) and may override ``allowed_tiers`` (default: every tier).
    """
    holder_sets: dict[str, list[str]] = doc.get("holders", {})
    default_tiers = doc.get("default_allowed_tiers", [t.value for t in FacilityTier])
    drugs: list[DrugSnapshot] = []
    for item in doc.get("drugs", []):
        fields = dict(item)
        holders = fields.pop("holders", None)
        if holders is not None:
            if holders not in holder_sets:
                raise ValueError(f"{fields.get('drug_code')}: unknown holders set {holders!r}")
            fields["allowed_facility_types"] = holder_sets[holders]
        fields.setdefault("allowed_tiers", default_tiers)
        fields["unit_price"] = Decimal(str(fields["unit_price"]))
        drugs.append(DrugSnapshot(**fields))
    codes = [d.drug_code for d in drugs]
    if len(codes) != len(set(codes)):
        raise ValueError("a drug code appears twice in the formulary")
    return drugs
