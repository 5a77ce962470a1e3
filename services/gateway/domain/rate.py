"""How fast a member system may send: a token bucket per system.

Each request takes a token; tokens come back at the configured rate per minute, up to the
burst. The bucket lives in the process (a second process of the gateway gives a system its
own bucket there): it protects the gateway and the suite from a runaway interface engine,
it is not billing.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TokenBucket"]


@dataclass
class TokenBucket:
    per_minute: int
    burst: int
    tokens: float = -1.0
    updated: float = 0.0

    def take(self, now: float) -> float:
        """0 when a request may go ahead now; else how many seconds until it may."""
        if self.tokens < 0:
            self.tokens, self.updated = float(self.burst), now
        rate = self.per_minute / 60.0
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / rate if rate > 0 else 60.0
