"""The console's tables (branch ``console``): its accounts, their sessions, every sign-in
attempt and every change an administrator made to an account. Nothing else: what a board
shows is always read from the service that owns it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Boolean, DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.directory import DIRECTORY_VERSIONS, DirectoryBase
from libs.events.tables import delivery_metadata
from libs.platform.migrations import DELIVERY_VERSIONS, MigrationPlan

_Instant = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData()


class AccountRow(Base):
    """A person who signs in; the password only as its Argon2id hash."""

    __tablename__ = "accounts"

    username: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(32))
    facility_id: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(_Instant)
    password_changed_at: Mapped[datetime] = mapped_column(_Instant)


class SessionRow(Base):
    """A signed-in browser: the cookie's digest (never the cookie) and its form token."""

    __tablename__ = "console_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(32), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(_Instant)
    last_seen_at: Mapped[datetime] = mapped_column(_Instant)
    ended_at: Mapped[datetime | None] = mapped_column(_Instant)


class SignInAttempt(Base):
    """One sign-in tried: by which name, from where, and how it ended (the audit, and what
    the limits count)."""

    __tablename__ = "sign_in_attempts"

    attempt_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(_Instant, index=True)


class AccountChange(Base):
    """An administrator's change to an account: who, what and when (never a password)."""

    __tablename__ = "account_changes"

    change_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(32), index=True)
    changed_by: Mapped[str] = mapped_column(String(64))
    change: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(_Instant)


MIGRATIONS = MigrationPlan(
    service="console",
    versions=Path(__file__).resolve().parents[1] / "migrations",
    metadata=(Base.metadata, delivery_metadata, DirectoryBase.metadata),
    shared_versions=(DELIVERY_VERSIONS, DIRECTORY_VERSIONS),
)
