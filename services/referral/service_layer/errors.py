"""Why a referral use case refused: the suite's refusal kinds (libs/platform/refusals.py),
which the admin app answers with their status and the one error shape."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from libs.platform.refusals import Conflict, Forbidden, Invalid, NotFound
from services.referral.domain.codes import UnknownCode
from services.referral.domain.lifecycle import InvalidTransition
from services.referral.domain.rules import ReferralRuleError

__all__ = [
    "Actor",
    "CapacityFull",
    "InvalidTransition",
    "NotAParty",
    "ReferralNotFound",
    "RefusedTransition",
    "RuleViolation",
    "rule_refusals",
]


@dataclass(frozen=True)
class Actor:
    """Who acts: a token's subject and the facility it acts for (None: the whole county)."""

    subject: str
    facility_id: str | None

    def acts_for(self, facility_id: str) -> bool:
        return self.facility_id is None or self.facility_id == facility_id


SYSTEM = Actor(subject="system", facility_id=None)


class ReferralNotFound(NotFound):
    def __init__(self, message: str) -> None:
        super().__init__("not_found", message)


class NotAParty(Forbidden):
    """The caller's facility is not the one that may see or do this."""

    def __init__(self, message: str) -> None:
        super().__init__("forbidden", message)


class CapacityFull(Conflict):
    """No free slot or bed where one is needed."""

    def __init__(self, message: str) -> None:
        super().__init__("capacity_full", message)


class RuleViolation(Invalid):
    """An unknown code or a broken referral rule; ``code`` is stable for clients."""


@contextmanager
def rule_refusals() -> Iterator[None]:
    """The domain's broken rules and unknown codes, as :class:`RuleViolation` refusals."""
    try:
        yield
    except ReferralRuleError as exc:
        raise RuleViolation(exc.code, exc.message) from None
    except UnknownCode as exc:
        raise RuleViolation(
            "unknown_code", str(exc), {"field": exc.field, "known": exc.allowed}
        ) from None


class RefusedTransition(Conflict):
    """An action the referral's current state does not admit (the domain's
    :class:`InvalidTransition`, as a refusal naming what is allowed)."""

    def __init__(self, refused: InvalidTransition) -> None:
        super().__init__(
            "invalid_transition",
            str(refused),
            {
                "state": refused.state.value,
                "action": refused.action.value,
                "allowed": [a.value for a in refused.allowed],
            },
        )
