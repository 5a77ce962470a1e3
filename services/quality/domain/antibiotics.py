"""Antibiotic grading (抗菌药物分级管理) applied to a prescription.

Three separate questions, each its own finding so the review centre's reports can tell
them apart: may this prescriber prescribe the grade (privilege follows title), may this
facility hold it (primary care holds non-restricted only), and is a special-use antibiotic
being prescribed in outpatient care (it is not: 特殊使用级抗菌药物不得在门诊使用).

The prescriber's privilege is the title's by default. A hospital may grant an individual
doctor less (or, after training and an exam, the grade itself); that per-doctor grant is
not in the staff registry yet, so the title stands in for it.
"""

from __future__ import annotations

from libs.events.catalogue.values import FacilityType, StaffTitle
from services.quality.domain.checks import lines_in_order
from services.quality.domain.grading import AntibioticGrade, exceeds
from services.quality.domain.prescription import (
    Finding,
    LineUnderReview,
    PrescriptionUnderReview,
)
from services.quality.domain.rules_config import DrugRule, ReviewRules

__all__ = ["antibiotic_findings"]

_TITLES = {
    StaffTitle.RESIDENT: "a resident (住院医师)",
    StaffTitle.ATTENDING: "an attending (主治医师)",
    StaffTitle.ASSOCIATE_CHIEF: "an associate chief (副主任医师)",
    StaffTitle.CHIEF: "a chief (主任医师)",
}
_FACILITIES = {
    FacilityType.COUNTY_HOSPITAL: "a county hospital (县人民医院)",
    FacilityType.TCM_HOSPITAL: "a TCM hospital (县中医院)",
    FacilityType.TOWNSHIP_CENTRE: "a township centre (乡镇卫生院)",
    FacilityType.COMMUNITY_CENTRE: "a community centre (社区卫生服务中心)",
    FacilityType.VILLAGE_CLINIC: "a village clinic (村卫生室)",
}


def antibiotic_findings(prescription: PrescriptionUnderReview, rules: ReviewRules) -> list[Finding]:
    found: list[Finding] = []
    for line in lines_in_order(prescription):
        drug = rules.drug(line.drug_code)
        if drug is None or drug.antibiotic_grade is None:
            continue
        grade = drug.antibiotic_grade
        checks = (
            _privilege(prescription, line, drug, grade, rules),
            _facility_grade(prescription, line, drug, grade, rules),
            _special_outpatient(prescription, line, drug, grade, rules),
        )
        found.extend(f for f in checks if f is not None)
    return found


def _privilege(
    prescription: PrescriptionUnderReview,
    line: LineUnderReview,
    drug: DrugRule,
    grade: AntibioticGrade,
    rules: ReviewRules,
) -> Finding | None:
    title = prescription.prescriber_title
    allowed = rules.antibiotics.privilege(title)
    if not exceeds(grade, allowed):
        return None
    who = (
        "the prescriber is unknown to the staff registry and"
        if title is None
        else f"{_TITLES[title]}"
    )
    message = (
        f"{drug.name} is {grade.label}; {who} may prescribe up to {allowed.label} (抗菌药物处方权)"
    )
    severity = rules.severities.antibiotic_privilege
    return Finding("antibiotic_privilege", severity, line.line_no, message)


def _facility_grade(
    prescription: PrescriptionUnderReview,
    line: LineUnderReview,
    drug: DrugRule,
    grade: AntibioticGrade,
    rules: ReviewRules,
) -> Finding | None:
    facility_type = prescription.facility_type
    allowed = rules.antibiotics.facility_allowance(facility_type)
    if not exceeds(grade, allowed):
        return None
    where = (
        "the facility's type is unknown to the registry and it"
        if facility_type is None
        else _FACILITIES[facility_type]
    )
    message = f"{drug.name} is {grade.label}; {where} may hold up to {allowed.label} (分级管理)"
    severity = rules.severities.antibiotic_facility_grade
    return Finding("antibiotic_facility_grade", severity, line.line_no, message)


def _special_outpatient(
    prescription: PrescriptionUnderReview,
    line: LineUnderReview,
    drug: DrugRule,
    grade: AntibioticGrade,
    rules: ReviewRules,
) -> Finding | None:
    if grade is not AntibioticGrade.SPECIAL or not prescription.outpatient:
        return None
    message = (
        f"{drug.name} is {grade.label} and is not prescribed in outpatient care "
        "(特殊使用级抗菌药物不得在门诊使用)"
    )
    severity = rules.severities.antibiotic_special_outpatient
    return Finding("antibiotic_special_outpatient", severity, line.line_no, message)
