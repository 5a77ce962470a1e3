"""Reading one resource's elements into a message's fields, collecting the problems.

A :class:`Reader` works on one resource at ``base`` (``Bundle.entry[i].resource``); every
problem it records is located by FHIRPath under it and names what is wrong, never the
value sent. Fields are JSON values: money as decimal strings, instants as ISO 8601.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.gateway.domain.fhir_profile import CURRENCY, ICD10_SYSTEMS
from services.gateway.domain.messages import Problem

__all__ = ["Reader", "codings", "extension", "first_identifier", "reference_identifier"]


def extension(resource: Any, url: str) -> tuple[str, Any] | None:
    """The first extension with ``url`` and its path (``extension[2]``), if any."""
    for index, item in enumerate(resource.extension or ()):
        if item.url == url:
            return f"extension[{index}]", item
    return None


def first_identifier(identifiers: list[Any] | None) -> str | None:
    for identifier in identifiers or ():
        if identifier.value:
            return str(identifier.value)
    return None


def reference_identifier(reference: Any) -> str | None:
    """The identifier value of a logical reference (``{"identifier": {...}}``)."""
    if reference is None or reference.identifier is None:
        return None
    return reference.identifier.value or None


def codings(concepts: Iterable[Any] | None, path: str) -> Iterator[tuple[str, Any]]:
    """Every coding of a list of CodeableConcepts with its path, in order."""
    for c_index, concept in enumerate(concepts or ()):
        for k_index, coding in enumerate(concept.coding or ()):
            yield f"{path}[{c_index}].coding[{k_index}]", coding


class Reader:
    """The fields read from one resource so far, and what was wrong."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.fields: dict[str, Any] = {}
        self.problems: list[Problem] = []

    def at(self, path: str) -> str:
        return f"{self.base}.{path}" if path else self.base

    def fail(self, code: str, message: str, path: str) -> None:
        self.problems.append(Problem(code, message, self.at(path)))

    def require(self, name: str, value: object, path: str) -> None:
        if value is None or value == "":
            self.fail("required", f"is required ({name})", path)
        else:
            self.fields[name] = value

    def optional(self, name: str, value: object) -> None:
        if value is not None and value != "":
            self.fields[name] = value

    def status(self, value: str | None, accepted: frozenset[str], path: str = "status") -> None:
        if value not in accepted:
            self.fail("code_invalid", "must be one of " + ", ".join(sorted(accepted)), path)

    def coded(
        self, name: str, found: Iterable[tuple[str, Any]], table: Mapping[str, Any], path: str
    ) -> None:
        """The first coding whose code is in ``table``; ``code_invalid`` if some code was
        sent but none is known, ``required`` if nothing was sent."""
        sent = False
        for _, coding in found:
            sent = sent or coding.code is not None
            if coding.code in table:
                self.fields[name] = str(table[coding.code])
                return
        if sent:
            self.fail("code_invalid", f"no known code for {name}", path)
        else:
            self.fail("required", f"is required ({name})", path)

    def instant(self, name: str, value: object, path: str, *, required: bool = True) -> None:
        if value is None:
            if required:
                self.fail("required", f"is required ({name})", path)
        elif isinstance(value, datetime) and value.tzinfo is not None:
            self.fields[name] = value.isoformat()
        else:
            self.fail("invalid", "must be a date and time with a time zone", path)

    def money(self, resource: Any, name: str, url: str, *, required: bool = True) -> None:
        """An amount from a valueMoney extension, in CNY."""
        found = extension(resource, url)
        if found is None:
            if required:
                self.fail("required", f"the extension {url} is required", "extension")
            return
        path, item = found
        amount = self.money_value(item.valueMoney, f"{path}.valueMoney")
        if amount is not None:
            self.fields[name] = str(amount)

    def money_value(self, money: Any, path: str) -> Decimal | None:
        if money is None or money.value is None:
            self.fail("required", "is required (a Money value)", f"{path}.value" if money else path)
            return None
        if money.currency not in (None, CURRENCY):
            self.fail("invalid", f"the currency must be {CURRENCY}", f"{path}.currency")
            return None
        return Decimal(money.value)

    def flag(self, resource: Any, name: str, url: str) -> None:
        found = extension(resource, url)
        if found is None:
            return
        path, item = found
        if item.valueBoolean is None:
            self.fail("required", "is required (valueBoolean)", f"{path}.valueBoolean")
        else:
            self.fields[name] = bool(item.valueBoolean)

    def text(self, resource: Any, url: str) -> str | None:
        """An identifier carried by an extension (valueIdentifier, valueString, valueCode)."""
        found = extension(resource, url)
        if found is None:
            return None
        item = found[1]
        value = item.valueIdentifier.value if item.valueIdentifier else None
        return value or item.valueString or item.valueCode or None

    def diagnoses(self, concepts: list[Any] | None) -> None:
        codes: list[str] = []
        for _, coding in codings(concepts, "reasonCode"):
            if coding.code and coding.system in ICD10_SYSTEMS and coding.code not in codes:
                codes.append(str(coding.code))
        self.fields["diagnosis_codes"] = codes
