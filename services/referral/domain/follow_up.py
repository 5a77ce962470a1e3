"""Booking a downward referral's follow-up onto a visiting specialist's session at the clinic.

The staffing service publishes each clinic's week of expert sessions (专家坐诊); the referral
service keeps the upcoming ones and books the earliest session of the plan's specialty that
falls inside the plan's window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from libs.events.catalogue.values import HalfDay

__all__ = ["SpecialistSession", "pick_session", "specialty_key"]

_HALF_DAY_ORDER = {HalfDay.MORNING: 0, HalfDay.AFTERNOON: 1}


def specialty_key(specialty: str) -> str:
    """Specialties match case- and space-insensitively (``Cardiology`` = ``cardiology ``)."""
    return " ".join(specialty.split()).casefold()


@dataclass(frozen=True)
class SpecialistSession:
    session_id: str
    day: date
    half_day: HalfDay
    specialty: str


def pick_session(
    sessions: Iterable[SpecialistSession], *, specialty: str, after: date, until: date
) -> SpecialistSession | None:
    """The earliest session of ``specialty`` strictly after ``after`` and on or before
    ``until`` (mornings before afternoons, then by id so the choice is deterministic)."""
    wanted = specialty_key(specialty)
    candidates = [
        s for s in sessions if specialty_key(s.specialty) == wanted and after < s.day <= until
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda s: (s.day, _HALF_DAY_ORDER[s.half_day], s.session_id))
