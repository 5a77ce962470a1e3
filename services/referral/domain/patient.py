"""The patient as the referral service holds them: a name and a resident identity number
that never leave this service, and the pseudonym that does.

Values here are personal data: nothing in this module puts them into an exception message,
a ``repr`` or a log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from libs.events.pseudonym import is_resident_id, normalise_resident_id

__all__ = ["PatientIdentity", "is_resident_id", "mask_resident_id", "normalise_resident_id"]


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
