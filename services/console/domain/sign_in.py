"""When a sign-in may be tried, and how long a signed-in session lives.

Guessing is slowed twice: an account that failed too often within the window is locked
until the window has passed over its failures, and so is an address that failed too often
across accounts (one person trying many names)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["SessionTerms", "SignInLimits", "refusal"]


@dataclass(frozen=True)
class SignInLimits:
    per_account: int
    per_client: int
    window: timedelta


def refusal(limits: SignInLimits, *, account_failures: int, client_failures: int) -> str | None:
    """Why a sign-in may not even be tried now (中文), or ``None``. The failures are those
    within the window."""
    minutes = int(limits.window.total_seconds() // 60)
    if account_failures >= limits.per_account:
        return f"该账户连续登录失败次数过多，请 {minutes} 分钟后再试"
    if client_failures >= limits.per_client:
        return f"本机登录失败次数过多，请 {minutes} 分钟后再试"
    return None


@dataclass(frozen=True)
class SessionTerms:
    idle: timedelta
    absolute: timedelta

    def live(self, *, created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
        """Whether a session is still good: used recently, and not older than a shift."""
        return now - last_seen_at < self.idle and now - created_at < self.absolute
