"""The patient as the referral service holds them: a name and a resident identity number
that never leave this service, and the pseudonym that does.

Values here are personal data: nothing in this module puts them into an exception message,
a ``repr`` or a log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

__all__ = ["PatientIdentity", "is_resident_id", "mask_resident_id", "normalise_resident_id"]

# GB 11643-1999: 17 digits (area, birth date, sequence) and an ISO 7064 MOD 11-2 check digit.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def normalise_resident_id(value: str) -> str:
    return value.strip().upper()


def is_resident_id(value: str) -> bool:
    """Whether ``value`` is a well-formed 18-character resident identity number."""
    number = normalise_resident_id(value)
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    checksum = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True)) % 11
    return number[17] == _CHECK[checksum]


def mask_resident_id(value: str) -> str:
    """Enough of the number for staff to tell patients apart on a list: ``110101********451X``."""
    number = normalise_resident_id(value)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


@dataclass(frozen=True)
class PatientIdentity:
    """A patient's name and resident identity number; its ``repr`` shows neither."""

    name: str = field(repr=False)
    national_id: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("the patient's name is empty")
        if not is_resident_id(self.national_id):
            raise ValueError("the national id is not a valid resident identity number")
        object.__setattr__(self, "national_id", normalise_resident_id(self.national_id))
        object.__setattr__(self, "name", self.name.strip())
