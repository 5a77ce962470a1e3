"""Why a use case refused; the admin API turns each into its HTTP status."""

from __future__ import annotations

from dataclasses import dataclass

from services.referral.domain.lifecycle import InvalidTransition

__all__ = [
    "Actor",
    "CapacityFull",
    "InvalidTransition",
    "NotAParty",
    "ReferralNotFound",
    "RuleViolation",
]


@dataclass(frozen=True)
class Actor:
    """Who acts: a token's subject and the facility it acts for (None: the whole county)."""

    subject: str
    facility_id: str | None

    def acts_for(self, facility_id: str) -> bool:
        return self.facility_id is None or self.facility_id == facility_id


SYSTEM = Actor(subject="system", facility_id=None)


class ReferralNotFound(LookupError):
    """404."""


class NotAParty(PermissionError):
    """403: the caller's facility is not the one that may see or do this."""


class CapacityFull(Exception):
    """409: no free slot or bed where one is needed."""


class RuleViolation(ValueError):
    """422: an unknown code or a broken referral rule; ``code`` is stable for clients."""

    def __init__(self, code: str, message: str, details: object = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
