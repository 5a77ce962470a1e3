"""Building blocks for delivery tests: a migrated service database and consumed records."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry

from libs.events import CloudEvent, Payload, encode, new_event
from libs.events.catalogue.organisation import FacilityRegistered
from libs.events.catalogue.values import FacilityTier, FacilityType
from libs.events.consuming import ConsumedMessage
from libs.events.metrics import DeliveryMetrics
from libs.events.outbox.signal import OutboxSignal
from libs.events.provenance import producer_source
from libs.events.unit_of_work import UnitOfWork
from libs.platform.database import Database, create_database
from libs.platform.migrations import upgrade
from services.reporting.adapters.schema import MIGRATIONS
from tests.support.kafka import key_of


def reporting_database(url: str) -> Database:
    """A database migrated like the reporting service's (delivery + directory + counts)."""
    upgrade(MIGRATIONS, url)
    return create_database(url)


def metrics(name: str = "testsvc") -> DeliveryMetrics:
    return DeliveryMetrics.create(name, CollectorRegistry())


def uow_factory(database: Database, signal: OutboxSignal | None = None):
    """Units of work publishing as the administration service: the organisation's events that
    the delivery tests publish are administration's, and consumers believe no one else."""
    return lambda: UnitOfWork(database.sessions, source="/services/administration", signal=signal)


def facility(n: int, community: str = "QS-MC1") -> FacilityRegistered:
    return FacilityRegistered(
        facility_id=f"F-{n:03d}",
        name=f"第{n}卫生院",
        community_id=community,
        county_code="QS",
        tier=FacilityTier.PRIMARY,
        facility_type=FacilityType.TOWNSHIP_CENTRE,
    )


def event(payload: Payload) -> CloudEvent[Payload]:
    return new_event(payload, source=producer_source(payload))


def as_messages(
    values: Sequence[CloudEvent[Payload] | bytes | None],
    *,
    topic: str = "organisation.facility",
    first_offset: int = 0,
    headers: tuple[tuple[str, bytes], ...] = (),
) -> list[ConsumedMessage]:
    return [
        ConsumedMessage(
            topic=topic,
            partition=0,
            offset=first_offset + i,
            key=key_of(v if isinstance(v, bytes | None) else encode(v)),
            value=v if isinstance(v, bytes | None) else encode(v),
            headers=headers,
        )
        for i, v in enumerate(values)
    ]
