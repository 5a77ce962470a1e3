"""A service's own dead letters for its operators: listed, read, and replayed through its
handlers, as they are or corrected.

The letters are read from the dead-letter twins of the topics the service consumes (its
principal may read them: libs/events/access.py), keeping those it dead-lettered itself
(``dlt-consumer``). A replay applies the letter, or the corrected value an operator typed,
in this process through the batch processor its worker uses: the same admission,
provenance check, deduplication and handlers, so a correction is believed no more than the
wire is, under the letter's own key (a correction cannot move to another subject). Nothing
is republished: the topic's other consumers decided on the record long ago, and the console
that asks need not become a producer of every topic. (``python -m libs.events.deadletters``
remains the operator's way to republish one to every consumer.)

Each replay is recorded (``dead_letter_replays``: who, when, the digests of the original
and of what was applied, the outcome) and audited as the call it came by.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kafka.errors import KafkaError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from libs.events.consuming import REPLAY_HEADER, BatchProcessor, BatchResult, ConsumedMessage
from libs.events.consuming.dead_letters import DLT_HEADER_PREFIX
from libs.events.deadletters import DeadLetter, read_dead_letters
from libs.events.envelope import utc_now
from libs.events.tables import DeadLetterReplay
from libs.events.topics import dead_letter_topic, logical_topic

if TYPE_CHECKING:
    from libs.platform.worker import ServiceProcess

__all__ = [
    "REPLAY_PARTITION",
    "RESOLVING",
    "DeadLetterDesk",
    "LetterNotFound",
    "NotReplayable",
    "Unreadable",
    "desk_for",
]

#: The partition of a replayed record: it was never on the broker; its offset is its
#: replay's id, so a replay that fails decoding again is claimed apart from every record.
REPLAY_PARTITION = -1
#: The most characters of a letter's value a reader is shown.
MAX_SHOWN = 200_000
#: Reasons no correction makes believable: an operator editing a forged record's source
#: would forge it a second time.
NEVER_REPLAYED = frozenset({"forged_source"})
#: A letter whose latest replay ended so leaves nothing more to do (it is "resolved").
RESOLVING = frozenset({"applied", "duplicate", "ignored"})
#: How long listing may take to read the dead-letter topics to their end.
READ_TIMEOUT_S = 15.0


class LetterNotFound(LookupError):
    """No dead letter of this service at that position."""


class Unreadable(RuntimeError):
    """The dead-letter topics could not be read now (the broker is away or slow)."""


class NotReplayable(ValueError):
    """The letter cannot be replayed as it is (its original was too large to carry)."""


@dataclass
class DeadLetterDesk:
    consumer: str
    topics: list[str]
    """The dead-letter twins of the topics the service consumes (logical names)."""
    read: Callable[[list[str]], list[DeadLetter]]
    sessions: sessionmaker[Session]
    processor_for: Callable[[str], BatchProcessor]

    def letters(self) -> list[dict[str, Any]]:
        """This consumer's dead letters, newest first, each with its latest replay and
        whether that resolved it."""
        own = [x for x in self.read(self.topics) if x.consumer == self.consumer]
        replays = self._latest_replays([x.position for x in own])
        own.sort(key=lambda x: (x.header("dlt-time") or "", x.position), reverse=True)
        return [_listed(x.summary(), replays.get(x.position)) for x in own]

    def letter(self, topic: str, partition: int, offset: int) -> dict[str, Any]:
        """One letter with its value (as text) and the original headers, and every replay."""
        found = self._find(topic, partition, offset)
        text = found.value.decode("utf-8", "replace")
        replays = [_replay_view(r) for r in self._replays(found.position)]
        return {
            **_listed(found.summary(), replays[0] if replays else None),
            "value": text[:MAX_SHOWN],
            "value_complete": len(text) <= MAX_SHOWN,
            "value_is_text": _is_utf8(found.value),
            "headers": {
                k: v.decode("utf-8", "replace")
                for k, v in found.headers
                if not k.startswith(DLT_HEADER_PREFIX)
            },
            "replays": replays,
        }

    def replay(
        self, topic: str, partition: int, offset: int, *, value: bytes | None, by: str
    ) -> dict[str, Any]:
        """Apply the letter (``value``: a corrected record instead) through the handlers.
        A ``value`` that is the original but for surrounding whitespace (what a browser's
        text box sends back untouched) is the original: replayed as it is."""
        letter = self._find(topic, partition, offset)
        if value is not None and value.strip() == letter.value.strip():
            value = None
        if letter.reason in NEVER_REPLAYED:
            raise NotReplayable(
                "a record refused for its source is never replayed: whoever can write it "
                "is not its producer (docs/operations.md, Dead letters)"
            )
        if value is None and letter.omitted_original:
            raise NotReplayable(
                "the original was too large to carry on the dead letter; it is still on "
                f"{letter.summary()['origin']}: replay a corrected value instead"
            )
        applied = letter.value if value is None else value
        replay_id = self._record(letter, applied, by=by, corrected=value is not None)
        message = ConsumedMessage(
            topic=letter.origin_topic,
            partition=REPLAY_PARTITION,
            offset=replay_id,
            key=letter.key,
            value=applied,
            headers=(*_original_headers(letter), (REPLAY_HEADER, letter.position.encode())),
        )
        result = self.processor_for(letter.origin_topic).process([message])
        outcome, detail = _outcome(result)
        with self.sessions() as session:
            row = session.get_one(DeadLetterReplay, replay_id)
            row.outcome, row.detail = outcome, detail
            session.commit()
            return _replay_view(row)

    # --- reading ---------------------------------------------------------------------------

    def _find(self, topic: str, partition: int, offset: int) -> DeadLetter:
        if topic not in self.topics:
            raise LetterNotFound(f"{topic} is not a dead-letter topic of {self.consumer}")
        for letter in self.read([topic]):
            if letter.partition == partition and letter.offset == offset:
                if letter.consumer != self.consumer:
                    break
                return letter
        raise LetterNotFound(f"no dead letter of {self.consumer} at {topic}/{partition}/{offset}")

    def _latest_replays(self, positions: list[str]) -> dict[str, dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        with self.sessions() as session:
            rows = session.scalars(
                select(DeadLetterReplay)
                .where(DeadLetterReplay.consumer == self.consumer)
                .order_by(DeadLetterReplay.id)
            )
            wanted = set(positions)
            for row in rows:
                if row.letter in wanted:
                    latest[row.letter] = _replay_view(row)
        return latest

    def _replays(self, position: str) -> list[DeadLetterReplay]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(DeadLetterReplay)
                    .where(
                        DeadLetterReplay.consumer == self.consumer,
                        DeadLetterReplay.letter == position,
                    )
                    .order_by(DeadLetterReplay.id.desc())
                )
            )

    # --- writing ---------------------------------------------------------------------------

    def _record(self, letter: DeadLetter, applied: bytes, *, by: str, corrected: bool) -> int:
        """The replay, pending, committed before it runs: its id names the replayed record,
        and a replay cut short still shows who began it."""
        with self.sessions() as session:
            row = DeadLetterReplay(
                consumer=self.consumer,
                letter=letter.position,
                replayed_by=by[:200],
                replayed_at=utc_now(),
                corrected=corrected,
                original_sha256=hashlib.sha256(letter.value).hexdigest(),
                replayed_sha256=hashlib.sha256(applied).hexdigest(),
                outcome="pending",
            )
            session.add(row)
            session.commit()
            return row.id


def desk_for(process: ServiceProcess) -> DeadLetterDesk:
    """The desk of a running service: its topics' twins, read with its own credentials."""
    p = process.platform

    def read(topics: list[str]) -> list[DeadLetter]:
        try:
            found = read_dead_letters(
                p.kafka_bootstrap_servers,
                topics,
                prefix=p.kafka_topic_prefix,
                timeout_s=READ_TIMEOUT_S,
                credentials=p.kafka_credentials(),
            )
        except (TimeoutError, KafkaError) as exc:
            raise Unreadable(f"the dead-letter topics could not be read: {exc}") from None
        # Positions by logical topic, as the service names its topics everywhere else.
        prefix = p.kafka_topic_prefix
        return [replace(x, dlt_topic=logical_topic(x.dlt_topic, prefix)) for x in found]

    return DeadLetterDesk(
        consumer=process.name,
        topics=sorted(dead_letter_topic(t) for t in process.handlers.topics()),
        read=read,
        sessions=process.database.sessions,
        processor_for=process.processor_for,
    )


def _original_headers(letter: DeadLetter) -> tuple[tuple[str, bytes], ...]:
    return tuple(
        (k, v) for k, v in letter.headers if not k.startswith(DLT_HEADER_PREFIX)
    )  # the replay header is set anew by the caller


def _outcome(result: BatchResult) -> tuple[str, str | None]:
    if result.dead_lettered:
        _, reason = result.dead_lettered[0]
        return "dead_lettered", reason
    for outcome, keys in (
        ("applied", result.applied),
        ("duplicate", result.duplicates),
        ("parked", result.parked),
        ("ignored", result.ignored),
    ):
        if keys:
            return outcome, None
    return "duplicate", None  # claimed before by its position: nothing new to apply


def _listed(summary: dict[str, Any], replay: dict[str, Any] | None) -> dict[str, Any]:
    resolved = replay is not None and replay["outcome"] in RESOLVING
    return {**summary, "replay": replay, "resolved": resolved}


def _replay_view(row: DeadLetterReplay) -> dict[str, Any]:
    return {
        "id": row.id,
        "replayed_by": row.replayed_by,
        "replayed_at": row.replayed_at,
        "corrected": row.corrected,
        "outcome": row.outcome,
        "detail": row.detail,
        "original_sha256": row.original_sha256,
        "replayed_sha256": row.replayed_sha256,
    }


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
