"""The reporting service's tables (branch ``reporting``) and its migration plan."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Date, DateTime, Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.directory import DIRECTORY_VERSIONS, DirectoryBase
from libs.events.tables import delivery_metadata
from libs.platform.migrations import DELIVERY_VERSIONS, MigrationPlan
from libs.platform.money import ExactDecimal, money_column


class Base(DeclarativeBase):
    metadata = MetaData()


class MemberCount(Base):
    """How many facilities of a tier joined and left a community: a stream-counted aggregate.

    Counting (rather than recounting the directory) is exactly what redelivered events
    would corrupt without the processed-events check, so it also proves that check.
    """

    __tablename__ = "member_counts"

    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tier: Mapped[str] = mapped_column(String(20), primary_key=True)
    joined: Mapped[int] = mapped_column(Integer, default=0)
    left: Mapped[int] = mapped_column(Integer, default=0)


def _amount() -> ExactDecimal:
    return money_column(18)


class IndicatorCell(Base):
    """One indicator at one organisation unit for one period (DHIS2's aggregate data value).

    Written only by the consumer's unit of work, in the transaction that claims the events
    it counts; ``version`` counts its changes and orders its changelog records.
    """

    __tablename__ = "indicator_cells"

    indicator: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    numerator: Mapped[Decimal] = mapped_column(_amount())
    denominator: Mapped[Decimal] = mapped_column(_amount())
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_indicator_cells_period", "indicator", "period_kind", "period"),)


class StationingSpan(Base):
    """The days a stationing covers, so that its end can move them (the ended event does
    not repeat where it started)."""

    __tablename__ = "stationing_spans"

    stationing_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    ended: Mapped[bool] = mapped_column(default=False)


class FeedEpisode(Base):
    """A member system's silent episode (the gateway's), so that its minutes can be counted
    up to now while it lasts and corrected to its end when it resumes.

    ``silent_since`` is the episode's identity with the system (UTC, ISO 8601 text);
    ``counted_to`` is the instant its minutes have been counted up to."""

    __tablename__ = "feed_episodes"

    system_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    silent_since: Mapped[str] = mapped_column(String(32), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    counted_to: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resumed: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (Index("ix_feed_episodes_resumed", "resumed"),)


class ReviewHold(Base):
    """A held prescription's wait for a pharmacist's decision, kept so that the hold-time
    percentiles of its day and month can be ranked again at every level (percentiles do not
    add up). ``day`` and ``month`` are the periods of the decision, in the county's calendar;
    ``community_id`` is the facility's community when the decision was counted."""

    __tablename__ = "review_holds"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    prescription_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(10))
    month: Mapped[str] = mapped_column(String(10))
    seconds: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_review_holds_day", "day"),
        Index("ix_review_holds_month", "month"),
    )


MIGRATIONS = MigrationPlan(
    service="reporting",
    versions=Path(__file__).resolve().parents[1] / "migrations",
    metadata=(Base.metadata, delivery_metadata, DirectoryBase.metadata),
    shared_versions=(DELIVERY_VERSIONS, DIRECTORY_VERSIONS),
)
