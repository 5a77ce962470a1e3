"""Consumer lag per assigned partition, for the ``*_consumer_lag`` gauge."""

from __future__ import annotations

import contextlib
from typing import Any

from libs.events.metrics import DeliveryMetrics
from libs.events.topics import logical_topic

__all__ = ["update_consumer_lag"]


def update_consumer_lag(
    consumer: Any, prefix: str, processed: dict[tuple[str, int], int], metrics: DeliveryMetrics
) -> None:
    """Lag per assigned partition: the high watermark the last fetch response carried minus
    the next offset to process (``processed``, else the committed one; ListOffsets is not
    trusted, see docs/)."""
    for tp in list(consumer.assignment()):
        topic = logical_topic(tp.topic, prefix)
        highwater = None
        with contextlib.suppress(Exception):  # nothing fetched from this partition yet
            highwater = consumer.highwater(tp)
        if highwater is None:
            continue
        position = processed.get((topic, tp.partition))
        if position is None:
            committed = consumer._committed_offset.get(tp)
            position = committed + 1 if committed is not None else None
        if position is not None:
            metrics.consumer_lag.labels(topic, str(tp.partition)).set(max(0, highwater - position))
