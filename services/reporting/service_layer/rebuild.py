"""Rebuilding a lost reporting database: ``python -m services.reporting rebuild``.

Into an empty database (migrated, no cells):

1. the cells, from the changelog topic ``reporting.indicator`` — for each cell the record
   with the highest version (compaction keeps the latest one; before compaction the topic
   holds older ones too);
2. the organisation copy and the member counts, by replaying the organisation topics (kept
   forever) through the service's own handlers, which claims them as processed;
3. the spans of stationings, from ``staffing.stationing`` (kept forever), so a later end
   moves the right days. Their cells come from the changelog, not from these events;
4. the silent feed episodes the gateway still retains (``gateway.feed``), so that a later
   resumption moves the minutes instead of counting its episode again; an open one is taken
   as counted up to the rebuild (the minutes between the loss and the rebuild are missing);
5. the durations of decided prescription holds the broker still retains
   (``quality.prescription``), so that a later decision ranks its period's hold-time
   percentiles over them too, and a decision delivered again is not kept twice.

The worker then continues from its consumer group's committed offsets. What the changelog
cannot give back: the changes of batches whose changelog records were still in the lost
database's outbox (see docs/reporting.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import structlog
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from libs.events.catalogue.gateway import FeedResumed, FeedSilent
from libs.events.catalogue.quality import PrescriptionReleased, PrescriptionReviewRejected
from libs.events.catalogue.reporting import IndicatorCellUpdated
from libs.events.catalogue.staffing import StationingEnded, StationingStarted
from libs.events.codec import PermanentDecodeError, decode
from libs.events.consuming import BatchProcessor, ConsumedMessage, HandlerRegistry
from libs.events.envelope import utc_now
from libs.events.metrics import DeliveryMetrics
from libs.events.registry import registry
from libs.events.unit_of_work import UnitOfWork
from libs.platform.database import Database
from services.reporting.adapters.cells import CellStore
from services.reporting.adapters.schema import IndicatorCell, StationingSpan
from services.reporting.adapters.topic_reader import TopicRecord, read_topic
from services.reporting.service_layer.feeds import restore_episode
from services.reporting.service_layer.quality import restore_hold
from services.reporting.service_layer.unit_of_work import ReportingUnitOfWork

__all__ = ["DatabaseNotEmpty", "RebuildReport", "rebuild"]

log = structlog.get_logger("reporting.rebuild")

CHANGELOG = registry.for_payload(IndicatorCellUpdated).topic
ORGANISATION_TOPICS = ("organisation.community", "organisation.facility")
STATIONING = registry.for_payload(StationingStarted).topic
FEEDS = registry.for_payload(FeedSilent).topic
REVIEWS = registry.for_payload(PrescriptionReleased).topic
BATCH = 1000


class DatabaseNotEmpty(Exception):
    """The rebuild writes only into a database without cells."""


@dataclass
class RebuildReport:
    changelog_records: int = 0
    cells: int = 0
    skipped: int = 0
    organisation_events: int = 0
    stationings: int = 0
    feed_episodes: int = 0
    review_holds: int = 0


def _cell_row(data: IndicatorCellUpdated) -> dict[str, Any]:
    return {
        "indicator": data.indicator,
        "level": data.level.value,
        "unit_id": data.unit_id,
        "period_kind": data.period_kind.value,
        "period": data.period,
        "numerator": data.numerator,
        "denominator": data.denominator,
        "version": data.version,
        "updated_at": data.updated_at.astimezone(UTC),
    }


def rebuild(
    database: Database,
    uow_factory: Callable[[], UnitOfWork],
    bootstrap_servers: str,
    *,
    consumer: str = "reporting",
    organisation: HandlerRegistry,
    prefix: str = "",
    timeout_s: float = 300.0,
) -> RebuildReport:
    """Restore cells, the organisation copy, stationing spans, feed episodes and decided
    holds into an empty database."""
    report = RebuildReport()
    with database.sessions() as session:
        if session.scalar(select(func.count()).select_from(IndicatorCell)):
            raise DatabaseNotEmpty("the reporting database already has indicator cells")
    _restore_cells(database, bootstrap_servers, prefix, timeout_s, report)
    _replay_organisation(
        uow_factory, bootstrap_servers, consumer, organisation, prefix, timeout_s, report
    )
    _restore_spans(database, bootstrap_servers, prefix, timeout_s, report)
    _restore_episodes(database, bootstrap_servers, prefix, timeout_s, report)
    _restore_holds(uow_factory, bootstrap_servers, prefix, timeout_s, report)
    log.info("rebuilt", **report.__dict__)
    return report


def _restore_cells(
    database: Database, bootstrap: str, prefix: str, timeout_s: float, report: RebuildReport
) -> None:
    with database.sessions() as session:
        store = CellStore(session, utc_now())
        pending: list[dict[str, Any]] = []
        for record in read_topic(bootstrap, CHANGELOG, prefix=prefix, timeout_s=timeout_s):
            report.changelog_records += 1
            if record.value is None:
                continue  # a tombstone: nothing deletes cells today
            try:
                event = decode(record.value, topic=CHANGELOG)
            except PermanentDecodeError as exc:
                report.skipped += 1
                log.warning("changelog record skipped", reason=exc.reason, offset=record.offset)
                continue
            assert isinstance(event.data, IndicatorCellUpdated)
            pending.append(_cell_row(event.data))
            if len(pending) >= BATCH:
                store.restore(pending)
                pending.clear()
        store.restore(pending)
        report.cells = int(session.scalar(select(func.count()).select_from(IndicatorCell)) or 0)
        session.commit()


def _message(record: TopicRecord) -> ConsumedMessage:
    return ConsumedMessage(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value or b"",
        headers=record.headers,
    )


def _replay_organisation(
    uow_factory: Callable[[], UnitOfWork],
    bootstrap: str,
    consumer: str,
    handlers: HandlerRegistry,
    prefix: str,
    timeout_s: float,
    report: RebuildReport,
) -> None:
    processor = BatchProcessor(
        consumer=consumer,
        handlers=handlers,
        uow_factory=uow_factory,
        metrics=DeliveryMetrics.create("reporting_rebuild", CollectorRegistry()),
    )
    for topic in ORGANISATION_TOPICS:
        batch: list[ConsumedMessage] = []
        for record in read_topic(bootstrap, topic, prefix=prefix, timeout_s=timeout_s):
            batch.append(_message(record))
            if len(batch) >= 500:
                report.organisation_events += len(processor.process(batch).applied)
                batch.clear()
        if batch:
            report.organisation_events += len(processor.process(batch).applied)


def _restore_spans(
    database: Database, bootstrap: str, prefix: str, timeout_s: float, report: RebuildReport
) -> None:
    with database.sessions() as session:
        for record in read_topic(bootstrap, STATIONING, prefix=prefix, timeout_s=timeout_s):
            try:
                data = decode(record.value or b"", topic=STATIONING).data
            except PermanentDecodeError:
                continue
            if isinstance(data, StationingStarted):
                if session.get(StationingSpan, data.stationing_id) is None:
                    session.add(
                        StationingSpan(
                            stationing_id=data.stationing_id,
                            facility_id=data.facility_id,
                            first_day=data.start_date,
                            last_day=data.planned_end_date,
                            ended=False,
                        )
                    )
                    report.stationings += 1
                    session.flush()
            elif isinstance(data, StationingEnded):
                span = session.get(StationingSpan, data.stationing_id)
                if span is not None:
                    span.last_day, span.ended = data.end_date, True
        session.commit()


def _restore_episodes(
    database: Database, bootstrap: str, prefix: str, timeout_s: float, report: RebuildReport
) -> None:
    now = utc_now()
    with database.sessions() as session:
        for record in read_topic(bootstrap, FEEDS, prefix=prefix, timeout_s=timeout_s):
            try:
                data = decode(record.value or b"", topic=FEEDS).data
            except PermanentDecodeError:
                continue
            if isinstance(data, FeedSilent | FeedResumed):
                report.feed_episodes += restore_episode(session, data, now)
        session.commit()


def _restore_holds(
    uow_factory: Callable[[], UnitOfWork],
    bootstrap: str,
    prefix: str,
    timeout_s: float,
    report: RebuildReport,
) -> None:
    uow = uow_factory()
    if not isinstance(uow, ReportingUnitOfWork):
        raise TypeError("restoring holds needs the reporting unit of work (its county)")
    with uow:
        for record in read_topic(bootstrap, REVIEWS, prefix=prefix, timeout_s=timeout_s):
            try:
                data = decode(record.value or b"", topic=REVIEWS).data
            except PermanentDecodeError:
                continue
            if isinstance(data, PrescriptionReleased | PrescriptionReviewRejected):
                report.review_holds += restore_hold(data, uow)
        uow.commit()
