"""Age and pregnancy contraindications (禁忌症): a drug a patient of this age band, or a
pregnant patient, must not be given without a pharmacist's look.

The HIS sends the patient's age as a band (``ingestion.prescription.issued.v2``), never the
birth date, so an age rule (``age_below: 18``) can only be decided when the band lies
wholly on one side of the bound: the rules file may name only the bands' edges (1, 12, 18,
65 years; ``rules_config`` refuses any other), and then a band is either wholly below the
bound (the finding) or wholly at or above it (none).

What the prescription does not say is skipped, not held: a ``.v1`` prescription carries
neither age nor pregnancy, a ``.v2`` one may carry ``None`` (the HIS does not know), and
holding every such prescription for want of them would stop the review centre.
"""

from __future__ import annotations

from libs.events.catalogue.values import AgeBand
from services.quality.domain.prescription import (
    Finding,
    LineUnderReview,
    PrescriptionUnderReview,
)
from services.quality.domain.rules_config import Contraindication, DrugRule, ReviewRules

__all__ = ["contraindication_findings", "wholly_below"]


def contraindication_findings(
    prescription: PrescriptionUnderReview, rules: ReviewRules
) -> list[Finding]:
    """Every line's age and pregnancy contraindications the prescription's patient meets,
    in line order (a drug may meet both)."""
    found = []
    for line in sorted(prescription.lines, key=lambda ln: ln.line_no):
        drug = rules.drug(line.drug_code)
        if drug is None:
            continue
        for condition in drug.contraindicated:
            finding = _contraindicated(prescription, line, drug, condition)
            if finding is not None:
                found.append(finding)
    return found


def wholly_below(band: AgeBand, years: int) -> bool:
    """Whether every patient of ``band`` is younger than ``years``: the band ends at or
    below the bound (a child, 1 to 11, is wholly below 12 and 18; not below 1)."""
    return band.below_years <= years


def _contraindicated(
    prescription: PrescriptionUnderReview,
    line: LineUnderReview,
    drug: DrugRule,
    condition: Contraindication,
) -> Finding | None:
    note = f"; {condition.note}" if condition.note else ""
    if condition.pregnancy and prescription.pregnant is True:
        message = f"{drug.name} is contraindicated in pregnancy (妊娠禁忌){note}"
        return Finding("pregnancy", condition.severity, line.line_no, message)
    band, bound = prescription.patient_age_band, condition.age_below
    if bound is not None and band is not None and wholly_below(band, bound):
        message = (
            f"{drug.name} is contraindicated under {bound} years of age; the patient is "
            f"{band.value}, under {band.below_years} (年龄禁忌){note}"
        )
        return Finding("age", condition.severity, line.line_no, message)
    return None
