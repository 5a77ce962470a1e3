"""The member systems that connect through the gateway, and the rules of their connection:
whose facility a system speaks for, when it is expected to send, how much it may send.

A system's secret is a random token the county issued: it is kept only as a salted SHA-256
digest (a token of 32 random bytes cannot be guessed from it, so a slow password hash would
cost every request and buy nothing).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

__all__ = [
    "OpeningHours",
    "SystemFormat",
    "SystemKind",
    "SystemRules",
    "digest_secret",
    "new_secret",
    "secret_matches",
]


class SystemKind(StrEnum):
    HIS = "his"  # hospital information system: visits, prescriptions, orders
    LIS = "lis"  # laboratory: results
    PACS = "pacs"  # imaging: results


class SystemFormat(StrEnum):
    FHIR = "fhir"  # FHIR R4 bundles
    JSON = "json"  # the catalogue's payloads


@dataclass(frozen=True)
class OpeningHours:
    """When a facility's feed is expected: daily periods in county time, ``"08:00-12:00"``;
    ``"00:00-24:00"`` is day and night."""

    periods: tuple[tuple[time, time | None], ...]
    """``(start, end)``; an end of ``None`` is midnight at the end of the day."""

    @classmethod
    def parse(cls, periods: list[str]) -> OpeningHours:
        parsed: list[tuple[time, time | None]] = []
        for text in periods:
            start_text, sep, end_text = text.partition("-")
            if not sep:
                raise ValueError(f"opening period {text!r} is not HH:MM-HH:MM")
            start = time.fromisoformat(start_text.strip())
            end = None if end_text.strip() == "24:00" else time.fromisoformat(end_text.strip())
            if end is not None and end <= start:
                raise ValueError(f"opening period {text!r} ends before it starts")
            parsed.append((start, end))
        return cls(tuple(sorted(parsed, key=lambda p: p[0])))

    def as_text(self) -> list[str]:
        return [
            f"{s:%H:%M}-{'24:00' if e is None else format(e, '%H:%M')}" for s, e in self.periods
        ]

    def open_since(self, local: datetime) -> datetime | None:
        """When the period holding ``local`` (a county-time instant) opened, or ``None`` when
        the facility is closed then."""
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        for start, end in self.periods:
            opened = day.replace(hour=start.hour, minute=start.minute)
            closes = (
                day + timedelta(days=1)
                if end is None
                else day.replace(hour=end.hour, minute=end.minute)
            )
            if opened <= local < closes:
                return opened
        return None


@dataclass(frozen=True)
class SystemRules:
    """What the county configured for one member system."""

    system_id: str
    facility_id: str
    kind: SystemKind
    format: SystemFormat
    product: str
    opening_hours: OpeningHours
    silent_after: timedelta
    requests_per_minute: int
    burst: int
    max_request_bytes: int


def new_secret() -> str:
    """A fresh secret for a member system (shown once, never stored)."""
    return secrets.token_urlsafe(32)


def digest_secret(secret: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def secret_matches(secret: str, salt: str, digest: str) -> bool:
    return hmac.compare_digest(digest_secret(secret, salt), digest)
