"""Who is calling the ingestion endpoints: a member system, by its credential.

A system authenticates with HTTP Basic (``system id:secret``) or ``X-Api-Key: system
id:secret``. A verified credential is remembered for a minute, so a busy feed costs no
database read per request (a new secret takes effect in other processes within that
minute). Each system has its own request rate, and each client address a small allowance of
failed attempts, so guessing secrets is slow and costs the database nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from services.gateway.domain.rate import TokenBucket
from services.gateway.domain.systems import SystemRules

__all__ = ["Credential", "SystemGate", "parse_credential"]

Credential = tuple[str, str]
#: How long a verified credential is trusted without asking the database again.
VERIFIED_FOR_S = 60.0
#: Failed authentications allowed per client address: a burst, then this many a minute.
FAILURES_BURST, FAILURES_PER_MINUTE = 20, 10


def parse_credential(authorization: str | None, api_key: str | None) -> Credential | None:
    """``(system id, secret)`` from the request's headers, or ``None``."""
    text: str | None = None
    if authorization and authorization[:6].lower() == "basic ":
        try:
            text = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
    elif api_key:
        text = api_key.strip()
    if not text or ":" not in text:
        return None
    system_id, _, secret = text.partition(":")
    if not system_id or not secret or len(system_id) > 64 or len(secret) > 200:
        return None
    return system_id, secret


class SystemGate:
    """The process's memory of verified systems and of request rates."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._verified: OrderedDict[tuple[str, str], tuple[SystemRules, float]] = OrderedDict()
        self._rates: dict[str, TokenBucket] = {}
        self._failures: OrderedDict[str, TokenBucket] = OrderedDict()
        self._max_keys = max_keys

    def recognise(
        self, credential: Credential, verify: Callable[[str, str], SystemRules | None]
    ) -> SystemRules | None:
        system_id, secret = credential
        key = (system_id, hashlib.sha256(secret.encode()).hexdigest())
        now = time.monotonic()
        with self._lock:
            known = self._verified.get(key)
            if known is not None and known[1] > now:
                return known[0]
        rules = verify(system_id, secret)
        if rules is not None:
            with self._lock:
                self._verified[key] = (rules, now + VERIFIED_FOR_S)
                while len(self._verified) > self._max_keys:
                    self._verified.popitem(last=False)
        return rules

    def wait_for(self, rules: SystemRules) -> float:
        """0 if the system may send now, else the seconds until it may."""
        with self._lock:
            bucket = self._rates.get(rules.system_id)
            if bucket is None or bucket.per_minute != rules.requests_per_minute:
                bucket = TokenBucket(rules.requests_per_minute, rules.burst)
                self._rates[rules.system_id] = bucket
            return bucket.take(time.monotonic())

    def failed(self, client: str) -> float:
        """Count a failed authentication from ``client``; the wait it has earned."""
        with self._lock:
            bucket = self._failures.pop(client, None) or TokenBucket(
                FAILURES_PER_MINUTE, FAILURES_BURST
            )
            self._failures[client] = bucket
            while len(self._failures) > self._max_keys:
                self._failures.popitem(last=False)
            return bucket.take(time.monotonic())
