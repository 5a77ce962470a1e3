"""The clinical rules: daily dose, duplicate therapy, interacting pairs (the age and
pregnancy contraindications are ``contraindications.py``).

Each check returns every finding it makes, one per reason and line, so the pharmacist who
takes a held prescription sees all that is wrong with it at once rather than one thing per
round trip to the prescriber. A drug the rules do not list meets none of these rules: the
rules file lists what the county has agreed to check, and an unlisted drug is not an error
of the prescription.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import combinations

from services.quality.domain.prescription import (
    Finding,
    LineUnderReview,
    PrescriptionUnderReview,
)
from services.quality.domain.rules_config import DrugRule, ReviewRules

__all__ = [
    "dose_findings",
    "duplicate_findings",
    "interaction_findings",
    "lines_in_order",
]


def lines_in_order(prescription: PrescriptionUnderReview) -> list[LineUnderReview]:
    return sorted(prescription.lines, key=lambda line: line.line_no)


def _name(code: str, rules: ReviewRules) -> str:
    drug = rules.drug(code)
    return code if drug is None else drug.name


def dose_findings(prescription: PrescriptionUnderReview, rules: ReviewRules) -> list[Finding]:
    """Daily dose limit (超剂量), as packs a day: the HIS sends packs and days of supply, so
    packs a day stands in for the daily dose. Without days of supply, the quantity is held
    to the drug's ``max_packs_without_days`` when the county set one."""
    found = []
    for line in lines_in_order(prescription):
        drug = rules.drug(line.drug_code)
        message = None if drug is None else _over_dose(line, drug)
        if message is not None:
            found.append(Finding("dose_limit", rules.severities.dose_limit, line.line_no, message))
    return found


def _over_dose(line: LineUnderReview, drug: DrugRule) -> str | None:
    if line.days_supply is not None:
        limit = drug.max_daily_packs
        if limit is None or line.quantity <= limit * line.days_supply:
            return None
        daily = (Decimal(line.quantity) / line.days_supply).quantize(Decimal("0.01"))
        return (
            f"{drug.name}: {line.quantity} packs over {line.days_supply} days is {daily} "
            f"packs a day, above the limit of {limit} (超剂量)"
        )
    most = drug.max_packs_without_days
    if most is None or line.quantity <= most:
        return None
    return (
        f"{drug.name}: {line.quantity} packs without days of supply, above the limit of "
        f"{most} packs (超剂量)"
    )


def duplicate_findings(prescription: PrescriptionUnderReview, rules: ReviewRules) -> list[Finding]:
    """Duplicate therapy (重复用药): the same drug on a second line, or a second drug of a
    therapeutic class already on the prescription. The finding is on the later line and
    names the earlier one."""
    found = []
    first_of_drug: dict[str, LineUnderReview] = {}
    first_of_class: dict[str, LineUnderReview] = {}
    for line in lines_in_order(prescription):
        earlier = first_of_drug.setdefault(line.drug_code, line)
        name = _name(line.drug_code, rules)
        if earlier is not line:
            message = f"{name} is also on line {earlier.line_no} (重复用药: same drug)"
            found.append(
                Finding("duplicate_drug", rules.severities.duplicate_drug, line.line_no, message)
            )
            continue
        drug = rules.drug(line.drug_code)
        if drug is None or drug.therapeutic_class is None:
            continue
        first = first_of_class.setdefault(drug.therapeutic_class, line)
        if first is not line:
            message = (
                f"{name} and {_name(first.drug_code, rules)} (line {first.line_no}) are both "
                f"{drug.therapeutic_class} (重复用药: same class)"
            )
            severity = rules.severities.duplicate_therapy
            found.append(Finding("duplicate_therapy", severity, line.line_no, message))
    return found


def interaction_findings(
    prescription: PrescriptionUnderReview, rules: ReviewRules
) -> list[Finding]:
    """Interacting pairs (相互作用), once per pair of drugs, on the later line of the two."""
    first_lines: dict[str, LineUnderReview] = {}
    for line in lines_in_order(prescription):
        first_lines.setdefault(line.drug_code, line)
    found = []
    for earlier, later in combinations(first_lines.values(), 2):
        pair = rules.interaction(earlier.drug_code, later.drug_code)
        if pair is None:
            continue
        note = f": {pair.note}" if pair.note else ""
        message = (
            f"{_name(earlier.drug_code, rules)} (line {earlier.line_no}) with "
            f"{_name(later.drug_code, rules)}{note} (相互作用)"
        )
        found.append(Finding("interaction", pair.severity, later.line_no, message))
    return found
