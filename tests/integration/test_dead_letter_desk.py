"""An operator's dead letters (libs/platform/dead_letters.py): a consumer lists its own,
replays one as it is or corrected through its handlers, and every replay is recorded (real
databases; the dead-letter topic is read back from the outbox as the broker would hold it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from libs.events import encode
from libs.events.consuming import REPLAY_HEADER, BatchProcessor
from libs.events.consuming.dead_letters import ORIGINAL_OMITTED_HEADER
from libs.events.deadletters import DeadLetter
from libs.events.outbox.staging import decode_headers
from libs.events.tables import OutboxRecord
from libs.platform.database import Database
from libs.platform.dead_letters import DeadLetterDesk, LetterNotFound, NotReplayable
from tests.integration.test_batch_processor import counting_handlers, joined, processor
from tests.support.delivery import as_messages, event, facility, reporting_database

DLT = "organisation.facility.dlt"


@pytest.fixture
def database(make_database: Callable[[str], str]) -> Iterator[Database]:
    db = reporting_database(make_database("reporting"))
    yield db
    db.dispose()


def on_the_topic(database: Database) -> list[DeadLetter]:
    """The dead letters the consumer staged, at the offsets the broker would give them."""
    with database.sessions() as session:
        rows = session.scalars(
            select(OutboxRecord).where(OutboxRecord.topic == DLT).order_by(OutboxRecord.id)
        )
        return [
            DeadLetter(DLT, 0, i, r.key, r.value, tuple(decode_headers(r.headers)))
            for i, r in enumerate(rows)
        ]


def desk_on(
    database: Database, consumer: BatchProcessor, extra: list[DeadLetter]
) -> DeadLetterDesk:
    return DeadLetterDesk(
        consumer="reporting",
        topics=[DLT],
        read=lambda topics: [*on_the_topic(database), *extra] if DLT in topics else [],
        sessions=database.sessions,
        processor_for=lambda topic: consumer,
    )


def broken_registration() -> tuple[bytes, bytes]:
    """A facility registration whose HIS-like sender left out the tier, and its correction."""
    good = encode(event(facility(1)))
    body = json.loads(good)
    del body["data"]["tier"]
    return json.dumps(body).encode(), good


def test_a_corrected_letter_is_applied_once_and_recorded(database: Database) -> None:
    broken, good = broken_registration()
    consumer = processor(database, counting_handlers())
    consumer.process(as_messages([broken]))
    others = DeadLetter(DLT, 0, 99, b"F-002", b"{}", (("dlt-consumer", b"finance"),))
    desk = desk_on(database, consumer, [others])

    (letter,) = desk.letters()  # finance's letter on the same topic is not reporting's
    assert letter["reason"] == "schema_violation" and letter["replay"] is None
    shown = desk.letter(DLT, 0, 0)
    assert json.loads(shown["value"]) == json.loads(broken) and shown["value_is_text"]

    again = desk.replay(DLT, 0, 0, value=None, by="console:admin")
    assert again["outcome"] == "dead_lettered" and again["detail"] == "schema_violation"
    second = on_the_topic(database)[1]  # dead-lettered anew, saying which letter it replays
    assert second.header(REPLAY_HEADER) == f"{DLT}/0/0" and second.consumer == "reporting"
    assert joined(database) == 0
    # A browser's text box sends the record back with whitespace around it: not a correction.
    untouched = desk.replay(DLT, 0, 0, value=b" " + broken + b"\r\n", by="console:admin")
    assert untouched["outcome"] == "dead_lettered" and untouched["corrected"] is False
    assert untouched["replayed_sha256"] == untouched["original_sha256"]
    assert desk.letters()[0]["resolved"] is False

    fixed = desk.replay(DLT, 0, 0, value=good, by="console:admin")
    assert fixed["outcome"] == "applied" and fixed["corrected"] is True
    assert joined(database) == 1
    assert desk.replay(DLT, 0, 0, value=good, by="console:admin")["outcome"] == "duplicate"
    assert joined(database) == 1

    listed = {x["position"]: x for x in desk.letters()}
    assert listed[f"{DLT}/0/0"]["replay"]["outcome"] == "duplicate"  # the latest replay
    assert listed[f"{DLT}/0/0"]["resolved"] is True
    history = desk.letter(DLT, 0, 0)["replays"]
    outcomes = ["duplicate", "applied", "dead_lettered", "dead_lettered"]
    assert [r["outcome"] for r in history] == outcomes
    assert {r["replayed_by"] for r in history} == {"console:admin"}


def test_a_letter_without_its_original_needs_a_correction(database: Database) -> None:
    _, good = broken_registration()
    consumer = processor(database, counting_handlers())
    omitted = DeadLetter(
        DLT, 0, 7, b"F-001", b"",
        (("dlt-consumer", b"reporting"), ("dlt-reason", b"oversized"),
         ("dlt-origin-topic", b"organisation.facility"), (ORIGINAL_OMITTED_HEADER, b"too_large")),
    )  # fmt: skip
    desk = desk_on(database, consumer, [omitted])
    with pytest.raises(NotReplayable):
        desk.replay(DLT, 0, 7, value=None, by="console:admin")
    assert desk.replay(DLT, 0, 7, value=good, by="console:admin")["outcome"] == "applied"


def test_a_forged_record_is_never_replayed(database: Database) -> None:
    _, good = broken_registration()
    consumer = processor(database, counting_handlers())
    forged = DeadLetter(
        DLT, 0, 5, b"F-001", good,
        (("dlt-consumer", b"reporting"), ("dlt-reason", b"forged_source")),
    )  # fmt: skip
    desk = desk_on(database, consumer, [forged])
    with pytest.raises(NotReplayable):
        desk.replay(DLT, 0, 5, value=good, by="console:admin")
    assert joined(database) == 0


def test_only_its_own_letters_can_be_replayed(database: Database) -> None:
    consumer = processor(database, counting_handlers())
    others = DeadLetter(DLT, 0, 3, b"F-002", b"{}", (("dlt-consumer", b"finance"),))
    desk = desk_on(database, consumer, [others])
    with pytest.raises(LetterNotFound):
        desk.replay(DLT, 0, 3, value=None, by="console:admin")  # finance's
    with pytest.raises(LetterNotFound):
        desk.letter("ingestion.visit.dlt", 0, 0)  # not a topic reporting consumes here
    with pytest.raises(LetterNotFound):
        desk.letter(DLT, 0, 42)
