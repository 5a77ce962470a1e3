"""FHIR R4 Bundles → the catalogue's ingestion messages (services/gateway/domain/fhir_bundle.py),
written by the simulator's writer (simulator/fhir_bundles.py)."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import libs.events.catalogue  # noqa: F401  (registers the catalogue)
from libs.events.catalogue.ingestion import VisitRecorded
from libs.events.registry import registry
from services.gateway.domain import fhir_profile as profile
from services.gateway.domain.fhir_bundle import Translation, Unit, translate_bundle
from services.gateway.domain.fhir_profile import FhirProfile
from services.gateway.domain.messages import NATIONAL_ID_FIELD
from simulator import fhir_bundles as fb

NID = "11010519491231002X"  # a well-formed resident identity number (test data)
OTHER_NID = "110105198001010016"
T = datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=8)))
PROFILE = FhirProfile()
LINES = [
    {"line_no": n, "drug_code": f"DR{n}", "quantity": n, "unit_price": Decimal("3.3333")}
    for n in (1, 2, 3)
]


def entries(nid: str = NID) -> list[dict[str, Any]]:
    """A patient, a visit, a 3-line prescription, an order and a 2-observation result."""
    patient = fb.patient_entry(nid)
    visit = fb.visit_entry(
        visit_id="V1",
        facility_id="F1",
        subject=fb.reference(patient),
        visit_type="emergency",
        occurred_at=T,
        insurance_type="urban_rural_resident",
        total_amount=Decimal("120.50"),
        eligible_amount=Decimal("100.00"),
        diagnosis_codes=["I10", "E11.9"],
        department_id="D7",
    )
    rx = fb.prescription_entries(
        prescription_id="RX1",
        facility_id="F1",
        subject=fb.reference(patient),
        category="tcm_patent",
        issued_at=T,
        lines=[{**line, "days_supply": 7} for line in LINES],
        prescriber_id="S1",
        encounter=fb.reference(visit),
    )
    order = fb.order_entry(
        order_id="O1",
        facility_id="F1",
        subject=fb.patient_by_identifier(nid),
        test_kind="imaging",
        test_code="CT-HEAD",
        ordered_at=T,
        orderer_id="S1",
        encounter=fb.reference(visit),
    )
    result = fb.result_entries(
        result_id="R1",
        facility_id="F1",
        subject=fb.reference(patient),
        test_kind="imaging",
        test_code="CT-HEAD",
        reported_at=T + timedelta(hours=2),
        performed_at=T + timedelta(hours=1),
        observation_count=2,
        order=fb.reference(order),
    )
    return [patient, visit, *rx, order, *result]


def translate(document: object) -> Translation:
    return translate_bundle(document, PROFILE)


def full_bundle(kind: str = "batch", nid: str = NID) -> dict[str, Any]:
    return fb.bundle(kind, "MSG-1", entries(nid))


def only_unit(translation: Translation, entry: int) -> Unit:
    return next(unit for unit in translation.units if entry in unit.entries)


def locations(unit_or_translation: Unit | Translation) -> set[str | None]:
    return {problem.location for problem in unit_or_translation.problems}


def as_payload(fields: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in fields.items() if k != NATIONAL_ID_FIELD}
    return {**data, "patient_pseudonym": "a" * 64, "facility_tier": "primary"}


# --- round trips -------------------------------------------------------------------------


def test_a_bundle_translates_into_one_message_per_fact() -> None:
    translation = translate(full_bundle())
    assert translation.problems == []
    assert translation.kind == "batch"
    assert translation.message_id == "MSG-1"
    assert translation.context_entries == (0,)
    assert [unit.entries for unit in translation.units] == [(1,), (2, 3, 4), (5,), (6, 7, 8)]
    assert all(unit.problems == [] and unit.message for unit in translation.units)
    ids = [unit.message.message_id for unit in translation.units if unit.message]
    assert ids == [
        "MSG-1#Encounter/V1",
        "MSG-1#MedicationRequest/RX1",
        "MSG-1#ServiceRequest/O1",
        "MSG-1#DiagnosticReport/R1",
    ]
    locations_ = [unit.message.location for unit in translation.units if unit.message]
    assert locations_ == [f"Bundle.entry[{i}].resource" for i in (1, 2, 5, 6)]


def test_every_message_validates_against_the_catalogue() -> None:
    for unit in translate(full_bundle()).units:
        assert unit.message is not None
        assert unit.message.fields[NATIONAL_ID_FIELD] == NID
        assert "facility_tier" not in unit.message.fields
        json.dumps(unit.message.fields)  # JSON values, as the catalogue's JSON entry sends
        spec = registry.by_type(unit.message.event_type)
        spec.payload.model_validate(as_payload(unit.message.fields))


def test_the_writer_and_the_profile_agree_on_the_constants() -> None:
    assert fb.NATIONAL_ID_SYSTEM == profile.NATIONAL_ID_SYSTEM == PROFILE.national_id_system
    written = json.dumps(full_bundle())
    for url in (profile.EXT_TOTAL_AMOUNT, profile.EXT_UNIT_PRICE, profile.EXT_LINE_NUMBER):
        assert f'"{url}"' in written


def test_an_encounter_is_a_visit() -> None:
    message = translate(full_bundle()).units[0].message
    assert message is not None
    assert message.event_type == "ingestion.visit.recorded.v1"
    payload = VisitRecorded.model_validate(as_payload(message.fields))
    assert payload.visit_id == "V1"
    assert payload.facility_id == "F1"
    assert payload.visit_type == "emergency"
    assert payload.insurance_type == "urban_rural_resident"
    assert payload.diagnosis_codes == ["I10", "E11.9"]
    assert payload.total_amount == Decimal("120.50")
    assert payload.eligible_amount == Decimal("100.00")
    assert payload.department_id == "D7"
    assert payload.occurred_at == T
    assert payload.insured_in_county is True


def test_a_prescription_of_three_lines_is_one_message() -> None:
    translation = translate(full_bundle())
    unit = translation.units[1]
    assert unit.entries == (2, 3, 4)
    assert unit.message is not None
    fields = unit.message.fields
    assert fields["prescription_id"] == "RX1"
    assert fields["visit_id"] == "V1"
    assert fields["facility_id"] == "F1"
    assert fields["category"] == "tcm_patent"
    assert fields["prescriber_id"] == "S1"
    assert fields["department_id"] == "D7"  # from the referenced Encounter
    assert [line["line_no"] for line in fields["lines"]] == [1, 2, 3]
    assert [line["quantity"] for line in fields["lines"]] == [1, 2, 3]
    assert fields["lines"][0] == {
        "line_no": 1,
        "drug_code": "DR1",
        "quantity": 1,
        "unit_price": "3.3333",
        "days_supply": 7,
    }
    assert fields["total_amount"] == "20.00"  # 6 packs × 3.3333, to the cent


def test_an_explicit_prescription_total_wins_over_the_sum() -> None:
    patient = fb.patient_entry(NID)
    rx = fb.prescription_entries(
        prescription_id="RX9",
        facility_id="F2",
        subject=fb.reference(patient),
        category="western",
        issued_at=T,
        lines=[{"line_no": 1, "drug_code": "D", "quantity": 1}],
        total_amount=Decimal("9.90"),
    )
    unit = translate(fb.bundle("transaction", "M", [patient, *rx])).units[0]
    assert unit.message is not None
    assert unit.message.fields["total_amount"] == "9.9"
    assert unit.message.fields["facility_id"] == "F2"  # the facility extension
    assert "visit_id" not in unit.message.fields


def test_an_order_and_its_result() -> None:
    translation = translate(full_bundle())
    order, result = translation.units[2].message, translation.units[3].message
    assert order is not None
    assert result is not None
    assert order.fields["test_kind"] == "imaging"
    assert order.fields["test_code"] == "CT-HEAD"
    assert order.fields["visit_id"] == "V1"
    assert order.fields["orderer_id"] == "S1"
    assert result.fields["order_id"] == "O1"
    assert result.fields["observation_count"] == 2
    assert result.fields["facility_id"] == "F1"
    assert result.fields["reported_at"] == (T + timedelta(hours=2)).isoformat()
    assert result.fields["performed_at"] == (T + timedelta(hours=1)).isoformat()


def test_a_standalone_observation_is_its_own_result() -> None:
    observation = {
        "resourceType": "Observation",
        "identifier": [{"value": "OBS-1"}],
        "status": "final",
        "category": [{"coding": [{"code": "laboratory"}]}],
        "code": {"coding": [{"code": "GLU"}]},
        "subject": fb.patient_by_identifier(NID),
        "effectiveDateTime": T.isoformat(),
        "issued": T.astimezone(UTC).isoformat(),
        "performer": [{"identifier": {"value": "F3"}}],
    }
    entry = {"resource": observation, "request": {"method": "POST", "url": "Observation"}}
    unit = translate(fb.bundle("batch", "M", [entry])).units[0]
    assert unit.problems == []
    assert unit.message is not None
    assert unit.message.message_id == "M#Observation/OBS-1"
    assert unit.message.fields["observation_count"] == 1
    assert unit.message.fields["test_kind"] == "laboratory"
    spec = registry.by_type(unit.message.event_type)
    spec.payload.model_validate(as_payload(unit.message.fields))


def test_a_configured_national_id_system_is_used() -> None:
    profile = FhirProfile(national_id_system="urn:example:province-id")
    document = fb.bundle(
        "batch", "M", [fb.patient_entry(NID, system="urn:example:province-id"), *entries()[1:2]]
    )
    assert translate_bundle(document, profile).units[0].message is not None
    assert translate(document).units[0].message is None


# --- problems ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "code", "location"),
    [
        ([], "structure", "Bundle"),
        ({"resourceType": "Patient"}, "structure", "Bundle"),
        ({"resourceType": "Bundle", "type": "document", "id": "x"}, "code_invalid", "Bundle.type"),
        ({"resourceType": "Bundle", "type": "batch"}, "required", "Bundle.identifier"),
        ({"resourceType": "Bundle", "type": "batch", "id": "x", "entry": 3}, None, "Bundle.entry"),
        ({"resourceType": "Bundle", "type": 5, "id": "x"}, "structure", "Bundle.type"),
    ],
)
def test_bundle_level_problems(document: object, code: str | None, location: str) -> None:
    translation = translate(document)
    assert translation.units == []
    assert location in locations(translation)
    assert code is None or code in {problem.code for problem in translation.problems}


def broken(path: list[str | int], value: object, *, delete: bool = False) -> Translation:
    """The full bundle with one element changed (or deleted)."""
    document = full_bundle()
    target: Any = document
    for step in path[:-1]:
        target = target[step]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return translate(document)


def problem_at(translation: Translation, entry: int, location: str) -> str:
    unit = only_unit(translation, entry)
    assert unit.message is None
    found = [p.code for p in unit.problems if p.location == location]
    assert found, unit.problems
    return found[0]


@pytest.mark.parametrize(
    ("path", "value", "delete", "entry", "location", "code"),
    [
        (["class"], None, True, 1, "resource.class", "required"),
        (
            ["serviceProvider"],
            None,
            True,
            1,
            "resource.serviceProvider.identifier.value",
            "required",
        ),
        (["class", "code"], "XYZ", False, 1, "resource.class.code", "code_invalid"),
        (["status"], "planned", False, 1, "resource.status", "code_invalid"),
        (["period"], None, True, 1, "resource.period.start", "required"),
        (["period", "start"], "2026-03-02", False, 1, "resource.period.start", "invalid"),
        (["period", "start"], "yesterday", False, 1, "resource.period.start", "invalid"),
        (
            ["extension", 2, "valueCode"],
            "gold",
            False,
            1,
            "resource.extension[2].valueCode",
            "code_invalid",
        ),
        (
            ["extension", 0, "valueMoney", "currency"],
            "USD",
            False,
            1,
            "resource.extension[0].valueMoney.currency",
            "invalid",
        ),
        (
            ["subject", "reference"],
            "urn:uuid:nowhere",
            False,
            1,
            "resource.subject.reference",
            "not_found",
        ),
        (["unknownElement"], 1, False, 1, "resource.unknownElement", "structure"),
        (
            ["dispenseRequest", "quantity", "value"],
            1.5,
            False,
            3,
            "resource.dispenseRequest.quantity.value",
            "invalid",
        ),
        (
            ["category", 0, "coding", 0, "code"],
            "potion",
            False,
            3,
            "resource.category",
            "code_invalid",
        ),
        (["intent"], "plan", False, 2, "resource.intent", "code_invalid"),
        (
            ["encounter", "reference"],
            "urn:uuid:nowhere",
            False,
            5,
            "resource.encounter.reference",
            "not_found",
        ),
        (["code"], {"text": "no coding"}, False, 5, "resource.code.coding[0].code", "required"),
        (["category", 0, "coding", 0, "code"], "XX", False, 6, "resource.category", "code_invalid"),
        (["issued"], None, True, 6, "resource.issued", "required"),
        (
            ["basedOn", 0, "reference"],
            "urn:uuid:nowhere",
            False,
            6,
            "resource.basedOn[0].reference",
            "not_found",
        ),
        (
            ["result", 1, "reference"],
            "urn:uuid:nowhere",
            False,
            6,
            "resource.result[1].reference",
            "not_found",
        ),
        (["performer"], None, True, 6, "resource.performer", "required"),
    ],
)
def test_resource_problems_are_located(
    path: list[str | int], value: object, delete: bool, entry: int, location: str, code: str
) -> None:
    translation = broken(["entry", entry, "resource", *path], value, delete=delete)
    assert problem_at(translation, entry, f"Bundle.entry[{entry}].{location}") == code


def test_the_request_method_must_be_post() -> None:
    translation = broken(["entry", 5, "request", "method"], "GET", delete=False)
    assert problem_at(translation, 5, "Bundle.entry[5].request.method") == "code_invalid"


def test_an_entry_without_a_request_is_refused() -> None:
    translation = broken(["entry", 5, "request"], None, delete=True)
    assert problem_at(translation, 5, "Bundle.entry[5]") == "required"


def test_unknown_resources_and_empty_entries_are_not_supported() -> None:
    document = full_bundle()
    document["entry"].append(
        {"resource": {"resourceType": "Claim"}, "request": {"method": "POST", "url": "Claim"}}
    )
    document["entry"].append({"request": {"method": "POST", "url": "Encounter"}})
    document["entry"].append(
        {"resource": {"resourceType": "NoSuchType"}, "request": {"method": "POST", "url": "X"}}
    )
    translation = translate(document)
    assert problem_at(translation, 9, "Bundle.entry[9].resource.resourceType") == "not_supported"
    assert problem_at(translation, 10, "Bundle.entry[10].resource") == "not_supported"
    assert problem_at(translation, 11, "Bundle.entry[11].resource.resourceType") == "not_supported"
    assert sum(unit.message is not None for unit in translation.units) == 4


def test_a_patient_without_a_national_id_fails_who_references_it() -> None:
    translation = broken(["entry", 0, "resource", "identifier", 0, "system"], "urn:other")
    assert problem_at(translation, 1, "Bundle.entry[0].resource.identifier") == "required"
    assert only_unit(translation, 5).message is not None  # by logical identifier


def test_a_malformed_national_id_is_invalid_and_never_repeated() -> None:
    bad = NID[:-1] + "1"
    translation = translate(full_bundle(nid=bad))
    location = "Bundle.entry[0].resource.identifier[0].value"
    assert problem_at(translation, 1, location) == "invalid"
    assert (
        problem_at(translation, 5, "Bundle.entry[5].resource.subject.identifier.value") == "invalid"
    )
    assert bad not in str(translation)


def test_a_logical_patient_reference_needs_the_national_id_system() -> None:
    translation = broken(["entry", 5, "resource", "subject", "identifier", "system"], "urn:x")
    assert (
        problem_at(translation, 5, "Bundle.entry[5].resource.subject.identifier.system")
        == "invalid"
    )


def test_lines_of_one_prescription_that_disagree_are_a_conflict() -> None:
    document = full_bundle()
    document["entry"][4]["resource"]["subject"] = fb.patient_by_identifier(OTHER_NID)
    document["entry"][3]["resource"]["category"] = [{"coding": [{"code": "western"}]}]
    unit = only_unit(translate(document), 2)
    assert unit.entries == (2, 3, 4)
    assert unit.message is None
    assert {(p.code, p.location) for p in unit.problems} == {
        ("conflict", "Bundle.entry[3].resource.category"),
        ("conflict", "Bundle.entry[4].resource.subject"),
    }


def test_a_prescription_without_prices_or_total_needs_one() -> None:
    document = full_bundle()
    for entry in document["entry"][2:5]:
        entry["resource"]["extension"] = [
            e for e in entry["resource"]["extension"] if not e["url"].endswith("unit-price")
        ]
    unit = only_unit(translate(document), 2)
    assert {(p.code, p.location) for p in unit.problems} == {
        ("required", "Bundle.entry[2].resource.extension")
    }


def test_the_national_id_never_appears_in_problems_or_reprs() -> None:
    cases: list[tuple[list[Any], object]] = [
        (["entry", 0, "resource", "identifier", 0, "value"], int(NID[:-1])),
        (["entry", 0, "resource", "identifier", 0], NID),
        (["entry", 5, "resource", "subject", "identifier", "value"], [NID]),
        (["entry", 5, "resource", "subject"], NID),
        (["entry", 1, "resource", "status"], NID),
        (["entry", 1, "resource", "period", "start"], NID),
        (["entry", 1, "resource", "class", "code"], NID),
        (["entry", 1, "request", "method"], NID),
        (["type"], NID),
        (["identifier"], NID),
    ]
    documents = []
    for path, value in cases:
        document = full_bundle()
        target: Any = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        documents.append(document)
    for document in documents:
        translation = translate(document)
        assert translation.problems or any(unit.problems for unit in translation.units)
        text = str(translation) + repr([unit.message for unit in translation.units])
        assert NID not in text
        assert NID[:-1] not in text


def test_a_transaction_is_translated_like_a_batch() -> None:
    translation = translate(full_bundle("transaction"))
    assert translation.kind == "transaction"
    assert all(unit.message for unit in translation.units)


def test_two_hundred_entries_translate_quickly() -> None:
    patient = fb.patient_entry(NID)
    many = [patient]
    for n in range(199):
        many.append(
            fb.order_entry(
                order_id=f"O{n}",
                facility_id="F1",
                subject=fb.reference(patient),
                test_kind="laboratory",
                test_code="CBC",
                ordered_at=T,
            )
        )
    translate(fb.bundle("batch", "warm-up", many[:2]))
    started = time.perf_counter()
    translation = translate(fb.bundle("batch", "M", copy.deepcopy(many)))
    assert time.perf_counter() - started < 2.0
    assert len(translation.units) == 199
    assert all(unit.message for unit in translation.units)
