"""A prescription's patient as the central review needs it (``.v2``): the age band from the
Patient's birthDate, pregnancy from a Pregnancy status Observation, and the version a
prescription is published as (services/gateway/domain/fhir_patient_state.py, preparation.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import libs.events.catalogue  # noqa: F401  (registers the catalogue)
from libs.events.catalogue.ingestion import PrescriptionIssuedV2
from libs.events.catalogue.values import AgeBand
from services.gateway.domain.fhir_bundle import Translation, translate_bundle
from services.gateway.domain.fhir_patient_state import age_band_on
from services.gateway.domain.fhir_profile import FhirProfile
from services.gateway.domain.messages import NATIONAL_ID_FIELD
from services.gateway.domain.preparation import (
    PRESCRIPTION_V1,
    PRESCRIPTION_V2,
    published_type,
)
from simulator import fhir_bundles as fb

NID = "11010519491231002X"
OTHER_NID = "110105198001010016"
T = datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=8)))
LINES = [{"line_no": 1, "drug_code": "QSY-W003", "quantity": 2, "unit_price": Decimal("9.6")}]


def bundle(
    *,
    born: date | str | None = date(2010, 3, 2),
    prescriber: str | None = "S-H01-007",
    pregnancy: tuple[str, bool] | None = None,
) -> dict[str, Any]:
    """A patient, maybe a pregnancy status about ``pregnancy[0]``'s patient, a prescription."""
    patient = fb.patient_entry(NID, birth_date=born)
    entries = [patient]
    if pregnancy is not None:
        about, pregnant = pregnancy
        subject = fb.reference(patient) if about == NID else fb.patient_by_identifier(about)
        entries.append(fb.pregnancy_status_entry(subject, pregnant, T, about))
    entries += fb.prescription_entries(
        prescription_id="RX1",
        facility_id="F1",
        subject=fb.reference(patient),
        category="western",
        issued_at=T,
        lines=LINES,
        prescriber_id=prescriber,
    )
    return fb.bundle("batch", "MSG-1", entries)


def fields_of(translation: Translation) -> dict[str, Any]:
    (unit,) = translation.units
    assert unit.message is not None, unit.problems
    return unit.message.fields


def translate(document: dict[str, Any]) -> Translation:
    return translate_bundle(document, FhirProfile())


@pytest.mark.parametrize(
    ("born", "band"),
    [
        (date(2026, 1, 1), AgeBand.INFANT),
        (date(2025, 3, 3), AgeBand.INFANT),  # one year old tomorrow
        (date(2025, 3, 2), AgeBand.CHILD),  # one year old today
        (date(2014, 3, 3), AgeBand.CHILD),
        (date(2014, 3, 2), AgeBand.ADOLESCENT),
        (date(2008, 3, 3), AgeBand.ADOLESCENT),
        (date(2008, 3, 2), AgeBand.ADULT),
        (date(1961, 3, 2), AgeBand.ELDERLY),
        ("1980", AgeBand.ADULT),  # partial dates: the band when the whole range is in one
        ("2008", None),  # 17 or 18 on 2 March 2026
        ("2008-02", AgeBand.ADULT),
        ("2008-03", None),
        ("2008-12", AgeBand.ADOLESCENT),
        (date(2026, 3, 3), None),  # not born yet
    ],
)
def test_the_age_band_on_the_prescriptions_date(born: date | str, band: AgeBand | None) -> None:
    assert age_band_on(born, date(2026, 3, 2)) is band


def test_a_prescription_with_its_prescriber_carries_the_band_and_the_pregnancy() -> None:
    translation = translate(bundle(pregnancy=(NID, True)))
    assert translation.context_entries == (0, 1)  # the status is context, never a result
    fields = fields_of(translation)
    assert fields["patient_age_band"] == "adolescent"
    assert fields["pregnant"] is True
    assert "birthDate" not in str(fields) and "2010" not in str(fields)
    assert published_type(PRESCRIPTION_V1, fields) == PRESCRIPTION_V2
    data = {k: v for k, v in fields.items() if k != NATIONAL_ID_FIELD}
    payload = PrescriptionIssuedV2.model_validate(
        {**data, "patient_pseudonym": "a" * 64, "facility_tier": "primary"}
    )
    assert (payload.patient_age_band, payload.pregnant) == (AgeBand.ADOLESCENT, True)


def test_not_pregnant_and_unknown() -> None:
    assert fields_of(translate(bundle(pregnancy=(NID, False))))["pregnant"] is False
    assert "pregnant" not in fields_of(translate(bundle()))
    other = fields_of(translate(bundle(pregnancy=(OTHER_NID, True))))
    assert "pregnant" not in other  # another patient's status says nothing of this one
    assert "patient_age_band" not in fields_of(translate(bundle(born=None)))


def test_without_a_prescriber_the_prescription_stays_a_v1_without_them() -> None:
    fields = fields_of(translate(bundle(prescriber=None, pregnancy=(NID, True))))
    assert "patient_age_band" not in fields and "pregnant" not in fields
    assert published_type(PRESCRIPTION_V1, fields) == PRESCRIPTION_V1


def test_a_birth_after_the_prescription_is_refused_without_repeating_it() -> None:
    (unit,) = translate(bundle(born=date(2027, 1, 1))).units
    assert unit.message is None
    assert [(p.code, p.location) for p in unit.problems] == [
        ("invalid", "Bundle.entry[0].resource.birthDate")
    ]
    assert "2027" not in unit.problems[0].message


def test_the_version_a_json_prescription_is_published_as() -> None:
    assert published_type(PRESCRIPTION_V1, {"prescription_id": "RX"}) == PRESCRIPTION_V1
    assert published_type(PRESCRIPTION_V1, {"prescriber_id": "S1"}) == PRESCRIPTION_V2
    # What only .v2 says makes it a .v2, whose schema then asks for the prescriber.
    assert published_type(PRESCRIPTION_V1, {"pregnant": False}) == PRESCRIPTION_V2
    assert published_type(PRESCRIPTION_V2, {}) == PRESCRIPTION_V2
    visit = "ingestion.visit.recorded.v1"
    assert published_type(visit, {"prescriber_id": "S1"}) == visit
