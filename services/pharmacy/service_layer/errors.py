"""What a pharmacy use case refuses: the suite's refusal kinds (libs/platform/refusals.py),
which the admin app maps to statuses and the consumers to dead letters."""

from libs.platform.refusals import Conflict, Invalid, NotFound, Refusal

__all__ = ["Conflict", "Invalid", "NotFound", "PharmacyError"]

#: Any refusal of a pharmacy use case.
PharmacyError = Refusal
