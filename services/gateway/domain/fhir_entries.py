"""Reading a submitted Bundle: its envelope first, then each entry on its own, so one
malformed resource fails its entry and not the whole batch.

The model library (``fhir.resources.R4B``) checks structure, cardinality and datatypes; its
errors become :class:`Problem` s located by FHIRPath, with the value sent left out (pydantic
puts it in ``input``, and sometimes in the message: such a message is replaced).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, cast

from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from services.gateway.domain.messages import Problem

__all__ = ["SUPPORTED", "Entry", "Envelope", "problems_from", "read_bundle"]

#: The resource types the gateway reads; any other entry is ``not_supported``.
SUPPORTED: dict[str, Any] = {
    "Patient": Patient,
    "Encounter": Encounter,
    "MedicationRequest": MedicationRequest,
    "ServiceRequest": ServiceRequest,
    "DiagnosticReport": DiagnosticReport,
    "Observation": Observation,
}
_KINDS = ("transaction", "batch")
_CONTEXT_METHODS = frozenset({"POST", "PUT"})
_UNREADABLE = (ValidationError, KeyError, TypeError, ValueError, AttributeError)

Kind = Literal["transaction", "batch"]


@dataclass(frozen=True)
class Entry:
    """One entry of the bundle: its resource parsed (``None`` when it could not be), and
    the problems of the entry itself (envelope, request, resource structure)."""

    index: int
    full_url: str | None
    resource_type: str | None
    resource: Any
    problems: tuple[Problem, ...]

    @property
    def base(self) -> str:
        return f"Bundle.entry[{self.index}].resource"


@dataclass(frozen=True)
class Envelope:
    kind: Kind | None
    message_id: str | None
    entries: list[Entry]
    problems: list[Problem]


def read_bundle(document: object) -> Envelope:
    """The bundle's type, message id and entries; bundle-level problems leave no entries."""
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        return Envelope(None, None, [], [Problem("structure", "not a FHIR Bundle", "Bundle")])
    raw_entries = document.get("entry", [])
    shell = {key: value for key, value in document.items() if key != "entry"}
    try:
        bundle = Bundle.model_validate(shell)
    except _UNREADABLE as error:
        return Envelope(None, None, [], _problems_of(error, "Bundle"))
    problems: list[Problem] = []
    if bundle.type not in _KINDS:
        problems.append(Problem("code_invalid", "must be transaction or batch", "Bundle.type"))
    message_id = (bundle.identifier.value if bundle.identifier else None) or bundle.id
    if not message_id:
        problems.append(Problem("required", "the message id is required", "Bundle.identifier"))
    if not isinstance(raw_entries, list):
        problems.append(Problem("structure", "must be a list", "Bundle.entry"))
    if problems:
        return Envelope(None, None, [], problems)
    entries = [read_entry(index, raw) for index, raw in enumerate(raw_entries)]
    return Envelope(cast(Kind, bundle.type), str(message_id), entries, [])


def read_entry(index: int, raw: object) -> Entry:
    """One entry: the envelope (fullUrl, request), then its resource by resourceType."""
    at = f"Bundle.entry[{index}]"
    if not isinstance(raw, dict):
        return Entry(index, None, None, None, (Problem("structure", "not an object", at),))
    resource = raw.get("resource")
    try:
        envelope = BundleEntry.model_validate({k: v for k, v in raw.items() if k != "resource"})
    except _UNREADABLE as error:
        return Entry(index, None, None, None, tuple(_problems_of(error, at)))
    rtype = resource.get("resourceType") if isinstance(resource, dict) else None
    problems = _request_problems(envelope, rtype, at)
    parsed, resource_problems = _read_resource(resource, f"{at}.resource")
    full_url = envelope.fullUrl
    return Entry(index, full_url, rtype, parsed, tuple(problems + resource_problems))


def _request_problems(envelope: Any, rtype: object, at: str) -> list[Problem]:
    request = envelope.request
    if request is None:
        return [Problem("required", "a batch or transaction entry needs a request", at)]
    allowed = _CONTEXT_METHODS if rtype == "Patient" else frozenset({"POST"})
    if request.method not in allowed:
        message = "must be " + " or ".join(sorted(allowed))
        return [Problem("code_invalid", message, f"{at}.request.method")]
    return []


def _read_resource(resource: object, at: str) -> tuple[Any, list[Problem]]:
    if resource is None:
        return None, [Problem("not_supported", "an entry without a resource", at)]
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return None, [Problem("structure", "not a resource", at)]
    model = SUPPORTED.get(resource["resourceType"])
    if model is None:
        supported = ", ".join(SUPPORTED)
        message = f"this resource type is not supported (supported: {supported})"
        return None, [Problem("not_supported", message, f"{at}.resourceType")]
    try:
        return model.model_validate(resource), []
    except _UNREADABLE as error:
        return None, _problems_of(error, at)


def _problems_of(error: Exception, prefix: str) -> list[Problem]:
    if isinstance(error, ValidationError):
        return problems_from(error, prefix)
    return [Problem("structure", "could not be read as FHIR R4", prefix)]


_REQUIRED = frozenset({"missing", "model_field_validation.missing"})
#: Unknown elements and wrong datatypes (``string_type``, ``list_type``… end in ``_type``).
_STRUCTURE = frozenset({"extra_forbidden", "model_validation_format"})


def problems_from(error: ValidationError, prefix: str) -> list[Problem]:
    """The model library's errors as problems, without the values sent."""
    problems = []
    for detail in error.errors():
        kind = detail["type"]
        structural = kind in _STRUCTURE or kind.endswith("_type")
        code = "required" if kind in _REQUIRED else "structure" if structural else "invalid"
        message = _safe_message(detail["msg"], detail.get("input"))
        problems.append(Problem(code, message, fhir_path(prefix, detail["loc"])))
    return problems


def fhir_path(prefix: str, loc: tuple[int | str, ...]) -> str:
    """``("entry", 2, "resource", "subject")`` under ``Bundle`` → ``Bundle.entry[2]…``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in ("root", "__root__") and not any(c in part for c in "[(,"):
            path += f".{part}"
    return path


def _safe_message(message: str, sent: object) -> str:
    if any(len(value) >= 3 and value in message for value in _scalars(sent)):
        return "invalid value"
    return message


def _scalars(value: object, depth: int = 0) -> Iterator[str]:
    if isinstance(value, dict) and depth < 8:
        for item in value.values():
            yield from _scalars(item, depth + 1)
    elif isinstance(value, list | tuple) and depth < 8:
        for item in value:
            yield from _scalars(item, depth + 1)
    elif value is not None and not isinstance(value, bool):
        yield str(value)
