"""The review centre's rule pass (审方规则): every rule on a prescription, one verdict.

Every rule runs and every finding is kept, whatever came before: a prescription rejected
for a special-use antibiotic in outpatient care also shows its interaction and its dose, so
the prescriber corrects everything in one go. The outcome is the most severe finding's:
any reject rejects (不予通过), else any hold goes to a pharmacist (人工审核), else warnings
are released with the prescription (通过并提示), else it is released.

The rules are pure: the county's rules (``infra/quality/review-rules.yaml``, parsed by
:func:`parse_rules`) and the prescription as the registries complete it are all they read.
"""

from __future__ import annotations

from collections.abc import Callable

from services.quality.domain.antibiotics import antibiotic_findings
from services.quality.domain.checks import (
    dose_findings,
    duplicate_findings,
    interaction_findings,
)
from services.quality.domain.contraindications import contraindication_findings
from services.quality.domain.grading import AntibioticGrade
from services.quality.domain.prescription import (
    Finding,
    LineUnderReview,
    PrescriptionUnderReview,
    ReviewOutcome,
    Verdict,
    outcome_of,
)
from services.quality.domain.rules_config import (
    AntibioticPolicy,
    Contraindication,
    DrugRule,
    Interaction,
    ReviewRules,
    Severities,
    parse_rules,
)

__all__ = [
    "AntibioticGrade",
    "AntibioticPolicy",
    "Contraindication",
    "DrugRule",
    "Finding",
    "Interaction",
    "LineUnderReview",
    "PrescriptionUnderReview",
    "ReviewOutcome",
    "ReviewRules",
    "Severities",
    "Verdict",
    "is_antibiotic",
    "outcome_of",
    "parse_rules",
    "review",
]

_RULES: tuple[Callable[[PrescriptionUnderReview, ReviewRules], list[Finding]], ...] = (
    dose_findings,
    duplicate_findings,
    interaction_findings,
    contraindication_findings,
    antibiotic_findings,
)


def review(prescription: PrescriptionUnderReview, rules: ReviewRules) -> Verdict:
    """Apply every rule; the outcome is the most severe finding's."""
    findings = tuple(finding for rule in _RULES for finding in rule(prescription, rules))
    return Verdict(outcome=outcome_of(findings), findings=findings)


def is_antibiotic(drug_code: str, rules: ReviewRules) -> bool:
    """Whether the rules grade the drug as an antibiotic (reports count such prescriptions:
    the antibiotic prescription rate is a national quality indicator)."""
    drug = rules.drug(drug_code)
    return drug is not None and drug.antibiotic_grade is not None
