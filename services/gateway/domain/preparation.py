"""From a member's message to a catalogue payload: the edge's rules, decided once for both
formats.

A system speaks only for its own facility; the patient arrives as a resident identity number
and leaves as the county's pseudonym; the facility's tier is the county's, not the sender's;
the payload must be what the catalogue says. Every problem found is reported at once, and
none of them repeats a value the member sent.

Prescriptions come in two versions: a message that names its prescriber (or says anything
only ``.v2`` can carry: the patient's age band, pregnancy, the shared pharmacy) is published
as ``ingestion.prescription.issued.v2``, one that does not as ``.v1``, whichever of the two
it was sent as — so an interface engine that never learnt of ``.v2`` keeps working, and one
that sends the prescriber gets the central review's age and pregnancy rules. A message sent
as ``.v2`` must be a whole ``.v2`` (its prescriber is required).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from libs.events.payload import Payload
from libs.events.provenance import EDGE_PRODUCER
from libs.events.pseudonym import is_resident_id
from libs.events.registry import EventSpec, registry
from services.gateway.domain.messages import NATIONAL_ID_FIELD, Message, Problem, Refused
from services.gateway.domain.systems import SystemRules

__all__ = [
    "PRESCRIPTION_V1",
    "PRESCRIPTION_V2",
    "ingestion_spec",
    "prepare",
    "published_type",
    "schema_problems",
]

PRESCRIPTION_V1 = "ingestion.prescription.issued.v1"
PRESCRIPTION_V2 = "ingestion.prescription.issued.v2"


def ingestion_spec(message: Message) -> EventSpec:
    """The catalogue's ingestion type the message names, or a refusal."""
    if message.event_type in registry:
        spec = registry.by_type(message.event_type)
        if spec.producer == EDGE_PRODUCER:
            return spec
    known = ", ".join(sorted(s.type for s in registry if s.producer == EDGE_PRODUCER))
    problem = Problem(
        "not_supported",
        f"{message.event_type[:100]!r} is not an ingestion event type; send one of {known}",
        _at(message, "type"),
    )
    raise Refused(422, [problem])


def prepare(
    message: Message,
    system: SystemRules,
    *,
    facility_tier: str | None,
    pseudonymise: Callable[[str], str],
) -> Payload:
    """The payload to publish for ``message`` from ``system``, or :class:`Refused` (403 for
    another facility's message, 422 for everything else, with every problem)."""
    fields: dict[str, Any] = dict(message.fields)
    spec = registry.by_type(published_type(ingestion_spec(message).type, fields))
    if fields.get("facility_id") != system.facility_id:
        reason = f"system {system.system_id} submits only for facility {system.facility_id}"
        raise Refused(403, [Problem("forbidden", reason, _at(message, "facility_id"))])
    problems = _patient(message, fields, pseudonymise)
    if facility_tier is None:
        problems.append(
            Problem(
                "unknown_facility",
                f"facility {system.facility_id} is not (or no longer) a member of the county",
                _at(message, "facility_id"),
            )
        )
    elif fields.get("facility_tier", facility_tier) != facility_tier:
        problems.append(
            Problem(
                "invalid",
                f"the county's organisation has facility {system.facility_id} as "
                f"{facility_tier}; leave facility_tier out or send that",
                _at(message, "facility_tier"),
            )
        )
    fields["facility_tier"] = facility_tier
    try:
        payload = spec.payload.model_validate(fields)
    except ValidationError as exc:
        problems += schema_problems(exc, message)
    if problems:
        raise Refused(422, problems)
    return payload


def published_type(event_type: str, fields: dict[str, Any]) -> str:
    """The type a message is published as: a ``.v1`` prescription that names its prescriber
    or carries what only ``.v2`` says is a ``.v2`` one; everything else as sent."""
    if event_type != PRESCRIPTION_V1:
        return event_type
    v2_only = set(registry.by_type(PRESCRIPTION_V2).payload.model_fields) - set(
        registry.by_type(PRESCRIPTION_V1).payload.model_fields
    )
    says_more = any(fields.get(name) is not None for name in v2_only | {"prescriber_id"})
    return PRESCRIPTION_V2 if says_more else PRESCRIPTION_V1


def _patient(
    message: Message, fields: dict[str, Any], pseudonymise: Callable[[str], str]
) -> list[Problem]:
    """Replace the national id by its pseudonym (in ``fields``); the problems with it."""
    national_id = fields.pop(NATIONAL_ID_FIELD, None)
    if "patient_pseudonym" in fields:
        fields.pop("patient_pseudonym")
        return [
            Problem(
                "not_supported",
                f"send the patient's resident identity number as {NATIONAL_ID_FIELD}: "
                "the gateway computes the pseudonym with the county's key",
                _at(message, "patient_pseudonym"),
            )
        ]
    if national_id is None:
        return [
            Problem("required", f"{NATIONAL_ID_FIELD} is required", _at(message, NATIONAL_ID_FIELD))
        ]
    if not isinstance(national_id, str) or not is_resident_id(national_id):
        return [
            Problem(
                "invalid",
                "not a valid 18-character resident identity number (GB 11643: date, check digit)",
                _at(message, NATIONAL_ID_FIELD),
            )
        ]
    fields["patient_pseudonym"] = pseudonymise(national_id)
    return []


def schema_problems(exc: ValidationError, message: Message) -> list[Problem]:
    """The catalogue schema's complaints, located, without the values sent (pydantic's
    messages can quote the input, so only its message template's own words are kept)."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        path = ".".join(str(part) for part in error["loc"])
        problems.append(
            Problem(
                "schema_violation",
                _message_of(error),
                _at(message, path) if path else (message.location or None),
            )
        )
    return problems


def _message_of(error: Any) -> str:
    text = str(error.get("msg", "invalid"))
    if error.get("type") == "value_error":
        return text.removeprefix("Value error, ")
    return text[:300]


def _at(message: Message, path: str) -> str:
    return f"{message.location}.{path}" if message.location else path
