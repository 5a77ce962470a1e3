"""Signing in and out, and the session behind every page.

The browser holds a random token in an HttpOnly cookie; the console keeps only its SHA-256
digest, so its table cannot be replayed. Each session has its own form token (CSRF) that
every form sends back. Every attempt is logged, and the limits count the failures since
the account's last success."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from libs.platform.auth import Role
from services.console.adapters.schema import SessionRow
from services.console.domain.sign_in import SessionTerms, SignInLimits, refusal
from services.console.service_layer.unit_of_work import ConsoleUnitOfWork

__all__ = ["SignInRefused", "SignedIn", "current", "sign_in", "sign_out"]

WRONG = "用户名或密码错误"


class SignInRefused(Exception):
    """Why a sign-in failed, in words for the person (never which half was wrong)."""


@dataclass(frozen=True)
class SignedIn:
    username: str
    display_name: str
    role: Role
    facility_id: str | None
    csrf_token: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(
    uow: ConsoleUnitOfWork,
    username: str,
    password: str,
    *,
    client: str,
    limits: SignInLimits,
    now: datetime,
) -> str:
    """A new session's cookie token; :class:`SignInRefused` otherwise (the attempt logged)."""
    username = username.strip().lower()[:64]
    with uow:
        outcome, why = _judged(uow, username, password, client=client, limits=limits, now=now)
        uow.sign_ins.record(username, client, outcome, now)
        row = uow.accounts.get(username)
        if why is not None or row is None:
            uow.commit()
            raise SignInRefused(why or WRONG)
        if uow.passwords.needs_rehash(row.password_hash):
            row.password_hash = uow.passwords.hash(password)
        token = secrets.token_urlsafe(32)
        uow.sessions.add(
            SessionRow(
                digest=digest(token),
                username=username,
                csrf_token=secrets.token_urlsafe(32),
                client=client[:64],
                created_at=now,
                last_seen_at=now,
                ended_at=None,
            )
        )
        uow.commit()
    return token


def _judged(
    uow: ConsoleUnitOfWork, username: str, password: str, *,
    client: str, limits: SignInLimits, now: datetime,
) -> tuple[str, str | None]:  # fmt: skip
    """The attempt's outcome for the log, and why it is refused (None: it signs in). The
    limits count failures since the account's last success, within the window."""
    since = now - limits.window
    last = uow.sign_ins.last_success(username)
    account_since = max(since, _aware(last, now)) if last is not None else since
    why = refusal(
        limits,
        account_failures=uow.sign_ins.failures_since(account_since, username=username),
        client_failures=uow.sign_ins.failures_since(since, client=client),
    )
    if why is not None:
        return "locked", why  # the password is not even tried
    row = uow.accounts.get(username)
    if not uow.passwords.verify(row.password_hash if row else None, password):
        return "refused", WRONG
    if row is not None and not row.active:
        return "disabled", "该账户已停用，请联系医共体管理中心"
    return "signed_in", None


def current(
    uow: ConsoleUnitOfWork, token: str, *, terms: SessionTerms, now: datetime
) -> SignedIn | None:
    """The person behind a cookie, while the session lives and the account is active."""
    with uow:
        row = uow.sessions.get(digest(token))
        if row is None:
            return None
        account = uow.accounts.get(row.username)
        alive = terms.live(
            created_at=_aware(row.created_at, now),
            last_seen_at=_aware(row.last_seen_at, now),
            now=now,
        )
        if account is None or not account.active or not alive:
            row.ended_at = now
            uow.commit()
            return None
        row.last_seen_at = now
        uow.commit()
        return SignedIn(
            account.username,
            account.display_name,
            Role(account.role),
            account.facility_id,
            row.csrf_token,
        )


def sign_out(uow: ConsoleUnitOfWork, token: str, *, now: datetime) -> None:
    with uow:
        row = uow.sessions.get(digest(token))
        if row is not None:
            row.ended_at = now
            uow.commit()


def _aware(instant: datetime, like: datetime) -> datetime:
    """SQLite hands stored instants back naive (they were stored in UTC)."""
    return instant.replace(tzinfo=like.tzinfo) if instant.tzinfo is None else instant
