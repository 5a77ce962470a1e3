"""Fixes for known faults of the Kafka client libraries, applied once per process.

aiokafka (0.14.0) resets a partition's position — a partition with no committed offset
after a rebalance, say — with a ListOffsets request to the leader its cached metadata
names. When that leader has moved (a broker failed or froze and lost its leadership) the
request fails with NOT_LEADER_FOR_PARTITION, and aiokafka retries the same stale leader
every 100 ms without refreshing its metadata, until ``metadata.max.age`` (5 minutes)
passes: the partition is not consumed meanwhile. Kafka's Java client fixed the same fault
in KAFKA-9535; aiokafka's report is robinhood/aiokafka#9, still open. Found by
tests/e2e/test_broker_faults.py (a frozen coordinator left pharmacy's partition stuck).
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["apply_client_fixes"]

#: Answers that mean "your metadata is stale": refresh it before the next attempt.
STALE_LEADERSHIP = (
    "NotLeaderForPartitionError",
    "UnknownTopicOrPartitionError",
    "LeaderNotAvailableError",
    "StaleMetadata",
)


def apply_client_fixes() -> None:
    """Make aiokafka refresh its metadata when a ListOffsets request finds a stale leader."""
    from aiokafka import errors
    from aiokafka.consumer.fetcher import Fetcher

    request = Fetcher._proc_offset_request
    if getattr(request, "refreshes_metadata", False):
        return
    stale = tuple(getattr(errors, name) for name in STALE_LEADERSHIP)

    @functools.wraps(request)
    async def refreshing(self: Any, node_id: int, topic_data: Any) -> Any:
        try:
            return await request(self, node_id, topic_data)
        except stale:
            self._client.force_metadata_update()
            raise

    refreshing.refreshes_metadata = True  # type: ignore[attr-defined]
    Fetcher._proc_offset_request = refreshing
