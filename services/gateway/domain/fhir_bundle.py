"""A FHIR R4 Bundle from a member's HIS, LIS or PACS → the catalogue's ingestion messages.

The county's profile (constants in :mod:`services.gateway.domain.fhir_profile`, documented
for vendors in docs/gateway.md, "FHIR bundles"):

* ``Bundle.type`` is ``transaction`` or ``batch``; ``Bundle.identifier.value`` (else
  ``Bundle.id``) is the system's message id. Every entry has ``request.method`` POST
  (a Patient may be PUT).
* Patient entries are context only, never published: the identifier of the profile's
  national id system gives the patient's resident identity number, which resources name by
  a ``subject`` reference to the Patient's ``fullUrl`` or by a logical reference with that
  identifier. It must be a well-formed number.
* Encounter → ``ingestion.visit.recorded.v1``; MedicationRequests (one per line, grouped by
  ``groupIdentifier``) → ``ingestion.prescription.issued.v1`` (``.v2`` with a requester,
  decided in ``preparation.py``); ServiceRequest → ``ingestion.order.placed.v1``;
  DiagnosticReport with its result Observations, or an Observation no report claims →
  ``ingestion.result.reported.v1``. A Pregnancy status Observation (LOINC 82810-3) is
  context, like a Patient. Any other resource type is ``not_supported``. The
  element-by-element mapping is in docs/gateway.md.
* Each fact is one :class:`Unit`: its message, or the problems (FHIRPath located, values
  never repeated) that keep it from being one. ``facility_tier`` is left for the gateway.
  ``Message.message_id`` is ``<message id>#<ResourceType>/<business id>`` (``#entry<i>``
  when the business id is missing).

Pure: no I/O. A transaction's all-or-nothing rule is the caller's (it sees every unit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from services.gateway.domain.fhir_entries import Entry, read_bundle
from services.gateway.domain.fhir_patient_state import is_pregnancy_status
from services.gateway.domain.fhir_prescriptions import prescription, prescription_key
from services.gateway.domain.fhir_profile import FhirProfile
from services.gateway.domain.fhir_references import Context, Index
from services.gateway.domain.fhir_resources import order, report, result, visit
from services.gateway.domain.fhir_values import Reader
from services.gateway.domain.messages import Message, Problem

__all__ = ["EVENT_TYPES", "Translation", "Unit", "translate_bundle"]

#: resource type → (catalogue event type, the field holding the business id).
EVENT_TYPES: dict[str, tuple[str, str]] = {
    "Encounter": ("ingestion.visit.recorded.v1", "visit_id"),
    "MedicationRequest": ("ingestion.prescription.issued.v1", "prescription_id"),
    "ServiceRequest": ("ingestion.order.placed.v1", "order_id"),
    "DiagnosticReport": ("ingestion.result.reported.v1", "result_id"),
    "Observation": ("ingestion.result.reported.v1", "result_id"),
}


@dataclass(frozen=True)
class Unit:
    """One fact = one message, possibly from several entries (a prescription's lines, a
    report and its observations)."""

    entries: tuple[int, ...]
    message: Message | None
    problems: list[Problem]


@dataclass(frozen=True)
class Translation:
    kind: Literal["transaction", "batch"] | None
    message_id: str | None
    units: list[Unit]
    context_entries: tuple[int, ...]
    problems: list[Problem]


def translate_bundle(document: object, profile: FhirProfile) -> Translation:
    """Translate a submitted Bundle (parsed JSON) under the county's ``profile``."""
    envelope = read_bundle(document)
    if envelope.problems or envelope.message_id is None:
        return Translation(envelope.kind, envelope.message_id, [], (), envelope.problems)
    ctx = Context(Index(envelope.entries), profile)
    parts, context = _plan(envelope.entries, ctx.index)
    units = [_unit(envelope.message_id, part, ctx) for part in parts]
    return Translation(envelope.kind, envelope.message_id, units, context, [])


def _plan(entries: list[Entry], index: Index) -> tuple[list[list[Entry]], tuple[int, ...]]:
    """The entries of each unit, in the order of their first entry, and the context."""
    claimed = _claimed(entries, index)
    parts: dict[str, list[Entry]] = {}
    context: list[int] = []
    for entry in entries:
        if entry.resource_type == "Patient" or is_pregnancy_status(entry):
            context.append(entry.index)
        elif entry.index not in claimed:
            parts.setdefault(_part_key(entry), []).append(entry)
    for entry in entries:
        if entry.index in claimed:
            parts[f"#entry{claimed[entry.index]}"].append(entry)
    return list(parts.values()), tuple(context)


def _part_key(entry: Entry) -> str:
    if entry.resource_type == "MedicationRequest" and entry.resource is not None:
        key = prescription_key(entry.resource)
        if key is not None:
            return f"MedicationRequest/{key}"
    return f"#entry{entry.index}"


def _claimed(entries: list[Entry], index: Index) -> dict[int, int]:
    """Observation entry → the DiagnosticReport entry whose ``result`` names it."""
    claimed: dict[int, int] = {}
    for entry in entries:
        if entry.resource_type != "DiagnosticReport" or entry.resource is None:
            continue
        for reference in entry.resource.result or ():
            target = index.by_url.get(reference.reference or "")
            if target is not None and target.resource_type == "Observation":
                claimed.setdefault(target.index, entry.index)
    return claimed


def _unit(message_id: str, part: list[Entry], ctx: Context) -> Unit:
    first = part[0]
    indexes = tuple(entry.index for entry in part)
    problems = [problem for entry in part for problem in entry.problems]
    if first.resource is None:
        return Unit(indexes, None, problems)
    reader = _read(part, ctx)
    problems = list(dict.fromkeys([*problems, *reader.problems]))  # lines share a patient
    if problems:
        return Unit(indexes, None, problems)
    event_type, id_field = EVENT_TYPES[first.resource_type or ""]
    business_id = reader.fields.get(id_field)
    suffix = f"{first.resource_type}/{business_id}" if business_id else f"entry{first.index}"
    message = Message(f"{message_id}#{suffix}", event_type, reader.fields, first.base)
    return Unit(indexes, message, [])


def _read(part: list[Entry], ctx: Context) -> Reader:
    first = part[0]
    readers: dict[str, Any] = {
        "Encounter": lambda: visit(first, ctx),
        "MedicationRequest": lambda: prescription([e for e in part if e.resource], ctx),
        "ServiceRequest": lambda: order(first, ctx),
        "DiagnosticReport": lambda: report(first, ctx),
        "Observation": lambda: result(first, ctx),
    }
    read = readers.get(first.resource_type or "")
    if read is not None:
        reader: Reader = read()
        return reader
    context_only = Reader(first.base)  # a parsed resource the gateway reads as context only
    context_only.fail("not_supported", "this resource type is only read as context", "")
    return context_only
