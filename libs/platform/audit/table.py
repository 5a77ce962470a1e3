"""The admin API's own tables (branch ``audit`` in every service database): the audit trail
and the idempotency keys of creates (libs/platform/http/idempotency.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, LargeBinary, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["AuditBase", "AuditEntry", "IdempotencyRecord", "audit_metadata"]

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class AuditBase(DeclarativeBase):
    metadata = MetaData()


audit_metadata = AuditBase.metadata


class AuditEntry(AuditBase):
    """One mutating request: who (token subject, role, facility), what (method, route,
    path, outcome), when, and from where (client address)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    subject: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(32))
    facility_id: Mapped[str | None] = mapped_column(String(64))
    token_id: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    route: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int] = mapped_column(Integer)
    client: Mapped[str | None] = mapped_column(String(100))
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_subject", "subject"),
    )


class IdempotencyRecord(AuditBase):
    """One key a caller used on one path, what it asked, and (once sent) what it got."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 of caller, method, path and key: one caller's key never meets another's."""
    request_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
