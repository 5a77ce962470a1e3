"""What a member system sends, once translated from its format: one message per fact, and
the problems that keep a message from becoming an event.

Both entries (FHIR bundles and the catalogue's JSON) translate into these, so everything
after translation — the facility scope, pseudonymisation, the catalogue's schema, the
idempotency rules — is decided once (service_layer/ingest.py).

A message holds the patient's national id until the gateway pseudonymises it: nothing here
may put a field's value into a problem, a ``repr`` or a log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["NATIONAL_ID_FIELD", "Accepted", "Message", "Problem", "Refused"]

#: The field in which a member sends the patient's resident identity number; the gateway
#: replaces it by ``patient_pseudonym`` and nothing else ever sees it.
NATIONAL_ID_FIELD = "patient_national_id"


@dataclass(frozen=True)
class Problem:
    """One reason a message cannot be accepted.

    ``code`` is short and stable (``required``, ``invalid``, ``code_invalid``,
    ``not_supported``, ``forbidden``, ``conflict``, ``schema_violation`` …); ``location`` names
    the element (a FHIRPath such as ``Bundle.entry[1].resource.status``, or a JSON path such as
    ``messages[0].data.lines[2].quantity``); ``message`` says what is wrong and never repeats
    the value sent.
    """

    code: str
    message: str
    location: str | None = None


@dataclass(frozen=True)
class Message:
    """One fact a member system asks the gateway to publish.

    ``message_id`` is the system's own id for it (the idempotency key); ``event_type`` a
    catalogue ingestion type; ``fields`` the payload's fields as sent (JSON values), with the
    patient as :data:`NATIONAL_ID_FIELD` and ``facility_tier`` left for the gateway to fill from
    its copy of the organisation. ``location`` is where the message sits in the request, to
    prefix the problems found later.
    """

    message_id: str
    event_type: str
    fields: dict[str, Any] = field(repr=False)
    location: str = ""


class Refused(Exception):
    """A message the gateway will not publish, with every reason found."""

    def __init__(self, status: int, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.code for p in problems))
        self.status = status
        self.problems = problems


@dataclass(frozen=True)
class Accepted:
    """A message the gateway published as ``event_id`` (now, or the first time it was sent:
    then ``replayed`` is true and nothing new was published)."""

    event_id: str
    event_type: str
    replayed: bool = False
