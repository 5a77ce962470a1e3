"""Nothing a hospital system sends can crash a worker: a corpus of 200+ malformed and hostile
records, sent raw to the ingestion topics between valid ones. Every hostile record is
dead-lettered with its reason by the service that must refuse it, the valid records around
them are processed, and every worker stays up."""

from __future__ import annotations

from collections import Counter

from libs.events.deadletters import DeadLetter, read_dead_letters
from libs.platform.auth import Role
from tests.conftest import Suite
from tests.support.brokers import prefix_of
from tests.support.hostile import DRUG, FACILITY, PRESCRIPTIONS, VALIDATOR, VISITS, corpus, valid
from tests.support.kafka import produce, wait_for


def letters_of(bootstrap: str, topic: str, consumer: str) -> list[DeadLetter]:
    found = read_dead_letters(bootstrap, [f"{topic}.dlt"], prefix=prefix_of(bootstrap))
    return [letter for letter in found if letter.consumer == consumer]


def test_hostile_records_are_dead_lettered_and_the_valid_ones_between_them_processed(
    suite: Suite,
) -> None:
    running = suite.start("staffing", "pharmacy", "finance", "reporting")
    pharmacy, finance, reporting = (running[n] for n in ("pharmacy", "finance", "reporting"))
    with pharmacy.client(Role.PHARMACY_CENTRE) as centre:  # the copies the checks rely on
        wait_for(
            lambda: (
                centre.get(f"/directory/facilities/{FACILITY}").status_code == 200
                and centre.get(f"/formulary/drugs/{DRUG}").status_code == 200
            ),
            what="pharmacy's copies",
        )
    with finance.client(Role.FINANCE_CENTRE) as books:
        wait_for(
            lambda: books.get(f"/directory/facilities/{FACILITY}").status_code == 200,
            what="finance's copy of the organisation",
        )

    hostile = list(corpus())
    assert len(hostile) >= 200
    valid_sent: Counter[str] = Counter()
    for topic in (VISITS, PRESCRIPTIONS):
        records: list[bytes | None] = []
        for i, item in enumerate(h for h in hostile if h.topic == topic):
            records.append(item.value)
            if i % 8 == 0:  # a real record every few hostile ones
                records.append(valid(topic, 5000 + i))
                valid_sent[topic] += 1
        produce(suite.bootstrap, topic, records)

    # The validating service refuses everything; reporting refuses what the schema refuses and
    # unknown facilities, but counts prescriptions of drugs it has no list of.
    refusers = [(topic, consumer, lambda h: True) for topic, consumer in VALIDATOR.items()]
    refusers += [
        (topic, "reporting", lambda h: h.reason != "unknown_drug")
        for topic in (VISITS, PRESCRIPTIONS)
    ]
    for topic, consumer, refuses in refusers:
        expected = Counter(
            (h.value or b"", h.reason) for h in hostile if h.topic == topic and refuses(h)
        )
        letters = wait_for(
            lambda topic=topic, consumer=consumer, expected=expected: (
                found
                if len(found := letters_of(suite.bootstrap, topic, consumer))
                >= sum(expected.values())
                else None
            ),
            what=f"{consumer} to dead-letter every hostile record of {topic}",
        )
        assert Counter((letter.value, letter.reason) for letter in letters) == expected
        assert all(letter.header("dlt-detail") for letter in letters)

    type_of = {
        VISITS: "ingestion.visit.recorded.v1",
        PRESCRIPTIONS: "ingestion.prescription.issued.v1",
    }
    service_of = {VISITS: finance, PRESCRIPTIONS: pharmacy}
    for topic, service in service_of.items():
        wait_for(
            lambda topic=topic, service=service: (
                service.metric(
                    f"{service.name}_events_consumed_total",
                    outcome="applied",
                    topic=topic,
                    type=type_of[topic],
                )
                == valid_sent[topic]
            ),
            what=f"{service.name} to apply the valid records",
        )
    applied = reporting.metric(
        "reporting_events_consumed_total", outcome="applied", topic=VISITS, type=type_of[VISITS]
    )
    assert applied == valid_sent[VISITS]  # reporting counted the valid visits, nothing more
    for service in running.values():
        assert service.process.poll() is None
        assert service.ready()
