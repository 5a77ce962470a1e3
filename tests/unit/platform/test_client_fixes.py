"""aiokafka refreshes its metadata when resetting a position finds a stale leader (see
libs/platform/client_fixes.py); without the fix it retried the old leader for minutes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import errors
from aiokafka.consumer.fetcher import Fetcher

from libs.platform.client_fixes import apply_client_fixes


class Client:
    def __init__(self) -> None:
        self.refreshes = 0

    def force_metadata_update(self) -> None:
        self.refreshes += 1


class Answering:
    """A fetcher whose one ListOffsets request answers ``error`` (or an offset)."""

    def __init__(self, error: Exception | None) -> None:
        self._client = Client()
        self.error = error


def test_a_stale_leader_makes_the_fetcher_refresh_its_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def original(self: Any, node_id: int, topic_data: Any) -> Any:
        if self.error is not None:
            raise self.error
        return {"offsets": node_id}

    monkeypatch.setattr(Fetcher, "_proc_offset_request", original)
    apply_client_fixes()
    apply_client_fixes()  # once is enough: a second call changes nothing

    stale = Answering(errors.NotLeaderForPartitionError("t-0"))
    with pytest.raises(errors.NotLeaderForPartitionError):
        asyncio.run(Fetcher._proc_offset_request(stale, 3, {}))
    assert stale._client.refreshes == 1

    fine = Answering(None)
    assert asyncio.run(Fetcher._proc_offset_request(fine, 3, {})) == {"offsets": 3}
    assert fine._client.refreshes == 0

    other = Answering(errors.KafkaTimeoutError())
    with pytest.raises(errors.KafkaTimeoutError):
        asyncio.run(Fetcher._proc_offset_request(other, 3, {}))
    assert other._client.refreshes == 0
