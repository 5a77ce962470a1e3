"""Set handlers: a batch's new records of one type applied together, one bad record still
dead-lettered alone (real databases)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from libs.events import PermanentError
from libs.events.catalogue.ingestion import VisitRecorded
from libs.events.consuming import BatchProcessor, HandlerRegistry
from libs.events.consuming.sets import RecordSet
from libs.platform.database import Database
from services.reporting.adapters.schema import MemberCount
from tests.support.delivery import as_messages, event, metrics, reporting_database, uow_factory
from tests.support.samples import sample_payload

TOPIC = "ingestion.visit"


@pytest.fixture
def database(make_database: Callable[[str], str]) -> Iterator[Database]:
    db = reporting_database(make_database("reporting"))
    yield db
    db.dispose()


def visit(n: int, *, facility: str = "F-001", amount: str = "10.00") -> VisitRecorded:
    sample = sample_payload(VisitRecorded)
    assert isinstance(sample, VisitRecorded)
    return sample.model_copy(
        update={"visit_id": f"V-{n:04d}", "facility_id": facility, "total_amount": Decimal(amount)}
    )


class CountingVisits:
    """A set handler counting visits per facility; refuses facilities named ``F-BAD`` and
    raises on the whole set when ``explode`` names a visit in it."""

    def __init__(self, explode: str | None = None) -> None:
        self.sets: list[int] = []
        self.explode = explode

    def __call__(self, records: RecordSet[VisitRecorded], uow) -> None:
        self.sets.append(len(records))
        exploding = any(v.visit_id == self.explode for v in records.payloads)
        if exploding and len(records) > 1:
            raise RuntimeError("the set write failed")
        for data in records.each():
            if data.facility_id == "F-BAD":
                records.refuse(PermanentError("unknown_facility", data.facility_id))
                continue
            row = uow.session.get(MemberCount, (data.facility_id, "visits"))
            if row is None:
                row = MemberCount(community_id=data.facility_id, tier="visits", joined=0, left=0)
                uow.session.add(row)
            row.joined += 1
            if self.explode == data.visit_id:  # alone, it fails for real
                raise RuntimeError("this visit cannot be applied")


def registry(handler: CountingVisits) -> HandlerRegistry:
    handlers = HandlerRegistry()
    handlers.on_set(VisitRecorded)(handler)
    return handlers


def processor(database: Database, handler: CountingVisits) -> BatchProcessor:
    return BatchProcessor(
        consumer="reporting",
        handlers=registry(handler),
        uow_factory=uow_factory(database),
        metrics=metrics(),
        max_attempts=1,
    )


def counted(database: Database, facility: str = "F-001") -> int:
    with database.sessions() as session:
        row = session.get(MemberCount, (facility, "visits"))
        return row.joined if row else 0


def test_a_batch_of_new_records_reaches_the_handler_as_one_set(database: Database) -> None:
    handler = CountingVisits()
    events = [event(visit(n)) for n in range(20)]
    result = processor(database, handler).process(as_messages(events, topic=TOPIC))
    assert handler.sets == [20]
    assert sorted(result.applied) == sorted(e.id for e in events)
    assert counted(database) == 20


def test_a_refused_record_is_dead_lettered_alone(database: Database) -> None:
    handler = CountingVisits()
    events = [event(visit(1)), event(visit(2, facility="F-BAD")), event(visit(3))]
    result = processor(database, handler).process(as_messages(events, topic=TOPIC))
    assert handler.sets == [3]
    assert result.dead_lettered == [(events[1].id, "unknown_facility")]
    assert sorted(result.applied) == sorted([events[0].id, events[2].id])
    assert counted(database) == 2


def test_a_failing_set_is_applied_record_by_record(database: Database) -> None:
    handler = CountingVisits(explode="V-0002")
    events = [event(visit(n)) for n in range(1, 5)]
    result = processor(database, handler).process(as_messages(events, topic=TOPIC))
    assert handler.sets[0] == 4 and handler.sets[1:] == [1, 1, 1, 1]
    assert [key for key, _ in result.dead_lettered] == [events[1].id]
    assert counted(database) == 3


def test_a_resend_under_a_new_id_is_a_duplicate_within_and_across_batches(
    database: Database,
) -> None:
    handler = CountingVisits()
    first, resent = event(visit(1)), event(visit(1))
    consumer = processor(database, handler)
    within = consumer.process(as_messages([first, resent], topic=TOPIC))
    later = consumer.process(as_messages([event(visit(1))], topic=TOPIC, first_offset=10))
    assert within.applied == [first.id] and within.duplicates == [resent.id]
    assert later.applied == [] and len(later.duplicates) == 1
    assert counted(database) == 1


def test_other_content_for_an_applied_fact_is_dead_lettered(database: Database) -> None:
    handler = CountingVisits()
    consumer = processor(database, handler)
    consumer.process(as_messages([event(visit(1))], topic=TOPIC))
    changed = event(visit(1, amount="99.00"))
    result = consumer.process(as_messages([changed], topic=TOPIC, first_offset=10))
    assert result.dead_lettered == [(changed.id, "conflicting_fact")]
    assert counted(database) == 1


def test_a_refused_fact_resent_in_the_same_set_is_applied_the_second_time(
    database: Database,
) -> None:
    """Record by record, the refusal rolls back the fact's claim and the resend applies:
    the set must not decide otherwise."""

    first, resent = event(visit(1)), event(visit(1))

    class RefuseFirstCopy(CountingVisits):
        def __call__(self, records, uow) -> None:
            self.sets.append(len(records))
            for data in records.each():
                if uow.event.id == first.id:
                    records.refuse(PermanentError("not_yet", "first copy"))
                    continue
                row = uow.session.get(MemberCount, (data.facility_id, "visits"))
                if row is None:
                    row = MemberCount(
                        community_id=data.facility_id, tier="visits", joined=0, left=0
                    )
                    uow.session.add(row)
                row.joined += 1

    handler = RefuseFirstCopy()
    result = processor(database, handler).process(as_messages([first, resent], topic=TOPIC))
    assert result.dead_lettered == [(first.id, "not_yet")]
    assert result.applied == [resent.id]
    assert counted(database) == 1
