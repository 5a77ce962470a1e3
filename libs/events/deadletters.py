"""Listing and replaying dead letters.

    python -m libs.events.deadletters list [--topic ingestion.visit] [--consumer finance]
    python -m libs.events.deadletters replay --dlt-topic ingestion.visit.dlt --partition 0 \
        --offset 12 [--value-file fixed.json]
    python -m libs.events.deadletters replay --dlt-topic ingestion.visit.dlt --all \
        [--consumer finance] [--reason exhausted_retries]

Replaying republishes the original record (or a corrected value) to the topic it came from,
marked with a ``dlt-replay-of`` header. Consumers that applied the event skip it as a
duplicate; the consumer that dead-lettered it applies it once. Replaying twice is harmless.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libs.events.consuming.dead_letters import DLT_HEADER_PREFIX, ORIGINAL_OMITTED_HEADER
from libs.events.consuming.message import REPLAY_HEADER
from libs.events.credentials import KafkaCredentials
from libs.events.history import read_to_the_end
from libs.events.topics import DEAD_LETTER_SUFFIX, load_declarations, physical_topic

__all__ = ["DeadLetter", "read_dead_letters", "replay"]


@dataclass(frozen=True)
class DeadLetter:
    dlt_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace")
        return None

    @property
    def reason(self) -> str | None:
        return self.header("dlt-reason")

    @property
    def consumer(self) -> str | None:
        return self.header("dlt-consumer")

    @property
    def origin_topic(self) -> str:
        """The logical topic the record was dead-lettered from."""
        return self.header("dlt-origin-topic") or self.dlt_topic.removesuffix(DEAD_LETTER_SUFFIX)

    @property
    def position(self) -> str:
        return f"{self.dlt_topic}/{self.partition}/{self.offset}"

    def summary(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "reason": self.reason,
            "detail": self.header("dlt-detail"),
            "consumer": self.consumer,
            "origin": "/".join(
                str(x)
                for x in (
                    self.origin_topic,
                    self.header("dlt-origin-partition"),
                    self.header("dlt-origin-offset"),
                )
            ),
            "time": self.header("dlt-time"),
            "event_type": self.header("dlt-event-type"),
            "event_id": self.header("dlt-event-id"),
            "replay_of": self.header(REPLAY_HEADER),
            "bytes": len(self.value),
            "original": self.omitted_original,
        }

    @property
    def omitted_original(self) -> dict[str, str | None] | None:
        """Where the original is, when it was too large to carry (None when carried)."""
        if self.header(ORIGINAL_OMITTED_HEADER) is None:
            return None
        return {
            "omitted": self.header(ORIGINAL_OMITTED_HEADER),
            "bytes": self.header("dlt-original-bytes"),
            "sha256": self.header("dlt-original-sha256"),
        }


def dead_letter_topics() -> list[str]:
    """Every declared dead-letter topic (logical names)."""
    return [d.name for d in load_declarations() if d.dead_letter]


def read_dead_letters(
    bootstrap_servers: str,
    topics: Iterable[str] | None = None,
    *,
    prefix: str = "",
    timeout_s: float = 30.0,
    credentials: KafkaCredentials | None = None,
) -> list[DeadLetter]:
    """Every record currently on the given dead-letter topics (logical names; default: all
    of them) under topic namespace ``prefix``, read to their end
    (:func:`libs.events.history.read_to_the_end`)."""
    names = list(topics) if topics is not None else dead_letter_topics()
    try:
        records = read_to_the_end(
            bootstrap_servers,
            names,
            prefix=prefix,
            timeout_s=timeout_s,
            credentials=credentials,
            client_id="dead-letter-reader",
        )
    except TimeoutError:
        raise TimeoutError("dead-letter topics could not be read to their end in time") from None
    return [
        DeadLetter(
            r.topic,
            r.partition,
            r.offset,
            r.key,
            r.value or b"",
            tuple((k, v or b"") for k, v in (r.headers or [])),
        )
        for r in records
    ]


def replay(
    bootstrap_servers: str,
    letters: Sequence[DeadLetter],
    *,
    value: bytes | None = None,
    prefix: str = "",
    credentials: KafkaCredentials | None = None,
) -> int:
    """Republish ``letters`` to their origin topics (under namespace ``prefix``); ``value``
    replaces the record value (a corrected event) when given. Returns how many were
    republished."""
    from kafka import KafkaProducer

    if value is None and (lacking := [x.position for x in letters if x.omitted_original]):
        raise ValueError(
            f"{', '.join(lacking)}: the original was too large to carry; it is still at the "
            "dlt-origin-* position (read it there), or replay a corrected --value-file"
        )
    producer = KafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        client_id="dead-letter-replay",
        **(credentials or KafkaCredentials.from_env()).client_options(),
    )
    try:
        futures = []
        for letter in letters:
            headers = [
                (k, v)
                for k, v in letter.headers
                if not k.startswith(DLT_HEADER_PREFIX) and k != REPLAY_HEADER
            ]
            headers.append((REPLAY_HEADER, letter.position.encode()))
            futures.append(
                producer.send(
                    physical_topic(letter.origin_topic, prefix),
                    key=letter.key,
                    value=value if value is not None else letter.value,
                    headers=headers,
                )
            )
        producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)
        return len(futures)
    finally:
        producer.close(timeout=5)


def _select(letters: list[DeadLetter], args: argparse.Namespace) -> list[DeadLetter]:
    chosen = letters
    if getattr(args, "consumer", None):
        chosen = [d for d in chosen if d.consumer == args.consumer]
    if getattr(args, "reason", None):
        chosen = [d for d in chosen if d.reason == args.reason]
    if getattr(args, "partition", None) is not None:
        chosen = [d for d in chosen if d.partition == args.partition]
    if getattr(args, "offset", None) is not None:
        chosen = [d for d in chosen if d.offset == args.offset]
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m libs.events.deadletters",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument(
        "--prefix",
        default=os.environ.get("KAFKA_TOPIC_PREFIX", ""),
        help="topic namespace (default: KAFKA_TOPIC_PREFIX)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="print dead letters as JSON lines")
    listing.add_argument("--topic", help="origin topic (its .dlt twin is read)")
    listing.add_argument("--consumer")
    listing.add_argument("--reason")
    again = commands.add_parser("replay", help="republish dead letters to their origin topic")
    again.add_argument("--dlt-topic", required=True, help="as in `list`'s position")
    again.add_argument("--partition", type=int)
    again.add_argument("--offset", type=int)
    again.add_argument("--all", action="store_true", help="every letter matching the filters")
    again.add_argument("--consumer")
    again.add_argument("--reason")
    again.add_argument("--value-file", type=Path, help="a corrected record value to send instead")
    args = parser.parse_args(argv)

    if args.command == "list":
        topics = [args.topic + DEAD_LETTER_SUFFIX] if args.topic else None
        found = read_dead_letters(args.bootstrap_servers, topics, prefix=args.prefix)
        for letter in _select(found, args):
            print(json.dumps(letter.summary(), ensure_ascii=False))
        return 0

    if not args.all and args.offset is None:
        parser.error("replay needs --offset (with --partition) or --all")
    dlt_topic = args.dlt_topic
    if args.prefix and dlt_topic.startswith(args.prefix):
        dlt_topic = dlt_topic[len(args.prefix) :]  # accept the physical name from `list`
    found = read_dead_letters(args.bootstrap_servers, [dlt_topic], prefix=args.prefix)
    letters = _select(found, args)
    if not letters:
        print("no dead letter matches", file=sys.stderr)
        return 1
    value = args.value_file.read_bytes() if args.value_file else None
    if value is not None and len(letters) != 1:
        parser.error("--value-file replaces one letter; select exactly one")
    count = replay(args.bootstrap_servers, letters, value=value, prefix=args.prefix)
    for letter in letters:
        print(json.dumps({"replayed": letter.position, "to": letter.origin_topic}))
    print(f"replayed {count}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
