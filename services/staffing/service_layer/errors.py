"""What the staffing use cases refuse, and why: the suite's refusal kinds
(libs/platform/refusals.py) and two of staffing's own."""

from __future__ import annotations

from libs.platform.refusals import Conflict, Invalid, NotFound, Refusal
from services.staffing.domain.rules import Violation

__all__ = [
    "Conflict",
    "Invalid",
    "NotFound",
    "RulesViolated",
    "StaffingError",
    "UnknownReference",
]


#: Any refusal of a staffing use case.
StaffingError = Refusal


class UnknownReference(Invalid):
    """The request names a record that does not exist (422): an unknown staff member,
    facility, department or position."""


class RulesViolated(Conflict):
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
