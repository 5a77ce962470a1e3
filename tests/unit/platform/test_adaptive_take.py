"""The consumers' batching: a batch as soon as records stop arriving, full ones under load.

Faust's own ``noack_take`` yielded on a fixed clock (every ``within`` seconds, never sooner
unless full), which put up to 0.2 s on every hop at low load. The stream here is a stand-in
with the few members of Faust's stream the take uses, and mode's waiting rule (a wait that
times out answers "stopped", which the take must not believe).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import pytest

from libs.platform.batching import adaptive_take


@dataclass
class Waited:
    stopped: bool


class FakeStream:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.current_event: Any = None
        self.enable_acks = True
        self._processors: list[Any] = []
        self._stopped = asyncio.Event()
        self._crashed = asyncio.Event()
        self.channel = self
        self.crashed_with: BaseException | None = None

    def __aiter__(self) -> FakeStream:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration  # the take never reads the channel itself

    @property
    def should_stop(self) -> bool:
        return self._stopped.is_set()

    def add_processor(self, processor: Any) -> None:
        self._processors.append(processor)

    def _enable_passive(self, channel: Any) -> None:
        self._drainer = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        while True:
            value = await self.queue.get()
            self.current_event = value
            for processor in list(self._processors):
                value = await processor(value)

    async def wait(self, event: asyncio.Event, timeout: float | None = None) -> Waited:  # noqa: ASYNC109 (mode's signature)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return Waited(stopped=True)  # as mode answers a timeout
        return Waited(stopped=self.should_stop)

    async def wait_for_stopped(
        self,
        event: asyncio.Event,
        timeout: float | None = None,  # noqa: ASYNC109 (mode's signature)
    ) -> bool:
        return (await self.wait(event, timeout)).stopped

    async def crash(self, exc: BaseException) -> None:
        self.crashed_with = exc
        self._crashed.set()


async def _take(stream: FakeStream, batches: list[tuple[list[int], float]], hold_s: float) -> None:
    started = time.monotonic()
    async for batch in adaptive_take(stream, 5, within=0.5, linger_s=0.02):
        batches.append((list(batch), time.monotonic() - started))
        await asyncio.sleep(hold_s)  # applying the batch


def test_a_lone_record_is_taken_at_once_and_a_burst_in_full_batches_in_order() -> None:
    async def scenario() -> list[tuple[list[int], float]]:
        stream = FakeStream()
        batches: list[tuple[list[int], float]] = []
        task = asyncio.ensure_future(_take(stream, batches, hold_s=0.05))
        await stream.queue.put(1)
        await asyncio.sleep(0.2)
        for value in range(2, 14):
            await stream.queue.put(value)
        await asyncio.sleep(0.5)
        stream._stopped.set()
        task.cancel()
        stream._drainer.cancel()
        return batches

    batches = asyncio.run(scenario())
    assert batches[0][0] == [1]
    assert batches[0][1] < 0.1  # not the whole ``within`` (0.5 s)
    rest = [batch for batch, _ in batches[1:]]
    assert [value for batch in rest for value in batch] == list(range(2, 14))
    assert all(len(batch) <= 5 for batch in rest)
    assert rest[0] == [2, 3, 4, 5, 6]  # a burst fills batches


def test_while_a_batch_is_applied_arrivals_wait_and_come_together() -> None:
    async def scenario() -> list[tuple[list[int], float]]:
        stream = FakeStream()
        batches: list[tuple[list[int], float]] = []
        task = asyncio.ensure_future(_take(stream, batches, hold_s=0.3))
        await stream.queue.put(1)
        await asyncio.sleep(0.05)
        for value in (2, 3, 4):  # arrive while [1] is being applied
            await stream.queue.put(value)
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.6)
        stream._stopped.set()
        task.cancel()
        stream._drainer.cancel()
        return batches

    batches = asyncio.run(scenario())
    assert [batch for batch, _ in batches] == [[1], [2, 3, 4]]


@pytest.mark.parametrize("gap_s", [0.01])
def test_records_that_keep_arriving_are_batched_up_to_within(gap_s: float) -> None:
    async def scenario() -> list[tuple[list[int], float]]:
        stream = FakeStream()
        batches: list[tuple[list[int], float]] = []
        task = asyncio.ensure_future(_take(stream, batches, hold_s=0.0))
        for value in range(1, 5):  # each within the linger of the last
            await stream.queue.put(value)
            await asyncio.sleep(gap_s)
        await asyncio.sleep(0.2)
        stream._stopped.set()
        task.cancel()
        stream._drainer.cancel()
        return batches

    batches = asyncio.run(scenario())
    assert [value for batch, _ in batches for value in batch] == [1, 2, 3, 4]
    assert len(batches) <= 2


def test_the_consumer_asks_the_broker_to_hold_a_fetch_only_briefly() -> None:
    import faust

    from libs.platform.batching import tune_fetch_wait

    async def build() -> int:
        app = faust.App("fetch-wait", broker="kafka://127.0.0.1:9", store="memory://")
        tune_fetch_wait(app, 0.05)
        thread = app.consumer._thread  # type: ignore[attr-defined]
        consumer = thread._create_worker_consumer(app.transport)
        return int(consumer._fetch_max_wait_ms)

    assert asyncio.run(build()) == 50  # Faust's own is 1,500 ms
