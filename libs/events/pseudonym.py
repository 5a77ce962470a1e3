"""Patient pseudonyms: the only way a patient appears in an event.

A pseudonym is HMAC-SHA256 of the normalised national id under the county's secret key.
Every hospital information system and the referral service compute it the same way, so one
patient's visits, prescriptions and referrals link up without anyone outside holding the key
being able to reverse or recompute it.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["DEVELOPMENT_PSEUDONYM_SECRET", "pseudonymise"]

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
