"""What the central review needs to know of a prescription's patient, read from the bundle:
the **age band** on the prescription's date, from the Patient's ``birthDate`` (the birth
date itself never leaves the gateway: bands are what the contraindication rules name), and
**pregnancy**, from an Observation of LOINC 82810-3 (Pregnancy status) about the same
patient. Either is ``None`` when the bundle does not say: a patient named only by a logical
reference has no birthDate here, and most bundles carry no pregnancy status.

A Pregnancy status Observation is context, like the Patient: it is never published as a
test result (:func:`is_pregnancy_status`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from libs.events.catalogue.values import AgeBand
from services.gateway.domain.fhir_entries import Entry
from services.gateway.domain.fhir_profile import (
    ACCEPTED_STATUS,
    PREGNANCY_ANSWERS,
    PREGNANCY_STATUS_CODE,
)
from services.gateway.domain.fhir_references import Context
from services.gateway.domain.fhir_values import Reader
from services.gateway.domain.messages import NATIONAL_ID_FIELD, Problem

__all__ = ["age_band_on", "is_pregnancy_status", "patient_state"]


def is_pregnancy_status(entry: Entry) -> bool:
    """An Observation of the patient's pregnancy status (LOINC 82810-3): context for the
    prescriptions of the bundle, not a result."""
    if entry.resource_type != "Observation" or entry.resource is None:
        return False
    code = entry.resource.code
    return any(c.code == PREGNANCY_STATUS_CODE for c in (code.coding if code else None) or ())


def patient_state(group: Reader, subject: Any, ctx: Context, on: date) -> None:
    """``patient_age_band`` and ``pregnant`` of the prescription's patient into ``group``'s
    fields, where the bundle says them; a birthDate after the prescription is a problem."""
    patient = _patient_entry(subject, ctx)
    born = patient.resource.birthDate if patient is not None else None
    if patient is not None and born is not None:
        if _earliest(born) > on:
            location = f"{patient.base}.birthDate"
            group.problems.append(Problem("invalid", "is after the prescription", location))
        else:
            band = age_band_on(born, on)
            group.optional("patient_age_band", None if band is None else band.value)
    group.optional("pregnant", _pregnant(group.fields.get(NATIONAL_ID_FIELD), ctx))


def age_band_on(born: date | str, on: date) -> AgeBand | None:
    """The age band of a patient born on ``born`` (a date, or FHIR's partial ``YYYY`` or
    ``YYYY-MM``) on the day ``on``; ``None`` when a partial date straddles two bands or the
    birth is after ``on``."""
    youngest, oldest = _band(_latest(born), on), _band(_earliest(born), on)
    return youngest if youngest is not None and youngest == oldest else None


def _band(born: date, on: date) -> AgeBand | None:
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if years < 0:
        return None
    return next(b for b in AgeBand if b.from_years <= years < b.below_years)


def _earliest(born: date | str) -> date:
    if isinstance(born, date):
        return born
    year, _, month = born.partition("-")
    return date(int(year), int(month or 1), 1)


def _latest(born: date | str) -> date:
    if isinstance(born, date):
        return born
    year, _, month = born.partition("-")
    if not month:
        return date(int(year), 12, 31)
    following = date(int(year) + int(month) // 12, int(month) % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def _patient_entry(subject: Any, ctx: Context) -> Entry | None:
    if subject is None or subject.reference is None:
        return None
    entry = ctx.index.by_url.get(subject.reference)
    if entry is None or entry.resource_type != "Patient" or entry.resource is None:
        return None
    return entry


def _pregnant(national_id: str | None, ctx: Context) -> bool | None:
    """The first final Pregnancy status about this patient that answers yes or no."""
    if national_id is None:
        return None
    for entry in ctx.index.entries:
        if not is_pregnancy_status(entry) or not _final(entry.resource):
            continue
        about = Reader(entry.base)
        ctx.patient(about, entry.resource.subject)
        if about.fields.get(NATIONAL_ID_FIELD) != national_id:
            continue
        concept = entry.resource.valueCodeableConcept
        for coding in (concept.coding if concept else None) or ():
            if coding.code in PREGNANCY_ANSWERS:
                return PREGNANCY_ANSWERS[coding.code]
    return None


def _final(observation: Any) -> bool:
    return observation.status in ACCEPTED_STATUS["Observation"]
