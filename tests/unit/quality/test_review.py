"""The review centre's rules (审方规则): the seed county's file, and each rule on its own."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from libs.events.catalogue.quality import FindingSeverity
from libs.events.catalogue.values import AgeBand, FacilityType, PrescriptionCategory, StaffTitle
from services.quality.domain.review import (
    AntibioticGrade,
    Finding,
    LineUnderReview,
    PrescriptionUnderReview,
    ReviewOutcome,
    ReviewRules,
    Verdict,
    is_antibiotic,
    outcome_of,
    parse_rules,
    review,
)

RULES_FILE = Path(__file__).resolve().parents[3] / "infra" / "quality" / "review-rules.yaml"
DOCUMENT: dict[str, Any] = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
RULES = parse_rules(DOCUMENT)

AMOXICILLIN, LEVOFLOXACIN, MEROPENEM = "QSY-W001", "QSY-W003", "QSY-W005"
AMLODIPINE, NIFEDIPINE, ASPIRIN, CLOPIDOGREL = "QSY-W011", "QSY-W012", "QSY-W018", "QSY-W019"
WARFARIN, OMEPRAZOLE, IBUPROFEN = "QSY-W021", "QSY-W022", "QSY-W023"
DIAZEPAM, MORPHINE = "QSY-W029", "QSY-W030"

COUNTY = FacilityType.COUNTY_HOSPITAL
TOWNSHIP = FacilityType.TOWNSHIP_CENTRE


def line(line_no: int, drug_code: str, quantity: int = 1, days: int | None = 7) -> LineUnderReview:
    return LineUnderReview(line_no, drug_code, quantity, days)


def prescription(
    *lines: LineUnderReview,
    facility_type: FacilityType | None = COUNTY,
    title: StaffTitle | None = StaffTitle.ATTENDING,
    outpatient: bool = True,
    age: AgeBand | None = None,
    pregnant: bool | None = None,
) -> PrescriptionUnderReview:
    return PrescriptionUnderReview(
        prescription_id="RX-1",
        facility_id="QS-H01" if facility_type is COUNTY else "QS-T01",
        facility_type=facility_type,
        category=PrescriptionCategory.WESTERN,
        prescriber_id=None if title is None else "ST-1",
        prescriber_title=title,
        lines=lines,
        outpatient=outpatient,
        patient_age_band=age,
        pregnant=pregnant,
    )


def by_rule(verdict: Verdict) -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = {}
    for finding in verdict.findings:
        found.setdefault(finding.rule, []).append(finding)
    return found


# --- the seed file ---------------------------------------------------------------------------


def test_seed_rules_parse() -> None:
    assert RULES.review_sla_minutes == 30
    assert RULES.review_before_dispensing == {
        FacilityType.TOWNSHIP_CENTRE,
        FacilityType.COMMUNITY_CENTRE,
        FacilityType.VILLAGE_CLINIC,
    }
    meropenem = RULES.drug(MEROPENEM)
    assert meropenem is not None
    assert meropenem.antibiotic_grade is AntibioticGrade.SPECIAL
    assert RULES.antibiotics.privilege(StaffTitle.RESIDENT) is AntibioticGrade.NON_RESTRICTED
    assert RULES.antibiotics.privilege(None) is AntibioticGrade.NON_RESTRICTED
    assert RULES.antibiotics.facility_allowance(COUNTY) is AntibioticGrade.SPECIAL


def test_is_antibiotic() -> None:
    assert is_antibiotic(AMOXICILLIN, RULES)
    assert is_antibiotic(MEROPENEM, RULES)
    assert not is_antibiotic(AMLODIPINE, RULES)
    assert not is_antibiotic("QSY-Z001", RULES)  # not in the rules at all


def test_an_ordinary_prescription_is_released() -> None:
    verdict = review(
        prescription(line(1, AMOXICILLIN, 1, 7), line(2, IBUPROFEN, 1, 5), facility_type=TOWNSHIP),
        RULES,
    )
    assert verdict == Verdict(ReviewOutcome.RELEASED, ())


def test_drugs_the_rules_do_not_list_are_released() -> None:
    verdict = review(prescription(line(1, "QSY-Z002", 50, 1), line(2, "QSY-Z002", 1)), RULES)
    # only the same code twice: a rule about lines, not about the drug
    assert [f.rule for f in verdict.findings] == ["duplicate_drug"]


# --- antibiotic grading ----------------------------------------------------------------------


def test_township_resident_meropenem_outpatient_is_rejected_with_each_reason() -> None:
    verdict = review(
        prescription(
            line(1, AMOXICILLIN), line(2, MEROPENEM, 6, 1),
            facility_type=TOWNSHIP, title=StaffTitle.RESIDENT,
        ),
        RULES,
    )  # fmt: skip
    assert verdict.outcome is ReviewOutcome.REJECTED
    found = by_rule(verdict)
    assert {rule: [(f.severity, f.line_no) for f in fs] for rule, fs in found.items()} == {
        "antibiotic_privilege": [(FindingSeverity.HOLD, 2)],
        "antibiotic_facility_grade": [(FindingSeverity.HOLD, 2)],
        "antibiotic_special_outpatient": [(FindingSeverity.REJECT, 2)],
        "duplicate_therapy": [(FindingSeverity.WARNING, 2)],  # amoxicillin and meropenem
    }
    assert "meropenem" in found["antibiotic_privilege"][0].message
    assert "住院医师" in found["antibiotic_privilege"][0].message


def test_special_use_inpatient_by_a_chief_at_the_county_hospital_is_released() -> None:
    verdict = review(
        prescription(line(1, MEROPENEM, 6, 1), title=StaffTitle.CHIEF, outpatient=False), RULES
    )
    assert verdict.outcome is ReviewOutcome.RELEASED


def test_attending_levofloxacin_county_hospital_released_township_held() -> None:
    at_county = review(prescription(line(1, LEVOFLOXACIN, 2, 7)), RULES)
    assert at_county.outcome is ReviewOutcome.RELEASED
    at_township = review(prescription(line(1, LEVOFLOXACIN, 2, 7), facility_type=TOWNSHIP), RULES)
    assert at_township.outcome is ReviewOutcome.HELD
    assert [(f.rule, f.line_no) for f in at_township.findings] == [("antibiotic_facility_grade", 1)]


def test_resident_levofloxacin_held_for_privilege() -> None:
    verdict = review(prescription(line(1, LEVOFLOXACIN, 2, 7), title=StaffTitle.RESIDENT), RULES)
    assert verdict.outcome is ReviewOutcome.HELD
    assert [f.rule for f in verdict.findings] == ["antibiotic_privilege"]


def test_unknown_prescriber_has_the_lowest_privilege() -> None:
    assert review(prescription(line(1, AMOXICILLIN), title=None), RULES).findings == ()
    verdict = review(prescription(line(1, LEVOFLOXACIN, 2, 7), title=None), RULES)
    assert verdict.outcome is ReviewOutcome.HELD
    (finding,) = verdict.findings
    assert finding.rule == "antibiotic_privilege"
    assert "unknown to the staff registry" in finding.message


def test_unknown_facility_type_holds_the_lowest_grade() -> None:
    verdict = review(prescription(line(1, LEVOFLOXACIN, 2, 7), facility_type=None), RULES)
    assert [f.rule for f in verdict.findings] == ["antibiotic_facility_grade"]
    assert "unknown to the registry" in verdict.findings[0].message


# --- duplicates and interactions -------------------------------------------------------------


def test_amlodipine_with_nifedipine_warns() -> None:
    verdict = review(prescription(line(1, AMLODIPINE, 1, 28), line(2, NIFEDIPINE, 1, 12)), RULES)
    assert verdict.outcome is ReviewOutcome.RELEASED_WITH_WARNINGS
    (finding,) = verdict.findings
    assert (finding.rule, finding.severity, finding.line_no) == (
        "duplicate_therapy",
        FindingSeverity.WARNING,
        2,
    )
    assert "amlodipine" in finding.message and "line 1" in finding.message


def test_the_same_drug_on_two_lines_is_held() -> None:
    verdict = review(prescription(line(1, AMLODIPINE, 1, 28), line(3, AMLODIPINE, 1, 28)), RULES)
    assert [(f.rule, f.severity, f.line_no) for f in verdict.findings] == [
        ("duplicate_drug", FindingSeverity.HOLD, 3)
    ]


def test_dual_antiplatelet_therapy_is_not_duplicate_therapy() -> None:
    verdict = review(prescription(line(1, ASPIRIN, 1, 30), line(2, CLOPIDOGREL, 1, 28)), RULES)
    assert verdict.outcome is ReviewOutcome.RELEASED


def test_warfarin_with_aspirin_holds() -> None:
    verdict = review(prescription(line(1, ASPIRIN, 1, 30), line(2, WARFARIN, 1, 30)), RULES)
    assert verdict.outcome is ReviewOutcome.HELD
    (finding,) = verdict.findings
    assert (finding.rule, finding.severity, finding.line_no) == (
        "interaction",
        FindingSeverity.HOLD,
        2,
    )


def test_clopidogrel_with_omeprazole_warns_and_morphine_with_diazepam_holds() -> None:
    warned = review(prescription(line(1, CLOPIDOGREL, 1, 28), line(2, OMEPRAZOLE, 1, 14)), RULES)
    assert warned.outcome is ReviewOutcome.RELEASED_WITH_WARNINGS
    held = review(prescription(line(1, MORPHINE, 1, 5), line(2, DIAZEPAM, 1, 30)), RULES)
    assert [(f.rule, f.severity) for f in held.findings] == [("interaction", FindingSeverity.HOLD)]


# --- dose ------------------------------------------------------------------------------------


def test_dose_over_the_daily_limit_holds() -> None:
    # amlodipine 5 mg × 28: 4 packs in 28 days is 4 tablets a day, the limit is 2
    verdict = review(prescription(line(1, AMLODIPINE, 4, 28)), RULES)
    assert verdict.outcome is ReviewOutcome.HELD
    (finding,) = verdict.findings
    assert (finding.rule, finding.line_no) == ("dose_limit", 1)
    assert "0.14 packs a day" in finding.message
    assert review(prescription(line(1, AMLODIPINE, 2, 28)), RULES).findings == ()


def test_dose_without_days_of_supply_uses_the_pack_limit() -> None:
    assert review(prescription(line(1, AMOXICILLIN, 5, None)), RULES).findings == ()
    verdict = review(prescription(line(1, AMOXICILLIN, 6, None)), RULES)
    assert [(f.rule, f.line_no) for f in verdict.findings] == [("dose_limit", 1)]
    assert "without days of supply" in verdict.findings[0].message


# --- age and pregnancy -----------------------------------------------------------------------


def test_age_rule_applies_only_with_an_age_band() -> None:
    levofloxacin = line(1, LEVOFLOXACIN, 2, 7)
    assert review(prescription(levofloxacin), RULES).findings == ()
    assert review(prescription(levofloxacin, age=AgeBand.ADULT), RULES).findings == ()
    verdict = review(prescription(levofloxacin, age=AgeBand.ADOLESCENT), RULES)
    assert [(f.rule, f.severity, f.line_no) for f in verdict.findings] == [
        ("age", FindingSeverity.HOLD, 1)
    ]
    assert "under 18" in verdict.findings[0].message
    assert "adolescent" in verdict.findings[0].message


@pytest.mark.parametrize(
    ("band", "under_12", "under_18"),
    [
        (AgeBand.INFANT, True, True),
        (AgeBand.CHILD, True, True),
        (AgeBand.ADOLESCENT, False, True),
        (AgeBand.ADULT, False, False),
        (AgeBand.ELDERLY, False, False),
    ],
)
def test_an_age_rule_holds_the_bands_wholly_below_its_bound(
    band: AgeBand, under_12: bool, under_18: bool
) -> None:
    aspirin, levofloxacin = line(1, ASPIRIN, 1, 30), line(1, LEVOFLOXACIN, 2, 7)
    assert bool(review(prescription(aspirin, age=band), RULES).findings) is under_12
    assert bool(review(prescription(levofloxacin, age=band), RULES).findings) is under_18


def test_pregnancy_and_age_are_both_found_on_one_line() -> None:
    verdict = review(
        prescription(line(1, LEVOFLOXACIN, 2, 7), age=AgeBand.ADOLESCENT, pregnant=True), RULES
    )
    # One finding per condition met; the pregnancy entry rejects, so the outcome is a reject.
    assert verdict.outcome is ReviewOutcome.REJECTED
    assert [f.rule for f in verdict.findings] == ["age", "pregnancy"]


def test_pregnancy_rule_applies_only_when_pregnancy_is_stated() -> None:
    warfarin = line(1, WARFARIN, 1, 30)
    assert review(prescription(warfarin), RULES).findings == ()
    assert review(prescription(warfarin, pregnant=False), RULES).findings == ()
    verdict = review(prescription(warfarin, pregnant=True), RULES)
    assert verdict.outcome is ReviewOutcome.REJECTED
    assert [(f.rule, f.line_no) for f in verdict.findings] == [("pregnancy", 1)]


# --- bad configuration -----------------------------------------------------------------------


def broken(change: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(DOCUMENT)
    for path, value in change.items():
        *parents, last = path.split("/")
        target: Any = document
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return document


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"severities/dose_limit": "block"}, "severities.dose_limit: 'block' is not one of"),
        ({"severities/dose_limt": "hold"}, "severities: unknown key(s) dose_limt"),
        ({"drugs/QSY-W001/max_daily_pack": 1}, "drugs.QSY-W001: unknown key(s) max_daily_pack"),
        ({"drugs/QSY-W001/max_daily_packs": 0}, "drugs.QSY-W001.max_daily_packs must be"),
        ({"drugs/QSY-W001/max_daily_packs": "lots"}, "drugs.QSY-W001.max_daily_packs must be"),
        ({"drugs/QSY-W001/antibiotic_grade": "reserve"}, "drugs.QSY-W001.antibiotic_grade"),
        ({"drugs/QSY-W003/contraindicated/0/age_below": True}, "contraindicated[0].age_below"),
        (
            {"drugs/QSY-W003/contraindicated/0": {"age_below": 18}},
            "contraindicated[0].severity is required",
        ),
        (
            {"drugs/QSY-W003/contraindicated/0/age_below": 16},
            "contraindicated[0].age_below must be an age band's edge (1, 12, 18, 65), not 16",
        ),
        (
            {"drugs/QSY-W003/contraindicated/1": {"pregnancy": False, "severity": "hold"}},
            "contraindicated[1].pregnancy must be true",
        ),
        (
            {"drugs/QSY-W003/contraindicated/1": {"severity": "hold"}},
            "exactly one of pregnancy or age_below",
        ),
        ({"interactions/0/drugs": ["QSY-W021"]}, "interactions[0].drugs must list two"),
        ({"interactions/0/drugs": ["QSY-W021", "QSY-W099"]}, "QSY-W099 is not in drugs"),
        (
            {"interactions/1/drugs": ["QSY-W018", "QSY-W021"]},
            "interactions[1] repeats the pair QSY-W018 + QSY-W021",
        ),
        ({"antibiotics/title_privileges/intern": "special"}, "'intern' is not one of"),
        ({"antibiotics/facility_grades/village_clinic": "all"}, "facility_grades.village_clinic"),
        ({"review_before_dispensing": ["pharmacy"]}, "review_before_dispensing[0]"),
        ({"review_before_dispensing": "village_clinic"}, "review_before_dispensing must be a list"),
        ({"review_sla_minutes": 0}, "review_sla_minutes must be a number above 0"),
        ({"drugs/QSY-W001/name": ""}, "drugs.QSY-W001.name is required"),
        ({"rules": {}}, "the review rules: unknown key(s) rules"),
        ({"interactions/0/note": "x" * 201}, "interactions[0].note is longer than 200"),
    ],
)
def test_bad_config_names_the_problem(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        parse_rules(broken(change))


def test_empty_rules_release_everything_and_county_code_is_ignored() -> None:
    rules = parse_rules({"county_code": "QS"})
    assert rules == ReviewRules()
    verdict = review(prescription(line(1, MEROPENEM, 99, 1), title=None), rules)
    assert verdict.outcome is ReviewOutcome.RELEASED


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ValueError, match="must be a mapping"):
        parse_rules([])  # type: ignore[arg-type]


# --- the outcome is the most severe finding's ------------------------------------------------

SEVERITY_RANK = {FindingSeverity.WARNING: 1, FindingSeverity.HOLD: 2, FindingSeverity.REJECT: 3}
OUTCOME_RANK = {
    ReviewOutcome.RELEASED: 0,
    ReviewOutcome.RELEASED_WITH_WARNINGS: 1,
    ReviewOutcome.HELD: 2,
    ReviewOutcome.REJECTED: 3,
}
CODES = [
    AMOXICILLIN, "QSY-W002", LEVOFLOXACIN, "QSY-W004", MEROPENEM, "QSY-W006", AMLODIPINE,
    NIFEDIPINE, ASPIRIN, CLOPIDOGREL, WARFARIN, OMEPRAZOLE, IBUPROFEN, DIAZEPAM, MORPHINE,
    "QSY-Z001",
]  # fmt: skip


@st.composite
def prescriptions(draw: st.DrawFn) -> PrescriptionUnderReview:
    drugs = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=6))
    numbers = draw(st.permutations(range(1, len(drugs) + 1)))
    lines = tuple(
        LineUnderReview(
            number,
            code,
            draw(st.integers(1, 20)),
            draw(st.none() | st.integers(1, 90)),
        )
        for number, code in zip(numbers, drugs, strict=True)
    )
    return prescription(
        *lines,
        facility_type=draw(st.none() | st.sampled_from(FacilityType)),
        title=draw(st.none() | st.sampled_from(StaffTitle)),
        outpatient=draw(st.booleans()),
        age=draw(st.none() | st.sampled_from(AgeBand)),
        pregnant=draw(st.none() | st.booleans()),
    )


@given(prescriptions())
def test_the_outcome_is_the_most_severe_findings(rx: PrescriptionUnderReview) -> None:
    verdict = review(rx, RULES)
    worst = max((SEVERITY_RANK[f.severity] for f in verdict.findings), default=0)
    assert OUTCOME_RANK[verdict.outcome] == worst
    assert verdict.outcome is outcome_of(verdict.findings)
    line_numbers = {line.line_no for line in rx.lines}
    assert all(f.line_no in line_numbers for f in verdict.findings)
    assert all(f.message for f in verdict.findings)
