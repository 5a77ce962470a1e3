"""The code lists a referral is described with: reasons to refer, decline and withdraw.

Free text never leaves the referral service; events and other services see these codes
(and ICD-10 diagnosis codes). The lists are local policy in ``infra/referral/codes.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from libs.events.catalogue.values import ReferralDirection

__all__ = ["ReferralCodes", "UnknownCode", "parse_codes"]

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class UnknownCode(Exception):
    """A code that is not on its list; ``field`` names the input."""

    def __init__(self, field: str, allowed: list[str]) -> None:
        super().__init__(f"{field} is not a known code; known: {', '.join(allowed)}")
        self.field = field
        self.allowed = allowed


@dataclass(frozen=True)
class ReferralCodes:
    """Code → display name, per list."""

    request_reasons: Mapping[ReferralDirection, Mapping[str, str]]
    rejection_reasons: Mapping[str, str]
    cancellation_reasons: Mapping[str, str]

    def check_request_reason(self, direction: ReferralDirection, code: str) -> None:
        _check("reason_code", code, self.request_reasons[direction])

    def check_rejection_reason(self, code: str) -> None:
        _check("reason_code", code, self.rejection_reasons)

    def check_cancellation_reason(self, code: str) -> None:
        _check("reason_code", code, self.cancellation_reasons)

    def display(self, code: str) -> str:
        """The display name of ``code`` on any list (the code itself if none has it)."""
        for table in (*self.request_reasons.values(), self.rejection_reasons):
            if code in table:
                return table[code]
        return self.cancellation_reasons.get(code, code)


def _check(field: str, code: str, table: Mapping[str, str]) -> None:
    if code not in table:
        raise UnknownCode(field, sorted(table))


def _table(doc: Mapping[str, Any], name: str) -> dict[str, str]:
    table = doc.get(name)
    if not isinstance(table, Mapping) or not table:
        raise ValueError(f"the code list {name} is missing or empty")
    for code in table:
        if not _CODE.match(str(code)):
            raise ValueError(f"{name}: {code!r} is not a lower-case code")
    return {str(k): str(v) for k, v in table.items()}


def parse_codes(doc: Mapping[str, Any]) -> ReferralCodes:
    """Validate the code-list document."""
    reasons = doc.get("request_reasons") or {}
    return ReferralCodes(
        request_reasons={d: _table(reasons, d.value) for d in ReferralDirection},
        rejection_reasons=_table(doc, "rejection_reasons"),
        cancellation_reasons=_table(doc, "cancellation_reasons"),
    )
