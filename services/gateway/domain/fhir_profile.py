"""The county's FHIR R4 profile for what members submit: extension URLs, identifier systems
and the code maps from FHIR codes to the catalogue's code lists.

The profile is documented for member vendors in docs/gateway.md ("FHIR bundles"); every
constant there is defined here. The maps are lookups by code only (the system is not
checked), so a vendor sending a standard code with a local system is still understood.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from libs.events.catalogue.values import (
    InsuranceType,
    PrescriptionCategory,
    TestKind,
    VisitType,
)

__all__ = [
    "ACCEPTED_STATUS",
    "CS_PRESCRIPTION_CATEGORY",
    "CURRENCY",
    "ENCOUNTER_CLASS",
    "EXT_DEPARTMENT",
    "EXT_ELIGIBLE_AMOUNT",
    "EXT_FACILITY",
    "EXT_FACILITY_IN_COUNTY",
    "EXT_INSURANCE_TYPE",
    "EXT_INSURED_IN_COUNTY",
    "EXT_LINE_NUMBER",
    "EXT_TOTAL_AMOUNT",
    "EXT_UNIT_PRICE",
    "ICD10_SYSTEMS",
    "INSURANCE_TYPE",
    "NATIONAL_ID_SYSTEM",
    "PREGNANCY_ANSWERS",
    "PREGNANCY_STATUS_CODE",
    "PRESCRIPTION_CATEGORY",
    "REQUEST_INTENTS",
    "STRUCTURE_DEFINITION",
    "TEST_KIND",
    "FhirProfile",
]

_BASE = "https://fhir.county-medical-community.example"
STRUCTURE_DEFINITION: Final = f"{_BASE}/StructureDefinition/"

#: Money (valueMoney, CNY): a visit's service charges, or a prescription's drug charges.
EXT_TOTAL_AMOUNT: Final = STRUCTURE_DEFINITION + "total-amount"
#: Money (valueMoney, CNY): the part of a visit's charges insurance covers (政策范围内).
EXT_ELIGIBLE_AMOUNT: Final = STRUCTURE_DEFINITION + "eligible-amount"
#: Code (valueCode): the patient's insurance, a key or a value of :data:`INSURANCE_TYPE`.
EXT_INSURANCE_TYPE: Final = STRUCTURE_DEFINITION + "insurance-type"
#: Boolean (valueBoolean), default true: the patient is insured under this county's fund.
EXT_INSURED_IN_COUNTY: Final = STRUCTURE_DEFINITION + "insured-in-county"
#: Boolean (valueBoolean), default true: the facility is inside the county.
EXT_FACILITY_IN_COUNTY: Final = STRUCTURE_DEFINITION + "facility-in-county"
#: Identifier (valueIdentifier, or valueString/valueCode): the department's id.
EXT_DEPARTMENT: Final = STRUCTURE_DEFINITION + "department-id"
#: Reference(Organization) by identifier (valueReference): the facility that placed a
#: request, when its Encounter is not in the bundle.
EXT_FACILITY: Final = STRUCTURE_DEFINITION + "facility"
#: Money (valueMoney, CNY): the price per pack the HIS charged for a prescription line.
EXT_UNIT_PRICE: Final = STRUCTURE_DEFINITION + "unit-price"
#: Integer (valuePositiveInt or valueInteger): a prescription line's number.
EXT_LINE_NUMBER: Final = STRUCTURE_DEFINITION + "line-number"

#: LOINC 82810-3 Pregnancy status: an Observation of it about a prescription's patient gives
#: the ``.v2`` prescription's ``pregnant`` (context: never published as a result).
PREGNANCY_STATUS_CODE: Final = "82810-3"
#: Its answers (valueCodeableConcept): LOINC answer list LL4129-4 and SNOMED CT; any other
#: answer (LA4489-6 Unknown) leaves pregnancy unknown.
PREGNANCY_ANSWERS: Final[dict[str, bool]] = {
    "LA15173-0": True,  # Pregnant
    "77386006": True,  # SNOMED CT: Pregnant
    "LA26683-5": False,  # Not pregnant
    "60001007": False,  # SNOMED CT: Not pregnant
}
#: The code system of :data:`PRESCRIPTION_CATEGORY`'s own codes.
CS_PRESCRIPTION_CATEGORY: Final = f"{_BASE}/CodeSystem/prescription-category"
#: The resident identity number's OID (居民身份证号码), the default for the profile.
NATIONAL_ID_SYSTEM: Final = "urn:oid:2.16.156.10011.1.1"
CURRENCY: Final = "CNY"
#: Code systems of ICD-10 diagnosis codes (Encounter.reasonCode); a coding without a system
#: counts as ICD-10 too. Codings of other systems (SNOMED CT…) are ignored.
ICD10_SYSTEMS: Final = frozenset(
    {
        None,
        "http://hl7.org/fhir/sid/icd-10",
        "http://hl7.org/fhir/sid/icd-10-cn",
        "urn:oid:2.16.156.10011.2.3.3.11",  # GB/T 14396 疾病分类与代码
    }
)


@dataclass(frozen=True)
class FhirProfile:
    """What the deployment configures: the identifier system of the resident identity
    number (some provinces use their platform's own URI)."""

    national_id_system: str = NATIONAL_ID_SYSTEM


#: Encounter.class (v3 ActCode) → visit type.
ENCOUNTER_CLASS: Final[dict[str, VisitType]] = {
    "AMB": VisitType.OUTPATIENT,
    "EMER": VisitType.EMERGENCY,
    "IMP": VisitType.INPATIENT,
    "ACUTE": VisitType.INPATIENT,
    "NONAC": VisitType.INPATIENT,
}

#: The statuses under which each resource type records a fact; any other is refused.
ACCEPTED_STATUS: Final[dict[str, frozenset[str]]] = {
    "Encounter": frozenset({"arrived", "triaged", "in-progress", "onleave", "finished"}),
    "MedicationRequest": frozenset({"active", "completed"}),
    "ServiceRequest": frozenset({"active", "completed"}),
    "DiagnosticReport": frozenset({"final", "amended", "corrected", "appended"}),
    "Observation": frozenset({"final", "amended", "corrected"}),
}

#: MedicationRequest.intent and ServiceRequest.intent values that are orders.
REQUEST_INTENTS: Final = frozenset({"order", "original-order", "instance-order"})

#: MedicationRequest.category code → prescription category: our own codes, the pinyin
#: initials HIS products use (西药 xy, 中成药 zcy, 中药饮片 zyyp). Other codings of the
#: category (e.g. FHIR's ``outpatient``) are ignored.
PRESCRIPTION_CATEGORY: Final[dict[str, PrescriptionCategory]] = {
    "western": PrescriptionCategory.WESTERN,
    "tcm_patent": PrescriptionCategory.TCM_PATENT,
    "tcm_herbal": PrescriptionCategory.TCM_HERBAL,
    "xy": PrescriptionCategory.WESTERN,
    "zcy": PrescriptionCategory.TCM_PATENT,
    "zyyp": PrescriptionCategory.TCM_HERBAL,
}

_LAB = ("LAB", "CH", "HM", "MB", "SP", "SR", "BG", "IMM", "laboratory", "108252007")
_IMAGING = ("RAD", "CT", "CTH", "RX", "NMR", "NMS", "OUS", "CUS", "VUS", "EC", "ECG", "imaging")
#: ServiceRequest / DiagnosticReport / Observation category → test kind: HL7 v2 table 0074
#: diagnostic service sections, observation-category codes, SNOMED CT 108252007
#: (laboratory procedure) and 363679005 (imaging); ECG counts as imaging (检查).
TEST_KIND: Final[dict[str, TestKind]] = {
    **dict.fromkeys(_LAB, TestKind.LABORATORY),
    **dict.fromkeys(_IMAGING, TestKind.IMAGING),
    "363679005": TestKind.IMAGING,
}

#: The insurance-type extension's code → insurance type: our own codes and the national
#: medical insurance 险种类型 codes (310 employees, 390/391/392 residents).
INSURANCE_TYPE: Final[dict[str, InsuranceType]] = {
    **{t.value: t for t in InsuranceType},
    "310": InsuranceType.URBAN_EMPLOYEE,
    "390": InsuranceType.URBAN_RURAL_RESIDENT,
    "391": InsuranceType.URBAN_RURAL_RESIDENT,
    "392": InsuranceType.URBAN_RURAL_RESIDENT,
}
