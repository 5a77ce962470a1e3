"""The shared event contract and delivery machinery of the suite.

- :mod:`~libs.events.envelope` — the CloudEvents envelope and :func:`new_event`, its
  only constructor;
- :mod:`~libs.events.registry` — wire type name → payload schema, topic and key;
- :mod:`~libs.events.catalogue` — every event type of every domain;
- :mod:`~libs.events.codec` — JSON encoding and validating decoding;
- :mod:`~libs.events.topics` — topic declarations (``infra/kafka/topics.yaml``) and creation;
- :mod:`~libs.events.unit_of_work` and :mod:`~libs.events.outbox` — the transactional outbox;
- :mod:`~libs.events.consuming` — idempotent batch consuming and dead letters;
- :mod:`~libs.events.deadletters` — the list/replay command.
"""

from libs.events import catalogue as catalogue  # registers every event type
from libs.events.codec import PermanentDecodeError, decode, encode
from libs.events.envelope import CloudEvent, new_event, utc_now
from libs.events.payload import Payload
from libs.events.registry import EventSpec, UnknownEventType, registry
from libs.events.retry import PermanentError
from libs.events.unit_of_work import OutboxSignal, UnitOfWork

__all__ = [
    "CloudEvent",
    "EventSpec",
    "OutboxSignal",
    "Payload",
    "PermanentDecodeError",
    "PermanentError",
    "UnitOfWork",
    "UnknownEventType",
    "decode",
    "encode",
    "new_event",
    "registry",
    "utc_now",
]
