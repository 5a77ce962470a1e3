"""MedicationRequests → ``ingestion.prescription.issued.v1``, or ``.v2`` when they name the
prescriber (``requester``): one MedicationRequest per prescription line, the lines of one
prescription sharing ``groupIdentifier``.

The lines must agree on the patient, the facility, the visit and the category; the other
prescription-level elements (authoredOn, requester, department) are taken from the first
line that has them. The prescription's total is its total-amount extension (on any line,
equal where repeated), else the sum of quantity × unit price, rounded to the cent.

With a prescriber, the patient's age band and pregnancy come along where the bundle says
them (``fhir_patient_state.py``); without one the prescription stays a ``.v1``, which has no
room for them, so an HIS that never sends the requester keeps being accepted as before.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from libs.events.payload import cents
from services.gateway.domain.fhir_entries import Entry
from services.gateway.domain.fhir_patient_state import patient_state
from services.gateway.domain.fhir_profile import (
    ACCEPTED_STATUS,
    EXT_LINE_NUMBER,
    EXT_TOTAL_AMOUNT,
    EXT_UNIT_PRICE,
    PRESCRIPTION_CATEGORY,
    REQUEST_INTENTS,
)
from services.gateway.domain.fhir_references import Context
from services.gateway.domain.fhir_resources import placed_by
from services.gateway.domain.fhir_values import (
    Reader,
    codings,
    extension,
    first_identifier,
    reference_identifier,
)
from services.gateway.domain.messages import NATIONAL_ID_FIELD, Problem

__all__ = ["prescription", "prescription_key"]

_LINE = ("line_no", "drug_code", "quantity", "unit_price", "days_supply")
_HEADER = (
    "prescription_id",
    "visit_id",
    "facility_id",
    NATIONAL_ID_FIELD,
    "prescriber_id",
    "department_id",
    "category",
    "issued_at",
)
#: What the lines of one prescription must agree on: field → (what, element).
_SHARED = {
    NATIONAL_ID_FIELD: ("the patient", "subject"),
    "facility_id": ("the facility", "encounter"),
    "visit_id": ("the visit", "encounter"),
    "category": ("the category", "category"),
    "total_amount": ("the total amount", "extension"),
}
_DAYS = frozenset({"d", "day", "days"})


def prescription_key(request: Any) -> str | None:
    """The prescription a line belongs to: groupIdentifier, else its own identifier (a
    prescription of one line)."""
    group = request.groupIdentifier
    if group is not None and group.value:
        return str(group.value)
    return first_identifier(request.identifier)


def prescription(entries: list[Entry], ctx: Context) -> Reader:
    """The prescription whose lines are ``entries`` (parsed, in bundle order)."""
    lines = [_line(entry, ctx, position) for position, entry in enumerate(entries, 1)]
    group = Reader(entries[0].base)
    for line in lines:
        group.problems.extend(line.problems)
    for name in _HEADER:
        group.optional(name, next((ln.fields[name] for ln in lines if name in ln.fields), None))
    for line in lines[1:]:
        _agree(group, lines[0], line)
    group.fields["lines"] = [{k: ln.fields[k] for k in _LINE if k in ln.fields} for ln in lines]
    _total(group, lines)
    issued = group.fields.get("issued_at")
    if "prescriber_id" in group.fields and issued is not None:
        on = datetime.fromisoformat(issued).date()
        patient_state(group, entries[0].resource.subject, ctx, on)
    return group


def _line(entry: Entry, ctx: Context, position: int) -> Reader:
    request, r = entry.resource, Reader(entry.base)
    r.status(request.status, ACCEPTED_STATUS["MedicationRequest"])
    r.status(request.intent, REQUEST_INTENTS, "intent")
    r.require("prescription_id", prescription_key(request), "groupIdentifier.value")
    r.coded("category", codings(request.category, "category"), PRESCRIPTION_CATEGORY, "category")
    r.instant("issued_at", request.authoredOn, "authoredOn")
    r.optional("prescriber_id", reference_identifier(request.requester))
    ctx.patient(r, request.subject)
    placed_by(r, ctx, request)
    _drug(r, request, position)
    _prices(r, request)
    return r


def _drug(r: Reader, request: Any, position: int) -> None:
    found = extension(request, EXT_LINE_NUMBER)
    number = (found[1].valuePositiveInt or found[1].valueInteger) if found else position
    r.require("line_no", number, f"{found[0]}.valuePositiveInt" if found else "extension")
    concept = request.medicationCodeableConcept
    code = concept.coding[0].code if concept and concept.coding else None
    r.require("drug_code", code, "medicationCodeableConcept.coding[0].code")
    dispense = request.dispenseRequest
    quantity = dispense.quantity if dispense else None
    path = "dispenseRequest.quantity.value"
    if quantity is None or quantity.value is None:
        r.fail("required", "is required (quantity, in packs)", path)
    else:
        r.optional("quantity", _whole(r, quantity.value, path))
    supply = dispense.expectedSupplyDuration if dispense else None
    if supply is not None:
        path = "dispenseRequest.expectedSupplyDuration"
        if (supply.code or supply.unit) not in _DAYS:
            r.fail("invalid", "must be in days (UCUM d)", f"{path}.code")
        else:
            r.optional("days_supply", _whole(r, supply.value, f"{path}.value"))


def _whole(r: Reader, value: Decimal | None, path: str) -> int | None:
    if value is None:
        return None
    if value != value.to_integral_value() or value <= 0:
        r.fail("invalid", "must be a whole number above zero", path)
        return None
    return int(value)


def _prices(r: Reader, request: Any) -> None:
    for name, url in (("unit_price", EXT_UNIT_PRICE), ("total_amount", EXT_TOTAL_AMOUNT)):
        found = extension(request, url)
        if found is not None:
            amount = r.money_value(found[1].valueMoney, f"{found[0]}.valueMoney")
            r.optional(name, None if amount is None else str(amount))


def _agree(group: Reader, first: Reader, line: Reader) -> None:
    for name, (what, path) in _SHARED.items():
        mine, theirs = line.fields.get(name), first.fields.get(name)
        if mine is not None and theirs is not None and mine != theirs:
            message = f"the lines of one prescription disagree on {what}"
            group.problems.append(Problem("conflict", message, line.at(path)))


def _total(group: Reader, lines: list[Reader]) -> None:
    explicit = [ln.fields["total_amount"] for ln in lines if "total_amount" in ln.fields]
    if explicit:
        group.fields["total_amount"] = explicit[0]
        return
    if all("unit_price" in ln.fields for ln in lines):
        priced = [ln.fields for ln in lines if "quantity" in ln.fields]  # else a problem already
        total = sum((Decimal(f["unit_price"]) * f["quantity"] for f in priced), Decimal(0))
        group.fields["total_amount"] = str(cents(total))
    else:
        message = f"the extension {EXT_TOTAL_AMOUNT} or a unit price on every line is required"
        group.fail("required", message, "extension")
