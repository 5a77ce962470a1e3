"""The replica tables (branch ``directory`` of a service's migrations)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["DIRECTORY_VERSIONS", "DirectoryBase", "KnownCommunity", "KnownFacility"]

DIRECTORY_VERSIONS = Path(__file__).resolve().parent / "migrations"


class DirectoryBase(DeclarativeBase):
    metadata = MetaData()


class KnownCommunity(DirectoryBase):
    __tablename__ = "directory_communities"

    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(String(32))
    lead_facility_id: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KnownFacility(DirectoryBase):
    __tablename__ = "directory_facilities"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    community_id: Mapped[str] = mapped_column(String(64), index=True)
    county_code: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str] = mapped_column(String(20))
    facility_type: Mapped[str] = mapped_column(String(32))
    parent_facility_id: Mapped[str | None] = mapped_column(String(64))
    departments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    closed_on: Mapped[date | None] = mapped_column(Date)
    as_of: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), comment="Time of the event this row reflects; older ones lose."
    )
