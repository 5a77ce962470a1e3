"""What a use case refuses, in one hierarchy for every service: a stable ``code``, a message a
person can act on, optional ``details``, and the kind of refusal.

The admin app maps the kind to an HTTP status in one exception handler
(``libs/platform/http/errors.py``), with the one JSON error shape; a refusal raised while
applying an event is a :class:`~libs.events.retry.PermanentError`, so the event is
dead-lettered at once with the refusal's code as its reason. Services subclass the kinds for
refusals of their own (staffing's ``RulesViolated`` is a :class:`Conflict`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from libs.events.retry import PermanentError

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "Refusal"]


class Refusal(PermanentError):
    """A request the use case will not carry out as it is."""

    status: ClassVar[int] = 400

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.details = details


class NotFound(Refusal):
    """The thing addressed does not exist here (404)."""

    status = 404


class Forbidden(Refusal):
    """The caller may not do this to this thing, e.g. not a party to it (403)."""

    status = 403


class Invalid(Refusal):
    """The request cannot make sense whatever the state: it names something it may not, or
    quantities that do not fit (422)."""

    status = 422


class Conflict(Refusal):
    """The request is valid but the current state refuses it: not enough stock, a step
    already taken, a closed period (409)."""

    status = 409
