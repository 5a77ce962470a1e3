"""Resolving references between the entries of one bundle.

A reference is either literal — an entry's ``fullUrl`` (``urn:uuid:…``) or
``<ResourceType>/<id>`` of an entry whose resource has that id — or logical, by identifier
(``{"identifier": {"system": …, "value": …}}``) for what the bundle does not carry. A literal
reference that no entry answers is ``not_found``: the gateway holds no resources to look it
up in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from libs.events.pseudonym import is_resident_id
from services.gateway.domain.fhir_entries import Entry
from services.gateway.domain.fhir_profile import EXT_DEPARTMENT, FhirProfile
from services.gateway.domain.fhir_values import Reader, first_identifier
from services.gateway.domain.messages import NATIONAL_ID_FIELD, Problem

__all__ = ["Context", "Index", "Visit"]


class Index:
    """The bundle's entries in order, and by ``fullUrl`` and by ``<ResourceType>/<id>``."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.by_url: dict[str, Entry] = {}
        for entry in entries:
            if entry.full_url:
                self.by_url.setdefault(entry.full_url, entry)
            if entry.resource is not None and entry.resource.id:
                self.by_url.setdefault(f"{entry.resource_type}/{entry.resource.id}", entry)

    def resolve(self, reader: Reader, reference: Any, expected: str, path: str) -> Entry | Any:
        """The entry a literal reference names, or the Identifier of a logical one; ``None``
        (with a problem recorded) when it resolves to nothing usable."""
        if reference.reference is None:
            if reference.identifier is None or not reference.identifier.value:
                reader.fail("required", "a reference or an identifier is required", path)
                return None
            return reference.identifier
        entry = self.by_url.get(reference.reference)
        if entry is None:
            message = "does not resolve to an entry of this bundle"
            reader.fail("not_found", message, f"{path}.reference")
            return None
        if entry.resource_type != expected:
            reader.fail("invalid", f"must reference a {expected}", f"{path}.reference")
            return None
        if entry.resource_type == "Patient":  # context: its own problems surface here
            reader.problems.extend(entry.problems)
        if entry.resource is None:
            reader.fail("invalid", f"references an invalid entry ({entry.base})", path)
            return None
        return entry


@dataclass(frozen=True)
class Visit:
    """What a request learns from the Encounter it references."""

    visit_id: str | None = None
    facility_id: str | None = None
    department_id: str | None = None


@dataclass(frozen=True)
class Context:
    """The bundle's index and the county's profile, to read references with."""

    index: Index
    profile: FhirProfile

    def patient(self, reader: Reader, subject: Any, path: str = "subject") -> None:
        """The patient's national id into ``NATIONAL_ID_FIELD``, checked, never echoed."""
        if subject is None:
            reader.fail("required", "the patient is required", path)
            return
        target = self.index.resolve(reader, subject, "Patient", path)
        if isinstance(target, Entry):
            self._from_patient(reader, target)
        elif target is not None:
            if target.system != self.profile.national_id_system:
                message = "must be the resident identity number system of the profile"
                reader.fail("invalid", message, f"{path}.identifier.system")
                return
            self._national_id(reader, target.value, reader.at(f"{path}.identifier.value"))

    def _from_patient(self, reader: Reader, entry: Entry) -> None:
        for index, identifier in enumerate(entry.resource.identifier or ()):
            if identifier.system == self.profile.national_id_system and identifier.value:
                location = f"{entry.base}.identifier[{index}].value"
                self._national_id(reader, identifier.value, location)
                return
        message = "the Patient has no identifier of the resident identity number system"
        reader.problems.append(Problem("required", message, f"{entry.base}.identifier"))

    @staticmethod
    def _national_id(reader: Reader, value: str, location: str) -> None:
        if not is_resident_id(value):
            message = "not a well-formed resident identity number"
            reader.problems.append(Problem("invalid", message, location))
            return
        reader.fields[NATIONAL_ID_FIELD] = value

    def visit(self, reader: Reader, reference: Any, path: str = "encounter") -> Visit:
        """The referenced Encounter's visit id, facility and department (in the bundle), or
        only its visit id (logical reference)."""
        if reference is None:
            return Visit()
        target = self.index.resolve(reader, reference, "Encounter", path)
        if target is None:
            return Visit()
        if not isinstance(target, Entry):
            return Visit(visit_id=target.value)
        encounter = target.resource
        provider = encounter.serviceProvider
        facility = provider.identifier.value if provider and provider.identifier else None
        return Visit(
            visit_id=first_identifier(encounter.identifier),
            facility_id=facility,
            department_id=Reader(target.base).text(encounter, EXT_DEPARTMENT),
        )

    def order(self, reader: Reader, based_on: list[Any] | None, path: str = "basedOn") -> None:
        """``order_id`` from the first ServiceRequest a result is based on."""
        for index, reference in enumerate(based_on or ()):
            if reference.type not in (None, "ServiceRequest"):
                continue
            target = self.index.resolve(reader, reference, "ServiceRequest", f"{path}[{index}]")
            if isinstance(target, Entry):
                reader.optional("order_id", first_identifier(target.resource.identifier))
            elif target is not None:
                reader.optional("order_id", target.value)
            return
