"""Encounter, ServiceRequest, DiagnosticReport and Observation → the fields of a catalogue
ingestion message (the mapping is documented in docs/gateway.md, "FHIR bundles").

Each function reads one parsed resource into a :class:`Reader`; the bundle translation turns
the reader into a message, or into the problems that keep it from being one.
"""

from __future__ import annotations

from typing import Any

from services.gateway.domain.fhir_entries import Entry
from services.gateway.domain.fhir_profile import (
    ACCEPTED_STATUS,
    ENCOUNTER_CLASS,
    EXT_DEPARTMENT,
    EXT_ELIGIBLE_AMOUNT,
    EXT_FACILITY,
    EXT_FACILITY_IN_COUNTY,
    EXT_INSURANCE_TYPE,
    EXT_INSURED_IN_COUNTY,
    EXT_TOTAL_AMOUNT,
    INSURANCE_TYPE,
    REQUEST_INTENTS,
    TEST_KIND,
)
from services.gateway.domain.fhir_references import Context
from services.gateway.domain.fhir_values import (
    Reader,
    codings,
    extension,
    first_identifier,
    reference_identifier,
)

__all__ = ["order", "placed_by", "report", "result", "visit"]


def visit(entry: Entry, ctx: Context) -> Reader:
    """Encounter → ``ingestion.visit.recorded.v1``."""
    encounter, r = entry.resource, Reader(entry.base)
    r.status(encounter.status, ACCEPTED_STATUS["Encounter"])
    r.require("visit_id", first_identifier(encounter.identifier), "identifier")
    facility = reference_identifier(encounter.serviceProvider)
    r.require("facility_id", facility, "serviceProvider.identifier.value")
    klass = encounter.class_fhir
    r.coded("visit_type", [("class", klass)], ENCOUNTER_CLASS, "class.code")
    ctx.patient(r, encounter.subject)
    start = encounter.period.start if encounter.period else None
    r.instant("occurred_at", start, "period.start")
    r.diagnoses(encounter.reasonCode)
    r.money(encounter, "total_amount", EXT_TOTAL_AMOUNT)
    r.money(encounter, "eligible_amount", EXT_ELIGIBLE_AMOUNT)
    _insurance(r, encounter)
    r.flag(encounter, "insured_in_county", EXT_INSURED_IN_COUNTY)
    r.flag(encounter, "facility_in_county", EXT_FACILITY_IN_COUNTY)
    r.optional("department_id", r.text(encounter, EXT_DEPARTMENT))
    return r


def _insurance(r: Reader, encounter: Any) -> None:
    found = extension(encounter, EXT_INSURANCE_TYPE)
    if found is None:
        r.fail("required", f"the extension {EXT_INSURANCE_TYPE} is required", "extension")
        return
    path, item = found
    if item.valueCode not in INSURANCE_TYPE:
        r.fail("code_invalid", "not a known insurance type", f"{path}.valueCode")
    else:
        r.fields["insurance_type"] = str(INSURANCE_TYPE[item.valueCode])


def placed_by(r: Reader, ctx: Context, request: Any) -> None:
    """A request's visit, facility and department: from the Encounter it references (in the
    bundle), else from the facility and department extensions."""
    context = ctx.visit(r, request.encounter)
    r.optional("visit_id", context.visit_id)
    facility = None
    found = extension(request, EXT_FACILITY)
    if found is not None:
        facility = reference_identifier(found[1].valueReference)
        if facility is None:
            r.fail("required", "is required (an Organization identifier)", found[0])
    if found is not None and facility and context.facility_id not in (None, facility):
        r.fail("conflict", "differs from the facility of the Encounter", found[0])
    facility = context.facility_id or facility
    if facility is None and found is None:
        message = f"the facility is required: reference an Encounter or use {EXT_FACILITY}"
        r.fail("required", message, "encounter")
    r.optional("facility_id", facility)
    r.optional("department_id", r.text(request, EXT_DEPARTMENT) or context.department_id)


def order(entry: Entry, ctx: Context) -> Reader:
    """ServiceRequest → ``ingestion.order.placed.v1``."""
    request, r = entry.resource, Reader(entry.base)
    r.status(request.status, ACCEPTED_STATUS["ServiceRequest"])
    r.status(request.intent, REQUEST_INTENTS, "intent")
    r.require("order_id", first_identifier(request.identifier), "identifier")
    r.require("test_code", _first_code(request.code), "code.coding[0].code")
    r.coded("test_kind", codings(request.category, "category"), TEST_KIND, "category")
    r.instant("ordered_at", request.authoredOn, "authoredOn")
    r.optional("orderer_id", reference_identifier(request.requester))
    ctx.patient(r, request.subject)
    placed_by(r, ctx, request)
    return r


def result(entry: Entry, ctx: Context, observations: int | None = None) -> Reader:
    """DiagnosticReport (with ``observations`` results) or a standalone Observation (one
    result) → ``ingestion.result.reported.v1``."""
    resource, r = entry.resource, Reader(entry.base)
    r.status(resource.status, ACCEPTED_STATUS[entry.resource_type or ""])
    r.require("result_id", first_identifier(resource.identifier), "identifier")
    ctx.order(r, resource.basedOn)
    r.require("test_code", _first_code(resource.code), "code.coding[0].code")
    r.coded("test_kind", codings(resource.category, "category"), TEST_KIND, "category")
    r.instant("reported_at", resource.issued, "issued")
    performed = resource.effectiveDateTime or (
        resource.effectivePeriod.start if resource.effectivePeriod else None
    )
    r.instant("performed_at", performed, "effectiveDateTime", required=False)
    r.fields["observation_count"] = 1 if observations is None else observations
    ctx.patient(r, resource.subject)
    _performer(r, resource)
    return r


def report(entry: Entry, ctx: Context) -> Reader:
    """DiagnosticReport → ``ingestion.result.reported.v1``; each ``result`` must resolve
    (an Observation entry, or a logical reference) and counts as one observation."""
    references = entry.resource.result or ()
    r = result(entry, ctx, observations=len(references))
    for index, reference in enumerate(references):
        ctx.index.resolve(r, reference, "Observation", f"result[{index}]")
    return r


def _performer(r: Reader, resource: Any) -> None:
    """The first performer that is (or may be) an Organization with an identifier, else
    the facility extension."""
    for performer in resource.performer or ():
        facility = reference_identifier(performer)
        if performer.type in (None, "Organization") and facility:
            r.fields["facility_id"] = facility
            return
    found = extension(resource, EXT_FACILITY)
    facility = reference_identifier(found[1].valueReference) if found else None
    if facility is None:
        message = "the performing facility (an Organization identifier) is required"
        r.fail("required", message, "performer")
    else:
        r.fields["facility_id"] = facility


def _first_code(concept: Any) -> str | None:
    if concept is None or not concept.coding:
        return None
    return concept.coding[0].code
