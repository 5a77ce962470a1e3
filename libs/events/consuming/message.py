"""A consumed Kafka record, independent of the client library that read it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["REPLAY_HEADER", "ConsumedMessage"]

#: Set by the dead-letter replay command on records it republishes: only such a record may
#: re-apply an event this consumer once dead-lettered.
REPLAY_HEADER = "dlt-replay-of"


@dataclass(frozen=True)
class ConsumedMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = field(default_factory=tuple)
    timestamp_ms: int | None = None

    @property
    def position(self) -> str:
        """``topic/partition/offset``: identifies a record that has no usable event id."""
        return f"{self.topic}/{self.partition}/{self.offset}"

    def header(self, name: str) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def is_replay(self) -> bool:
        return self.header(REPLAY_HEADER) is not None
