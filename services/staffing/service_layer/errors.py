"""What the staffing use cases refuse, and why; the admin API maps each kind to a status."""

from __future__ import annotations

from typing import Any

from services.staffing.domain.rules import Violation

__all__ = [
    "Conflict",
    "Invalid",
    "NotFound",
    "RulesViolated",
    "StaffingError",
    "UnknownReference",
]


class StaffingError(Exception):
    """A refusal with a stable ``code`` and a message a person can act on."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotFound(StaffingError):
    """The record addressed does not exist (404)."""


class UnknownReference(StaffingError):
    """The request names a record that does not exist (422): an unknown staff member,
    facility, department or position."""


class Invalid(StaffingError):
    """The request cannot make sense whatever the state (422)."""


class Conflict(StaffingError):
    """The request is fine but the current state refuses it (409)."""


class RulesViolated(StaffingError):
    """The change breaks one or more scheduling rules (409); every violation is listed."""

    def __init__(self, violations: list[Violation]) -> None:
        rules = sorted({v.rule.value for v in violations})
        first = violations[0].message if violations else "rule violated"
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        super().__init__(
            "rule_violated",
            f"{first}{more}",
            {"rules": rules, "violations": [v.as_dict() for v in violations]},
        )
        self.violations = violations
