"""The county's review rules (审方规则), read from ``infra/quality/review-rules.yaml``.

The rules are the county's, not the code's: which drugs carry a daily limit, which pairs
interact, what each finding costs (warning, hold for a pharmacist, reject) and who may
prescribe which antibiotic grade all change by county and by year, so they live in the file
and the parser refuses a file it cannot read exactly. An unknown key is an error rather than
ignored: a misspelt ``max_daily_pack`` silently switching a dose limit off is the failure
this guards against.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from libs.events.catalogue.quality import FindingSeverity
from libs.events.catalogue.values import AgeBand, FacilityType, StaffTitle
from services.quality.domain.config_values import (
    as_mapping,
    check_keys,
    enum_value,
    optional_text,
    positive_decimal,
    whole_number,
)
from services.quality.domain.grading import LOWEST_GRADE, AntibioticGrade

__all__ = [
    "AGE_BAND_EDGES",
    "AntibioticPolicy",
    "Contraindication",
    "DrugRule",
    "Interaction",
    "ReviewRules",
    "Severities",
    "parse_rules",
]

_HOLD, _WARNING, _REJECT = FindingSeverity.HOLD, FindingSeverity.WARNING, FindingSeverity.REJECT


@dataclass(frozen=True)
class Contraindication:
    """One patient condition a drug must not meet: pregnancy, or an age below a bound."""

    severity: FindingSeverity
    pregnancy: bool = False
    age_below: int | None = None
    note: str = ""


@dataclass(frozen=True)
class DrugRule:
    """What the rules know of one formulary drug; a drug without an entry meets no rule."""

    drug_code: str
    name: str
    """The generic name in English, for messages (``levofloxacin``)."""
    therapeutic_class: str | None = None
    """Two drugs of one class on one prescription are duplicate therapy (重复用药)."""
    max_daily_packs: Decimal | None = None
    """Packs a day (quantity ÷ days of supply): the HIS sends packs, not doses."""
    max_packs_without_days: int | None = None
    """The limit on the quantity when the HIS sent no days of supply."""
    antibiotic_grade: AntibioticGrade | None = None
    contraindicated: tuple[Contraindication, ...] = ()


@dataclass(frozen=True)
class Interaction:
    """A pair of drugs that should not be given together without a pharmacist's look."""

    drugs: frozenset[str]
    severity: FindingSeverity
    note: str = ""


@dataclass(frozen=True)
class Severities:
    """What the rules without a per-entry severity cost; the defaults are the seed county's."""

    dose_limit: FindingSeverity = _HOLD
    duplicate_drug: FindingSeverity = _HOLD
    duplicate_therapy: FindingSeverity = _WARNING
    antibiotic_privilege: FindingSeverity = _HOLD
    antibiotic_facility_grade: FindingSeverity = _HOLD
    antibiotic_special_outpatient: FindingSeverity = _REJECT


@dataclass(frozen=True)
class AntibioticPolicy:
    """The highest grade each title may prescribe and each facility type may hold.

    A title or facility type the file does not list gets the lowest grade: a gap in the
    rules holds a prescription for a pharmacist rather than letting it through."""

    title_privileges: Mapping[StaffTitle, AntibioticGrade] = field(default_factory=dict)
    facility_grades: Mapping[FacilityType, AntibioticGrade] = field(default_factory=dict)

    def privilege(self, title: StaffTitle | None) -> AntibioticGrade:
        """An unknown prescriber (``None``) has the lowest privilege."""
        return LOWEST_GRADE if title is None else self.title_privileges.get(title, LOWEST_GRADE)

    def facility_allowance(self, facility_type: FacilityType | None) -> AntibioticGrade:
        if facility_type is None:
            return LOWEST_GRADE
        return self.facility_grades.get(facility_type, LOWEST_GRADE)


@dataclass(frozen=True)
class ReviewRules:
    drugs: Mapping[str, DrugRule] = field(default_factory=dict)
    interactions: tuple[Interaction, ...] = ()
    antibiotics: AntibioticPolicy = field(default_factory=AntibioticPolicy)
    severities: Severities = field(default_factory=Severities)
    review_sla_minutes: float = 30.0
    """A held prescription is decided within this many minutes of review-centre hours."""
    review_before_dispensing: frozenset[FacilityType] = frozenset()
    """Facility types reviewed before dispensing (前置审方); the others after."""

    def drug(self, drug_code: str) -> DrugRule | None:
        return self.drugs.get(drug_code)

    def interaction(self, first: str, second: str) -> Interaction | None:
        pair = frozenset((first, second))
        return next((i for i in self.interactions if i.drugs == pair), None)


_TOP_KEYS = frozenset(
    {"county_code", "review_sla_minutes", "review_before_dispensing", "severities",
     "antibiotics", "drugs", "interactions"}
)  # fmt: skip


def parse_rules(document: dict[str, Any]) -> ReviewRules:
    """The rules of a parsed YAML document; ``ValueError`` naming the first problem found.

    ``county_code`` may sit in the same file: the service reads it, the rules ignore it."""
    doc = as_mapping(document, "the review rules")
    check_keys(doc, _TOP_KEYS, "the review rules")
    drugs = _drugs(doc.get("drugs", {}))
    return ReviewRules(
        drugs=drugs,
        interactions=_interactions(doc.get("interactions", []), drugs),
        antibiotics=_antibiotics(doc.get("antibiotics", {})),
        severities=_severities(doc.get("severities", {})),
        review_sla_minutes=_sla_minutes(doc.get("review_sla_minutes", 30)),
        review_before_dispensing=_facility_types(
            doc.get("review_before_dispensing", []), "review_before_dispensing"
        ),
    )


def _sla_minutes(value: Any) -> float:
    """Minutes (a fraction allowed, for tests), at most a day."""
    minutes = float(positive_decimal(value, "review_sla_minutes"))
    if minutes > 24 * 60:
        raise ValueError(f"review_sla_minutes must be at most {24 * 60}, not {value!r}")
    return minutes


def _facility_types(value: Any, where: str) -> frozenset[FacilityType]:
    if not isinstance(value, list):
        raise ValueError(f"{where} must be a list of facility types")
    return frozenset(enum_value(FacilityType, v, f"{where}[{i}]") for i, v in enumerate(value))


def _severities(value: Any) -> Severities:
    entries = as_mapping(value, "severities")
    names = frozenset(Severities.__dataclass_fields__)
    check_keys(entries, names, "severities")
    return Severities(
        **{k: enum_value(FindingSeverity, v, f"severities.{k}") for k, v in entries.items()}
    )


def _antibiotics(value: Any) -> AntibioticPolicy:
    entries = as_mapping(value, "antibiotics")
    check_keys(entries, frozenset({"title_privileges", "facility_grades"}), "antibiotics")
    titles = as_mapping(entries.get("title_privileges", {}), "antibiotics.title_privileges")
    facilities = as_mapping(entries.get("facility_grades", {}), "antibiotics.facility_grades")
    return AntibioticPolicy(
        title_privileges=_grade_table(titles, StaffTitle, "antibiotics.title_privileges"),
        facility_grades=_grade_table(facilities, FacilityType, "antibiotics.facility_grades"),
    )


_Key = TypeVar("_Key", StaffTitle, FacilityType)


def _grade_table(
    entries: Mapping[str, Any], keys: type[_Key], where: str
) -> dict[_Key, AntibioticGrade]:
    return {
        enum_value(keys, k, f"{where} key"): enum_value(AntibioticGrade, v, f"{where}.{k}")
        for k, v in entries.items()
    }


_DRUG_KEYS = frozenset(
    {"name", "therapeutic_class", "max_daily_packs", "max_packs_without_days",
     "antibiotic_grade", "contraindicated"}
)  # fmt: skip


def _drugs(value: Any) -> dict[str, DrugRule]:
    entries = as_mapping(value, "drugs")
    return {str(code): _drug(str(code), spec) for code, spec in entries.items()}


def _drug(code: str, value: Any) -> DrugRule:
    where = f"drugs.{code}"
    spec = as_mapping(value, where)
    check_keys(spec, _DRUG_KEYS, where)
    if not isinstance(spec.get("name"), str) or not spec["name"].strip():
        raise ValueError(f"{where}.name is required (the generic name, for messages)")
    conditions = spec.get("contraindicated", [])
    if not isinstance(conditions, list):
        raise ValueError(f"{where}.contraindicated must be a list")
    return DrugRule(
        drug_code=code,
        name=spec["name"].strip(),
        therapeutic_class=optional_text(
            spec.get("therapeutic_class"), f"{where}.therapeutic_class"
        ),
        max_daily_packs=_optional(spec, "max_daily_packs", where, positive_decimal),
        max_packs_without_days=_optional(spec, "max_packs_without_days", where, _pack_count),
        antibiotic_grade=_optional(spec, "antibiotic_grade", where, _grade),
        contraindicated=tuple(
            _contraindication(c, f"{where}.contraindicated[{i}]") for i, c in enumerate(conditions)
        ),
    )


_Value = TypeVar("_Value")


def _optional(
    spec: Mapping[str, Any], key: str, where: str, read: Callable[[Any, str], _Value]
) -> _Value | None:
    value = spec.get(key)
    return None if value is None else read(value, f"{where}.{key}")


def _pack_count(value: Any, where: str) -> int:
    return whole_number(value, where, upper=1_000_000)


def _grade(value: Any, where: str) -> AntibioticGrade:
    return enum_value(AntibioticGrade, value, where)


def _contraindication(value: Any, where: str) -> Contraindication:
    spec = as_mapping(value, where)
    check_keys(spec, frozenset({"pregnancy", "age_below", "severity", "note"}), where)
    if ("pregnancy" in spec) == ("age_below" in spec):
        raise ValueError(f"{where} must name exactly one of pregnancy or age_below")
    if "pregnancy" in spec and spec["pregnancy"] is not True:
        raise ValueError(f"{where}.pregnancy must be true (leave the entry out otherwise)")
    if "severity" not in spec:
        raise ValueError(f"{where}.severity is required (warning, hold or reject)")
    age = spec.get("age_below")
    return Contraindication(
        severity=enum_value(FindingSeverity, spec["severity"], f"{where}.severity"),
        pregnancy="pregnancy" in spec,
        age_below=None if age is None else _band_edge(age, f"{where}.age_below"),
        note=_note(spec, where),
    )


#: The ages where one age band ends and the next begins: all an age rule can be decided at,
#: since the prescription carries the patient's band, never the age itself.
AGE_BAND_EDGES = tuple(sorted(band.from_years for band in AgeBand if band.from_years > 0))


def _band_edge(value: Any, where: str) -> int:
    years = whole_number(value, where, upper=130)
    if years not in AGE_BAND_EDGES:
        edges = ", ".join(map(str, AGE_BAND_EDGES))
        raise ValueError(
            f"{where} must be an age band's edge ({edges}), not {years}: prescriptions carry "
            "the patient's age band, so a bound inside a band could not be decided"
        )
    return years


def _interactions(value: Any, drugs: Mapping[str, DrugRule]) -> tuple[Interaction, ...]:
    if not isinstance(value, list):
        raise ValueError("interactions must be a list")
    parsed = tuple(_interaction(v, f"interactions[{i}]", drugs) for i, v in enumerate(value))
    pairs = [i.drugs for i in parsed]
    for index, pair in enumerate(pairs):
        if pair in pairs[:index]:
            raise ValueError(f"interactions[{index}] repeats the pair {' + '.join(sorted(pair))}")
    return parsed


def _interaction(value: Any, where: str, drugs: Mapping[str, DrugRule]) -> Interaction:
    spec = as_mapping(value, where)
    check_keys(spec, frozenset({"drugs", "severity", "note"}), where)
    codes = spec.get("drugs")
    if not isinstance(codes, list) or len(codes) != 2 or len(set(map(str, codes))) != 2:
        raise ValueError(f"{where}.drugs must list two different drug codes")
    for code in codes:
        if str(code) not in drugs:
            raise ValueError(f"{where}.drugs: {code} is not in drugs")
    if "severity" not in spec:
        raise ValueError(f"{where}.severity is required (warning, hold or reject)")
    return Interaction(
        drugs=frozenset(map(str, codes)),
        severity=enum_value(FindingSeverity, spec["severity"], f"{where}.severity"),
        note=_note(spec, where),
    )


#: A note lands in a finding's message, which the events cap at 500 characters.
_NOTE_LIMIT = 200


def _note(spec: Mapping[str, Any], where: str) -> str:
    note = optional_text(spec.get("note"), f"{where}.note") or ""
    if len(note) > _NOTE_LIMIT:
        raise ValueError(f"{where}.note is longer than {_NOTE_LIMIT} characters")
    return note
