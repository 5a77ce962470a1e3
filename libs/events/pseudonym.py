"""Patient pseudonyms: the only way a patient appears in an event.

A pseudonym is HMAC-SHA256 of the normalised national id under the county's secret key.
Every hospital information system and the referral service compute it the same way, so one
patient's visits, prescriptions and referrals link up without anyone outside holding the key
being able to reverse or recompute it.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

__all__ = [
    "DEVELOPMENT_PSEUDONYM_SECRET",
    "is_resident_id",
    "normalise_resident_id",
    "pseudonymise",
]

# GB 11643-1999: 17 digits (area, birth date, sequence) and an ISO 7064 MOD 11-2 check digit.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

#: DEVELOPMENT ONLY: the key used when ``PSEUDONYM_SECRET`` is unset outside production, so
#: that every local service, simulator and test computes the same, stable pseudonyms.
#: Production refuses to start without the real county secret. Never use it for real patients.
DEVELOPMENT_PSEUDONYM_SECRET = b"DEVELOPMENT-ONLY-pseudonym-secret-not-for-real-patients"


def pseudonymise(national_id: str, secret: bytes) -> str:
    """The 64-hex-digit pseudonym of ``national_id`` under ``secret``."""
    if len(secret) < 16:
        raise ValueError("the pseudonym secret must be at least 16 bytes")
    normalised = national_id.strip().upper().encode("utf-8")
    return hmac.new(secret, normalised, hashlib.sha256).hexdigest()


def normalise_resident_id(value: str) -> str:
    return value.strip().upper()


def is_resident_id(value: str) -> bool:
    """Whether ``value`` is a well-formed 18-character resident identity number (居民身份证号码)."""
    number = normalise_resident_id(value)
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    checksum = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True)) % 11
    return number[17] == _CHECK[checksum]
