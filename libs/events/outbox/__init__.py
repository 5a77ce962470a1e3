"""The transactional outbox: staging records in the caller's transaction, and the relay."""

from libs.events.outbox.relay import OutboxRelay, RelayLease, kafka_producer_factory
from libs.events.outbox.signal import OutboxSignal
from libs.events.outbox.staging import stage_event, stage_record

__all__ = [
    "OutboxRelay",
    "OutboxSignal",
    "RelayLease",
    "kafka_producer_factory",
    "stage_event",
    "stage_record",
]
