"""Consuming: idempotent, transactional batches with a dead-letter path (real databases)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from libs.events import CloudEvent, Payload, PermanentError, encode
from libs.events.catalogue.ingestion import VisitRecorded
from libs.events.catalogue.organisation import FacilityRegistered
from libs.events.consuming import REPLAY_HEADER, BatchProcessor, HandlerRegistry, ProcessingStopped
from libs.events.envelope import new_event
from libs.events.outbox.staging import decode_headers
from libs.events.retry import NotYetKnown
from libs.events.tables import OutboxRecord, ProcessedEvent
from libs.events.unit_of_work import UnitOfWork
from libs.platform.database import Database
from services.reporting.adapters.schema import MemberCount
from tests.support.delivery import (
    as_messages,
    event,
    facility,
    metrics,
    reporting_database,
    uow_factory,
)
from tests.support.samples import sample_payload


@pytest.fixture
def database(make_database: Callable[[str], str]) -> Iterator[Database]:
    db = reporting_database(make_database("reporting"))
    yield db
    db.dispose()


def counting_handlers(
    fail: Callable[[FacilityRegistered], Exception | None] | None = None,
) -> HandlerRegistry:
    """Counts registrations (not idempotent by itself) and fails when ``fail`` says so."""
    handlers = HandlerRegistry()

    @handlers.on(FacilityRegistered)
    def count(ev, uow) -> None:
        row = uow.session.get(MemberCount, ("QS-MC1", "primary"))
        if row is None:
            row = MemberCount(community_id="QS-MC1", tier="primary", joined=0, left=0)
            uow.session.add(row)
        row.joined += 1
        uow.session.flush()  # the write happens before a failure, so rollback is tested
        problem = fail(ev.data) if fail else None
        if problem is not None:
            raise problem

    return handlers


def joined(database: Database) -> int:
    with database.sessions() as session:
        row = session.get(MemberCount, ("QS-MC1", "primary"))
        return row.joined if row else 0


def dead_letters(database: Database) -> list[OutboxRecord]:
    with database.sessions() as session:
        return list(
            session.scalars(
                select(OutboxRecord)
                .where(OutboxRecord.topic.like("%.dlt"))
                .order_by(OutboxRecord.id)
            )
        )


def processor(database: Database, handlers: HandlerRegistry, **kwargs) -> BatchProcessor:
    return BatchProcessor(
        consumer="reporting",
        handlers=handlers,
        uow_factory=uow_factory(database),
        metrics=metrics(),
        **kwargs,
    )


def test_a_redelivered_batch_changes_nothing(database: Database) -> None:
    events = [event(facility(1)), event(facility(2))]
    consumer = processor(database, counting_handlers())
    first = consumer.process(as_messages(events))
    again = consumer.process(as_messages(events, first_offset=10))
    assert sorted(first.applied) == sorted(e.id for e in events)
    assert again.applied == []
    assert sorted(again.duplicates) == sorted(e.id for e in events)
    assert joined(database) == 2


def test_two_copies_in_one_batch_apply_once(database: Database) -> None:
    copy = event(facility(1))
    result = processor(database, counting_handlers()).process(as_messages([copy, copy, copy]))
    assert result.applied == [copy.id]
    assert result.duplicates == [copy.id, copy.id]
    assert joined(database) == 1


def test_types_this_consumer_does_not_handle_are_ignored_not_recorded(database: Database) -> None:
    from libs.events.catalogue.organisation import FacilityClosed
    from tests.support.samples import sample_payload

    other = event(sample_payload(FacilityClosed))
    result = processor(database, counting_handlers()).process(as_messages([other]))
    assert result.ignored == [other.id]
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 0


def test_unusable_records_are_dead_lettered_once_with_reason_and_original_bytes(
    database: Database,
) -> None:
    good = event(facility(1))
    body = json.loads(encode(event(facility(2))))
    body["data"]["tier"] = "quaternary"
    unknown = json.loads(encode(event(facility(3))))
    unknown["type"] = "organisation.facility.teleported.v1"
    records: list[CloudEvent[Payload] | bytes | None] = [
        b"{not json",
        json.dumps(body).encode(),
        good,
        json.dumps(unknown).encode(),
        None,
    ]
    consumer = processor(database, counting_handlers())
    result = consumer.process(as_messages(records, headers=(("trace", b"t-1"),)))

    assert result.applied == [good.id]
    assert joined(database) == 1
    letters = dead_letters(database)
    assert [r.topic for r in letters] == ["organisation.facility.dlt"] * 4
    reasons = []
    for record, original in zip(letters, [records[0], records[1], records[3], b""], strict=True):
        headers = dict(decode_headers(record.headers))
        reasons.append(headers["dlt-reason"].decode())
        assert record.value == original
        assert headers["trace"] == b"t-1"  # original headers kept
        assert headers["dlt-origin-topic"] == b"organisation.facility"
        assert headers["dlt-consumer"] == b"reporting"
        assert {"dlt-origin-partition", "dlt-origin-offset", "dlt-time", "dlt-detail"} <= set(
            headers
        )
    assert reasons == ["bad_json", "schema_violation", "unknown_type", "bad_json"]
    # The same records redelivered (same positions) are not dead-lettered twice.
    consumer.process(as_messages(records, headers=(("trace", b"t-1"),)))
    assert len(dead_letters(database)) == 4


def test_a_handler_s_permanent_error_dead_letters_that_event_and_undoes_its_writes(
    database: Database,
) -> None:
    events = [event(facility(1)), event(facility(2)), event(facility(3))]
    handlers = counting_handlers(
        lambda data: (
            PermanentError("unknown_facility", "not ours") if data.facility_id == "F-002" else None
        )
    )
    result = processor(database, handlers).process(as_messages(events))
    assert sorted(result.applied) == sorted([events[0].id, events[2].id])
    assert result.dead_lettered == [(events[1].id, "unknown_facility")]
    assert joined(database) == 2  # the failed event's increment was rolled back
    (letter,) = dead_letters(database)
    assert dict(decode_headers(letter.headers))["dlt-event-id"] == events[1].id.encode()


def test_a_flaky_handler_is_retried_and_its_effect_applied_once(database: Database) -> None:
    failures = iter([RuntimeError("deadlock"), RuntimeError("deadlock")])
    handlers = counting_handlers(lambda data: next(failures, None))
    result = processor(database, handlers).process(as_messages([event(facility(1))]))
    assert result.attempts == 3
    assert joined(database) == 1
    assert dead_letters(database) == []


def test_a_handler_that_keeps_failing_is_dead_lettered_after_its_attempts(
    database: Database,
) -> None:
    events = [event(facility(1)), event(facility(2))]
    handlers = counting_handlers(
        lambda data: RuntimeError("bug") if data.facility_id == "F-002" else None
    )
    result = processor(database, handlers, max_attempts=3).process(as_messages(events))
    assert result.attempts == 3
    assert result.dead_lettered == [(events[1].id, "exhausted_retries")]
    assert joined(database) == 1


def test_an_unreachable_database_pauses_the_consumer_it_never_skips(database: Database) -> None:
    outage = OperationalError("SELECT 1", {}, Exception("connection refused"))
    handlers = counting_handlers(lambda data: outage)
    stop = threading.Event()
    consumer = processor(database, handlers, max_attempts=2, stop=stop)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            consumer.process(as_messages([event(facility(1))]))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(1.5)  # far beyond max_attempts=2: infrastructure errors never dead-letter
    assert worker.is_alive()
    stop.set()
    worker.join(10)
    assert isinstance(outcome[0], ProcessingStopped)
    assert joined(database) == 0
    assert dead_letters(database) == []


def test_only_an_explicit_replay_reapplies_a_dead_lettered_event(database: Database) -> None:
    broken = {"F-001"}
    handlers = counting_handlers(
        lambda data: (
            PermanentError("unknown_facility", "later") if data.facility_id in broken else None
        )
    )
    consumer = processor(database, handlers)
    letter = event(facility(1))
    assert consumer.process(as_messages([letter])).dead_lettered
    broken.clear()  # the cause is fixed (e.g. the master data arrived)

    plain = consumer.process(as_messages([letter], first_offset=5))
    assert plain.duplicates == [letter.id]
    assert joined(database) == 0
    replay = ((REPLAY_HEADER, b"organisation.facility.dlt/0/0"),)
    assert consumer.process(as_messages([letter], first_offset=6, headers=replay)).applied == [
        letter.id
    ]
    again = consumer.process(as_messages([letter], first_offset=7, headers=replay))
    assert again.duplicates == [letter.id]
    assert joined(database) == 1


class FragileUnitOfWork(UnitOfWork):
    """A unit of work whose commit fails whenever a handler marked it: a fault outside any
    handler, which retrying the batch can never fix."""

    poisoned = False

    def commit(self) -> None:
        if self.poisoned:
            raise RuntimeError("commit refused")
        super().commit()


def test_a_fault_outside_the_handlers_is_isolated_to_its_record(database: Database) -> None:
    handlers = HandlerRegistry()

    @handlers.on(FacilityRegistered)
    def count(ev, uow) -> None:
        row = uow.session.get(MemberCount, ("QS-MC1", "primary"))
        if row is None:
            row = MemberCount(community_id="QS-MC1", tier="primary", joined=0, left=0)
            uow.session.add(row)
        row.joined += 1
        if ev.data.facility_id == "F-002":
            uow.poisoned = True

    events = [event(facility(1)), event(facility(2)), event(facility(3))]
    consumer = BatchProcessor(
        consumer="reporting",
        handlers=handlers,
        metrics=metrics(),
        max_attempts=2,
        uow_factory=lambda: FragileUnitOfWork(database.sessions, source="/services/test"),
    )
    result = consumer.process(as_messages(events))
    assert sorted(result.applied) == sorted([events[0].id, events[2].id])
    assert result.dead_lettered == [(events[1].id, "exhausted_retries")]
    assert joined(database) == 2
    (letter,) = dead_letters(database)
    assert dict(decode_headers(letter.headers))["dlt-event-id"] == events[1].id.encode()
    # Redelivered, the batch changes nothing more.
    assert consumer.process(as_messages(events, first_offset=9)).applied == []


def test_a_facility_another_service_names_is_waited_for_before_dead_lettering(
    database: Database,
) -> None:
    """A receipt can overtake the facility's registration (another topic) while the suite
    starts: the batch waits for the directory copy instead of dead-lettering a valid event."""
    known_after = time.monotonic() + 0.5
    handlers = counting_handlers(
        lambda data: (
            NotYetKnown("unknown_facility", "not yet") if time.monotonic() < known_after else None
        )
    )
    consumer = processor(database, handlers, reference_grace_s=10.0)
    internal = event(facility(1))  # organisation.*: published by the staffing service
    result = consumer.process(as_messages([internal]))
    assert result.applied == [internal.id]
    assert result.dead_lettered == []
    assert joined(database) == 1


def test_a_facility_still_unknown_after_the_grace_is_dead_lettered(database: Database) -> None:
    handlers = counting_handlers(lambda data: NotYetKnown("unknown_facility", "never"))
    started = time.monotonic()
    result = processor(database, handlers, reference_grace_s=0.3).process(
        as_messages([event(facility(1))])
    )
    assert result.dead_lettered and result.dead_lettered[0][1] == "unknown_facility"
    assert time.monotonic() - started >= 0.3
    assert joined(database) == 0


def test_a_facility_a_hospital_system_names_unknown_is_dead_lettered_at_once(
    database: Database,
) -> None:
    """What a hospital information system names is final: no waiting, the partition moves on."""
    handlers = HandlerRegistry()

    @handlers.on(VisitRecorded)
    def record(ev, uow) -> None:
        raise NotYetKnown("unknown_facility", "not a member")

    visit = new_event(sample_payload(VisitRecorded), source="/his/QS-GHOST")
    started = time.monotonic()
    result = processor(database, handlers, reference_grace_s=30.0).process(
        as_messages([visit], topic="ingestion.visit")
    )
    assert result.dead_lettered == [(visit.id, "unknown_facility")]
    assert time.monotonic() - started < 10
