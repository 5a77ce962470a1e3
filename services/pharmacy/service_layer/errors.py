"""What a pharmacy use case refuses, with a stable code; the admin API maps each to a status."""

from __future__ import annotations

from typing import Any

__all__ = ["Conflict", "Invalid", "NotFound", "PharmacyError"]


class PharmacyError(Exception):
    """A refusal the caller can act on: ``code`` is stable, ``message`` says why."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotFound(PharmacyError):
    """The addressed thing (drug, facility, transfer) does not exist here."""


class Invalid(PharmacyError):
    """The request names something it may not (an unknown drug, a drug the tier may not hold,
    quantities that do not fit)."""


class Conflict(PharmacyError):
    """The request is valid but the current state refuses it (not enough stock, a transfer
    already shipped, a delisted drug)."""
