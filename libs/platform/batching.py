"""How a worker's consumers gather records into batches, and how fast they fetch them.

Two things used to cost most of a hop's latency at low load (measured on the embedded
broker, a record every 40 ms):

- Faust's consumer asks the broker to hold a fetch for 1.5 s (its hard-coded
  ``fetch_max_wait_ms``). Apache Kafka answers as soon as a record arrives; Tansu holds the
  fetch for the whole wait and answers with what came meanwhile, so a record waited 0.4 s
  (p50) before it even left the broker. :func:`tune_fetch_wait` sets the wait from
  ``KAFKA_FETCH_MAX_WAIT_S`` (an idle consumer then polls that often: cheap).
- Faust's ``noack_take`` yields on a fixed clock: every ``within`` seconds, whether records
  came at its start or not, and never sooner unless the batch is full. :func:`adaptive_take`
  yields as soon as records are there and no more arrive within ``linger_s``: one record at
  low load, a full batch under load (while a batch is applied, the records that arrive queue
  up in the stream and are taken together next).

Acknowledgement stays with the caller (``stream.ack`` after the batch committed); records
are yielded in the order the stream delivered them, so a partition's order holds.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from typing import Any

import structlog

from libs.platform.settings import PlatformSettings

__all__ = ["adaptive_take", "consumer_batches", "tune_fetch_wait"]

log = structlog.get_logger("worker")


def tune_fetch_wait(app: Any, fetch_max_wait_s: float) -> None:
    """Make ``app``'s consumer ask the broker to hold a fetch at most ``fetch_max_wait_s``."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    create = AIOKafkaConsumerThread._create_worker_consumer
    if not getattr(create, "tunes_fetch_wait", False):

        @functools.wraps(create)
        def tuned(self: Any, transport: Any) -> Any:
            consumer = create(self, transport)
            wait_ms = getattr(self.app, "fetch_max_wait_ms", None)
            if wait_ms is not None:
                # Read when the consumer starts and builds its fetcher, i.e. after this.
                consumer._fetch_max_wait_ms = wait_ms
            return consumer

        tuned.tunes_fetch_wait = True  # type: ignore[attr-defined]
        AIOKafkaConsumerThread._create_worker_consumer = tuned  # type: ignore[method-assign]
    app.fetch_max_wait_ms = max(1, round(fetch_max_wait_s * 1000))


def consumer_batches(stream: Any, settings: PlatformSettings) -> AsyncIterator[list[Any]]:
    """The stream's batches as the platform's settings shape them."""
    return adaptive_take(
        stream,
        settings.consume_batch_size,
        within=settings.consume_batch_within_s,
        linger_s=settings.consume_batch_linger_s,
    )


async def adaptive_take(
    stream: Any, max_: int, *, within: float, linger_s: float
) -> AsyncIterator[list[Any]]:
    """Batches of the stream's events, without acknowledging them.

    A batch is yielded when it holds ``max_`` events, or when no event arrived for
    ``linger_s`` since the last one, or ``within`` seconds after its first event, whichever
    comes first. Like Faust's ``noack_take`` (whose buffering this follows), the stream does
    not add to the buffer while the caller holds a batch.
    """
    buffer = _TakeBuffer(stream, max_)
    acks_enabled = stream.enable_acks
    stream.enable_acks = False  # the caller acknowledges, after its commit
    stream.add_processor(buffer.add)
    stream._enable_passive(aiter(stream.channel))
    try:
        while await buffer.filled(within, linger_s):
            buffer.hold()
            try:
                yield list(buffer.events)
            finally:
                buffer.release()
    finally:
        stream.enable_acks = acks_enabled
        stream._processors.remove(buffer.add)


class _TakeBuffer:
    """The events gathered for the next batch; filled by the stream, emptied by the take."""

    def __init__(self, stream: Any, max_: int) -> None:
        self.stream = stream
        self.max = max_
        self.events: list[Any] = []
        self.ready = asyncio.Event()  # holds something
        self.full = asyncio.Event()  # holds max
        self.consumed = asyncio.Event()
        self.holding: asyncio.Future[None] | None = None

    async def add(self, value: Any) -> Any:
        """The stream's processor: add the current event (waiting while a batch is held)."""
        try:
            if self.holding is not None:
                try:
                    await self.holding  # the caller holds a batch: wait until it is done
                finally:
                    self.holding = None
            event = self.stream.current_event
            if event is None:
                raise RuntimeError("take buffer found current_event is None")
            self.events.append(event)
            self.ready.set()
            if len(self.events) >= self.max:
                self.full.set()
                self.consumed.clear()
                await self.stream.wait(self.consumed)  # never more than max in one batch
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # as Faust's own take: the stream crashes, nothing is acked
            log.exception("error adding to the take buffer", error=repr(exc))
            await self.stream.crash(exc)
        return value

    async def filled(self, within: float, linger_s: float) -> bool:
        """Until a batch is due (see :func:`adaptive_take`); False once the stream is over.

        mode's waits answer "stopped" on a timeout too: the stream itself is asked.
        """
        stream = self.stream
        await stream.wait_for_stopped(self.ready)
        if _over(stream):
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not self.full.is_set():
            seen = len(self.events)
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await stream.wait_for_stopped(self.full, timeout=min(linger_s, remaining))
            if _over(stream):
                return False
            if len(self.events) == seen:
                break  # nothing more is arriving: do not wait for a batch to fill
        return True

    def hold(self) -> None:
        self.holding = asyncio.get_running_loop().create_future()

    def release(self) -> None:
        self.events.clear()
        self.ready.clear()
        self.full.clear()
        if self.holding is not None and not self.holding.done():
            self.holding.set_result(None)
        self.consumed.set()


def _over(stream: Any) -> bool:
    """Whether the stream stopped or crashed (its waits return at once from then on)."""
    return bool(stream.should_stop or stream._crashed.is_set())
