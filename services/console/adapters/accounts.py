"""Where accounts, sessions and the sign-in log are kept (the console's own tables)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.console.adapters.schema import AccountChange, AccountRow, SessionRow, SignInAttempt

__all__ = ["AccountBook", "SessionBook", "SignInLog"]


class AccountBook:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, username: str) -> AccountRow | None:
        return self.session.get(AccountRow, username)

    def add(self, row: AccountRow) -> None:
        self.session.add(row)

    def all(self) -> list[AccountRow]:
        return list(self.session.scalars(select(AccountRow).order_by(AccountRow.username)))

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(AccountRow)) or 0)

    def record_change(self, username: str, by: str, change: str, at: datetime) -> None:
        self.session.add(AccountChange(username=username, changed_by=by, change=change, at=at))

    def changes(self, limit: int = 50) -> list[AccountChange]:
        query = select(AccountChange).order_by(AccountChange.change_id.desc()).limit(limit)
        return list(self.session.scalars(query))


class SessionBook:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: SessionRow) -> None:
        self.session.add(row)

    def get(self, digest: str) -> SessionRow | None:
        row = self.session.get(SessionRow, digest)
        return row if row is not None and row.ended_at is None else None

    def end_all_of(self, username: str, at: datetime) -> None:
        query = select(SessionRow).where(
            SessionRow.username == username, SessionRow.ended_at.is_(None)
        )
        for row in self.session.scalars(query):
            row.ended_at = at


class SignInLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, username: str, client: str, outcome: str, at: datetime) -> None:
        self.session.add(
            SignInAttempt(username=username[:64], client=client[:64], outcome=outcome, at=at)
        )

    def failures_since(
        self, since: datetime, *, username: str | None = None, client: str | None = None
    ) -> int:
        query = (
            select(func.count())
            .select_from(SignInAttempt)
            .where(SignInAttempt.at >= since, SignInAttempt.outcome != "signed_in")
        )
        if username is not None:
            query = query.where(SignInAttempt.username == username)
        if client is not None:
            query = query.where(SignInAttempt.client == client)
        return int(self.session.scalar(query) or 0)

    def last_success(self, username: str) -> datetime | None:
        query = select(func.max(SignInAttempt.at)).where(
            SignInAttempt.username == username, SignInAttempt.outcome == "signed_in"
        )
        return self.session.scalar(query)

    def recent(self, limit: int = 50) -> list[SignInAttempt]:
        query = select(SignInAttempt).order_by(SignInAttempt.attempt_id.desc()).limit(limit)
        return list(self.session.scalars(query))
