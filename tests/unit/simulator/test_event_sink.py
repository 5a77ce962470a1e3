"""The simulated hospital feed delivers as an interface engine does: it checkpoints every so
many messages, and a failed delivery replays everything since the last checkpoint (the same
bytes, with a new connection) until all of it is acknowledged."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka.errors import KafkaTimeoutError

from libs.events import utc_now
from libs.events.catalogue.organisation import CommunityRegistered
from simulator.drivers import Endpoints, EventSink


@dataclass
class Sent:
    topic: str
    key: bytes
    value: bytes
    failed_with: Exception | None

    @property
    def is_done(self) -> bool:
        return True

    def failed(self) -> bool:
        return self.failed_with is not None


@dataclass
class Producer:
    """A producer whose first ``fail_first`` sends are not acknowledged."""

    log: list[Sent]
    fail_first: int = 0
    closed: bool = False
    sends: int = field(default=0)

    def send(self, topic: str, *, key: bytes, value: bytes, headers: Any) -> Sent:
        self.sends += 1
        error = KafkaTimeoutError("expired") if self.sends <= self.fail_first else None
        sent = Sent(topic, key, value, error)
        self.log.append(sent)
        return sent

    def flush(self, timeout: float) -> None:
        pass

    def close(self, timeout: float) -> None:
        self.closed = True


class Sink(EventSink):
    RESEND_PAUSE_S = 0.0

    def __init__(self, failures: list[int]) -> None:
        self.log: list[Sent] = []
        self.producers: list[Producer] = []
        self._failures = failures
        super().__init__(Endpoints({}, "127.0.0.1:1", "t.", Path("/nowhere")))

    def _new_producer(self) -> Any:
        failing = self._failures.pop(0) if self._failures else 0
        self.producers.append(Producer(self.log, fail_first=failing))
        return self.producers[-1]


def community(n: int) -> CommunityRegistered:
    return CommunityRegistered(
        community_id=f"C-{n}", name=f"共同体{n}", lead_facility_id="F-1", county_code="QS"
    )


def test_a_failed_delivery_replays_everything_since_the_checkpoint_on_a_new_connection() -> None:
    sink = Sink(failures=[0, 3])
    for n in range(sink.CHECKPOINT_RECORDS):  # the 20th send checkpoints: all acknowledged
        sink.send(community(n), at=utc_now(), facility_id="F-1")
    assert len(sink.log) == sink.CHECKPOINT_RECORDS and sink.resent == 0
    assert len(sink.producers) == 1
    sink.producers[0].fail_first = sink.producers[0].sends + 2  # the next two sends fail
    for n in range(5):
        sink.send(community(100 + n), at=utc_now(), facility_id="F-1")
    sink.flush()
    # all five replayed on a new producer (whose own first three failed: replayed again)
    assert len(sink.producers) == 3 and sink.producers[0].closed
    assert sink.resent == 10
    values = [s.value for s in sink.log[sink.CHECKPOINT_RECORDS :]]
    assert values[:5] == values[5:10] == values[10:15]
    assert all(not s.failed() for s in sink.log[-5:])
    assert sink.sent == {"organisation.community": sink.CHECKPOINT_RECORDS + 5}
