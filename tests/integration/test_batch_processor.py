"""Consuming: idempotent, transactional batches with a dead-letter path (real databases)."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from libs.events import CloudEvent, Payload, PermanentDecodeError, PermanentError, decode, encode
from libs.events.catalogue.ingestion import VisitRecorded
from libs.events.catalogue.organisation import FacilityRegistered
from libs.events.consuming import REPLAY_HEADER, BatchProcessor, HandlerRegistry, ProcessingStopped
from libs.events.consuming.dead_letters import ORIGINAL_OMITTED_HEADER
from libs.events.envelope import new_event
from libs.events.outbox.staging import MAX_RECORD_BYTES, decode_headers, record_size, stage_record
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
        problem = fail(ev) if fail else None
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
        if ev.facility_id == "F-002":
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


def test_an_event_naming_what_is_not_known_yet_holds_only_its_own_key(
    database: Database,
) -> None:
    """A receipt can overtake the facility's registration (another topic) while the suite
    starts: the event is parked with the later events of its key behind it, the rest of the
    batch goes on, and the parked ones apply in order once the facility is known."""
    unknown = {"F-001"}
    applied: list[tuple[str, str]] = []
    handlers = HandlerRegistry()

    @handlers.on(FacilityRegistered)
    def record(ev, uow) -> None:
        if ev.facility_id in unknown:
            raise NotYetKnown("unknown_facility", "not yet")
        applied.append((ev.facility_id, ev.name))

    consumer = processor(database, handlers, reference_grace_s=30.0)
    first, other = event(facility(1)), event(facility(2))
    second = event(facility(1).model_copy(update={"name": "更名"}))  # same key, later
    result = consumer.process(as_messages([first, other, second]))
    assert result.applied == [other.id]
    assert result.parked == [first.id, second.id]
    assert consumer.retry_parked().applied == []  # still unknown: still waiting

    unknown.clear()
    assert consumer.retry_parked().applied == [first.id, second.id]
    assert applied == [("F-002", "第2卫生院"), ("F-001", "第1卫生院"), ("F-001", "更名")]
    # Redelivered after all that: nothing happens twice.
    assert consumer.process(as_messages([first, other, second])).duplicates == [
        first.id,
        other.id,
        second.id,
    ]
    assert consumer.retry_parked().applied == []


def test_a_facility_still_unknown_after_the_grace_is_dead_lettered(database: Database) -> None:
    handlers = counting_handlers(lambda data: NotYetKnown("unknown_facility", "never"))
    consumer = processor(database, handlers, reference_grace_s=0.3)
    parked = event(facility(1))
    assert consumer.process(as_messages([parked])).parked == [parked.id]
    assert consumer.retry_parked().dead_lettered == []
    time.sleep(0.3)
    assert consumer.retry_parked().dead_lettered == [(parked.id, "unknown_facility")]
    assert joined(database) == 0
    (letter,) = dead_letters(database)
    assert letter.value == encode(parked)


def test_a_facility_a_hospital_system_names_unknown_is_dead_lettered_at_once(
    database: Database,
) -> None:
    """What a hospital information system names is final: no waiting, the partition moves on."""
    handlers = HandlerRegistry()

    @handlers.on(VisitRecorded)
    def record(ev, uow) -> None:
        raise NotYetKnown("unknown_facility", "not a member")

    visit = event(sample_payload(VisitRecorded))
    started = time.monotonic()
    result = processor(database, handlers, reference_grace_s=30.0).process(
        as_messages([visit], topic="ingestion.visit")
    )
    assert result.dead_lettered == [(visit.id, "unknown_facility")]
    assert time.monotonic() - started < 10


def test_any_batch_of_hostile_records_is_applied_or_dead_lettered_and_never_raises(
    database: Database,
) -> None:
    """Property: whatever a batch holds (valid events, copies, garbage, parser traps, real
    envelopes with fields replaced), processing returns, every record is accounted for
    exactly once (one outcome per record), and every dead letter carries the original bytes."""
    consumer = processor(database, counting_handlers())
    offsets = itertools.count()
    valid = [event(facility(n)) for n in range(3)]
    poison = b'{"specversion":"1.0","id":' + b"9" * 5000 + b"}"
    template = json.loads(encode(valid[0]))
    records = st.one_of(
        st.sampled_from(valid),
        st.binary(max_size=64),
        st.just(poison),
        st.just(None),
        st.builds(
            lambda field, value: json.dumps(template | {field: value}).encode(),
            st.sampled_from(sorted(template)),
            st.one_of(st.integers(), st.text(max_size=8), st.none(), st.floats()),
        ),
    )

    @settings(max_examples=60, deadline=None, database=None)
    @given(st.lists(records, min_size=1, max_size=6))
    def check(batch: list[CloudEvent[Payload] | bytes | None]) -> None:
        messages = as_messages(batch, first_offset=next(offsets) * 10)
        before = len(dead_letters(database))
        result = consumer.process(messages)
        outcomes = [*result.applied, *result.duplicates, *result.ignored]
        outcomes += [key for key, _ in result.dead_lettered]
        expected = []  # one outcome per record: its event id, or its position if unusable
        named = {}  # a record refused by position although it has an id (an id reused)
        for message in messages:
            try:
                expected.append(event_id := decode(message.value, topic=message.topic).id)
                named[f"pos:{message.position}"] = event_id
            except PermanentDecodeError:
                expected.append(f"pos:{message.position}")
        outcomes = [named.get(key, key) for key in outcomes]
        assert Counter(outcomes) == Counter(expected)
        letters = dead_letters(database)[before:]
        assert len(letters) == len(result.dead_lettered)
        originals = {m.value or b"" for m in messages}
        assert all(letter.value in originals for letter in letters)

    check()


def test_a_record_too_large_to_carry_is_dead_lettered_as_a_reference(database: Database) -> None:
    """A record just under the broker's limit is refused as oversized; carrying it with the
    dead-letter headers would make a record no producer can send, jamming the relay."""
    big = b'{"pad":"' + b"x" * 1_040_000 + b'"}'
    consumer = processor(database, counting_handlers())
    result = consumer.process(as_messages([big, event(facility(9))], headers=(("h", b"v"),)))

    assert [reason for _, reason in result.dead_lettered] == ["oversized"]
    assert joined(database) == 1  # the record after it is applied
    (letter,) = dead_letters(database)
    headers = dict(decode_headers(letter.headers))
    assert letter.value == b""
    assert headers[ORIGINAL_OMITTED_HEADER] == b"too_large"
    assert headers["dlt-original-bytes"] == str(len(big)).encode()
    assert headers["dlt-original-sha256"] == hashlib.sha256(big).hexdigest().encode()
    assert (headers["dlt-origin-topic"], headers["dlt-origin-offset"]) == (
        b"organisation.facility",
        b"0",
    )
    assert record_size(letter.key, letter.value, decode_headers(letter.headers)) < MAX_RECORD_BYTES


def test_a_handler_that_would_publish_an_unpublishable_event_dead_letters_its_cause(
    database: Database,
) -> None:
    handlers = counting_handlers()

    @handlers.on(FacilityRegistered)
    def echo_hugely(ev, uow) -> None:
        stage_record(
            uow.session, topic="reporting.echo", key=None, value=b"x" * (MAX_RECORD_BYTES + 1)
        )

    cause = event(facility(1))
    result = processor(database, handlers).process(as_messages([cause]))
    assert result.dead_lettered == [(cause.id, "too_large_to_publish")]
    assert joined(database) == 0  # its other effects undone with it
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRecord)) == 1  # the letter


def test_an_event_id_reused_for_other_content_is_dead_lettered_not_skipped(
    database: Database,
) -> None:
    first = event(facility(1))
    forged = dataclasses.replace(first, data=facility(2))  # same id, another facility
    consumer = processor(database, counting_handlers())
    copy_in_batch = consumer.process(as_messages([first, forged]))
    later = consumer.process(as_messages([forged, first], first_offset=2))

    assert copy_in_batch.applied == [first.id]
    assert copy_in_batch.dead_lettered == [
        ("pos:organisation.facility/0/1", "conflicting_duplicate")
    ]
    assert later.dead_lettered == [("pos:organisation.facility/0/2", "conflicting_duplicate")]
    assert later.duplicates == [first.id]  # an honest resend is still a duplicate
    assert joined(database) == 1
    assert [dict(decode_headers(r.headers))["dlt-reason"] for r in dead_letters(database)] == [
        b"conflicting_duplicate"
    ] * 2
    # The same records delivered again: nothing more is dead-lettered.
    consumer.process(as_messages([forged, first], first_offset=2))
    assert len(dead_letters(database)) == 2


def test_an_event_from_anyone_but_its_producer_or_under_another_key_is_forged(
    database: Database,
) -> None:
    honest = event(facility(1))
    impostor = new_event(facility(2), source="/services/finance")  # staffing's to publish
    misfiled = event(facility(3))
    messages = as_messages([honest, impostor, misfiled])
    messages[2] = dataclasses.replace(messages[2], key=b"QS-ELSEWHERE")
    result = processor(database, counting_handlers()).process(messages)

    assert result.applied == [honest.id]
    assert sorted(result.dead_lettered) == sorted(
        [(f"pos:{m.position}", "forged_source") for m in messages[1:]]
    )
    assert joined(database) == 1


def counting_visits(refuse: set[str] | None = None) -> tuple[HandlerRegistry, Counter[str]]:
    """Counts each visit applied (not idempotent by itself); refuses the visit ids given."""
    handlers, seen = HandlerRegistry(), Counter[str]()

    @handlers.on(VisitRecorded)
    def count(ev, uow) -> None:
        if refuse and ev.visit_id in refuse:
            raise PermanentError("refused", "as the test asks")
        seen[ev.visit_id] += 1

    return handlers, seen


def visit(visit_id: str, **changes: object) -> CloudEvent[Payload]:
    """A visit under a fresh event id each time, as a hospital system resends it."""
    payload = sample_payload(VisitRecorded, visit_id=visit_id, facility_id="F-001")
    return event(payload.model_copy(update=changes))


def test_a_fact_resent_under_new_event_ids_is_applied_once(database: Database) -> None:
    handlers, seen = counting_visits()
    consumer = processor(database, handlers)
    first, resent_in_batch, resent_later = visit("V-1"), visit("V-1"), visit("V-1")
    assert len({first.id, resent_in_batch.id, resent_later.id}) == 3
    together = consumer.process(as_messages([first, resent_in_batch], topic="ingestion.visit"))
    later = consumer.process(as_messages([resent_later], topic="ingestion.visit", first_offset=2))
    assert together.applied == [first.id] and together.duplicates == [resent_in_batch.id]
    assert later.applied == [] and later.duplicates == [resent_later.id]
    assert seen == {"V-1": 1}


def test_the_same_fact_with_other_content_is_dead_lettered_and_the_first_stands(
    database: Database,
) -> None:
    handlers, seen = counting_visits()
    consumer = processor(database, handlers)
    first = visit("V-1", total_amount=Decimal("100.00"), eligible_amount=Decimal("50.00"))
    changed = visit("V-1", total_amount=Decimal("120.00"), eligible_amount=Decimal("50.00"))
    result = consumer.process(as_messages([first, changed], topic="ingestion.visit"))
    assert result.applied == [first.id]
    assert result.dead_lettered == [(changed.id, "conflicting_fact")]
    (letter,) = dead_letters(database)
    headers = dict(decode_headers(letter.headers))
    assert first.id.encode() in headers["dlt-detail"] and letter.value == encode(changed)
    assert seen == {"V-1": 1}


def test_a_fact_whose_first_event_was_dead_lettered_is_applied_when_resent(
    database: Database,
) -> None:
    """The claim goes with the event's savepoint: a refused or parked event claims nothing."""
    refused = {"V-1"}
    handlers, seen = counting_visits(refused)
    consumer = processor(database, handlers)
    first = visit("V-1")
    assert consumer.process(as_messages([first], topic="ingestion.visit")).dead_lettered == [
        (first.id, "refused")
    ]
    refused.clear()  # the sender fixed what was wrong and sends the visit again
    again = visit("V-1")
    assert consumer.process(
        as_messages([again], topic="ingestion.visit", first_offset=1)
    ).applied == [again.id]
    assert seen == {"V-1": 1}


def test_a_use_case_s_refusal_in_a_handler_is_dead_lettered_at_once_with_its_code(
    database: Database,
) -> None:
    from libs.platform.refusals import Conflict

    handlers = counting_handlers(lambda data: Conflict("already_there", "the rule refuses it"))
    refused = event(facility(1))
    result = processor(database, handlers).process(as_messages([refused]))
    assert result.dead_lettered == [(refused.id, "already_there")] and result.attempts == 1
    assert joined(database) == 0
