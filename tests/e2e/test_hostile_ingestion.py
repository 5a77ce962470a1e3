"""Nothing a hospital system sends can crash a worker: a corpus of 200+ malformed and hostile
records, sent raw to the ingestion topics between valid ones. Every hostile record is
dead-lettered with its reason by the service that must refuse it, the valid records around
them are processed, and every worker stays up. So it is for the record that once crash-looped
every worker (on the organisation's topic, which all of them read) and for events forged in
another producer's name or under another key (``forged_source``)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable

from libs.events import encode, new_event
from libs.events.catalogue.organisation import FacilityClosed
from libs.events.catalogue.pharmacy import StockReceived
from libs.events.catalogue.referral import ReferralCompleted
from libs.events.deadletters import DeadLetter, read_dead_letters
from libs.events.envelope import utc_now
from libs.platform.auth import Role
from tests.conftest import Suite
from tests.support.brokers import credentials_of, prefix_of
from tests.support.hostile import (
    DRUG,
    FACILITY,
    PRESCRIPTIONS,
    VALIDATOR,
    VISITS,
    Hostile,
    corpus,
    valid,
)
from tests.support.kafka import produce, wait_for
from tests.support.samples import sample_payload

ORGANISATION = "organisation.facility"
#: json raises a bare ValueError on a number longer than 4,300 digits.
POISON = b'{"specversion":"1.0","id":' + b"9" * 5000 + b"}"


#: The topics of the forgeries each service reads: it must refuse every one on them.
FORGERY_READERS = {
    "pharmacy": [ORGANISATION, "referral.referral"],
    "finance": ["pharmacy.stock", ORGANISATION, "referral.referral"],
    "reporting": ["pharmacy.stock", ORGANISATION, "referral.referral"],
    "quality": [ORGANISATION],
}


def forgeries() -> dict[str, list[tuple[bytes, bytes]]]:
    """(value, key) per topic: events from the wrong producer, or keyed off their subject."""
    receipt = sample_payload(StockReceived).model_copy(update={"facility_id": FACILITY})
    closure = FacilityClosed(
        facility_id=FACILITY, closed_on=utc_now().date(), reason="merged", closed_at=utc_now()
    )
    completion = sample_payload(ReferralCompleted)
    as_pharmacy = new_event(closure, source="/services/pharmacy")
    rekeyed = new_event(closure, source="/services/staffing")
    return {
        "pharmacy.stock": [
            (encode(new_event(receipt, source="/his/QS-T01")), FACILITY.encode()),
            (encode(new_event(receipt, source="/services/finance")), FACILITY.encode()),
        ],
        "organisation.facility": [
            (encode(as_pharmacy), FACILITY.encode()),
            (encode(rekeyed), b"QS-ELSEWHERE"),
        ],
        "referral.referral": [
            (encode(new_event(completion, source="/services/finance")), b"x"),
        ],
    }


def digest(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


def original(letter: DeadLetter) -> str:
    """The digest of the record a dead letter stands for, carried or (too large) named."""
    omitted = letter.omitted_original
    return str(omitted["sha256"]) if omitted else digest(letter.value)


def letters_of(bootstrap: str, topic: str, consumer: str) -> list[DeadLetter]:
    found = read_dead_letters(
        bootstrap,
        [f"{topic}.dlt"],
        prefix=prefix_of(bootstrap),
        credentials=credentials_of(bootstrap),
    )
    return [letter for letter in found if letter.consumer == consumer]


def test_hostile_records_are_dead_lettered_and_the_valid_ones_between_them_processed(
    suite: Suite,
) -> None:
    running = suite.start(
        "administration", "staffing", "pharmacy", "finance", "reporting", "quality"
    )
    pharmacy, finance, reporting, quality = (
        running[n] for n in ("pharmacy", "finance", "reporting", "quality")
    )
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
    # The record that once crash-looped every worker, on the topic every one of them reads.
    produce(suite.bootstrap, ORGANISATION, [POISON])
    # Forgeries: each once made a consumer act (a 99,999,000.00 journal entry, a real clinic
    # closed, a referral fee paid). Right topic, right shape, wrong producer or key.
    forged = forgeries()
    for topic, forgeries_on_topic in forged.items():
        for value, key in forgeries_on_topic:
            produce(suite.bootstrap, topic, [value], key=key)

    # The validating service refuses everything; reporting refuses what the schema refuses and
    # unknown facilities, but counts prescriptions of drugs it has no list of; so does the
    # review centre, which reviews them (no rule names an unknown drug). At a facility
    # reviewed before dispensing (FACILITY, a township centre) pharmacy judges the drugs of
    # the release, not of the HIS's prescription: see below.
    def everything(h: Hostile) -> bool:
        return True

    def known_drugs(h: Hostile) -> bool:
        return h.reason != "unknown_drug"

    refusers: list[tuple[str, str, Callable[[Hostile], bool]]] = [
        (VISITS, VALIDATOR[VISITS], everything),
        (PRESCRIPTIONS, VALIDATOR[PRESCRIPTIONS], known_drugs),
        (VISITS, "reporting", known_drugs),
        (PRESCRIPTIONS, "reporting", known_drugs),
        (PRESCRIPTIONS, "quality", known_drugs),
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
        assert Counter((original(letter), letter.reason) for letter in letters) == Counter(
            {(digest(value), reason): n for (value, reason), n in expected.items()}
        )
        assert all(letter.header("dlt-detail") for letter in letters)

    # The review released the prescriptions of drugs no rule names; pharmacy refuses them then.
    unknown_drugs = sum(1 for h in hostile if h.reason == "unknown_drug")
    wait_for(
        lambda: (
            Counter(
                letter.reason
                for letter in letters_of(suite.bootstrap, "quality.prescription", "pharmacy")
            )
            == Counter({"unknown_drug": unknown_drugs})
        ),
        what="pharmacy to refuse the released prescriptions of unknown drugs",
    )

    # Every service reading a topic refuses every forgery on it, and the poison record.
    for consumer, topics in FORGERY_READERS.items():
        for topic in topics:
            refused = [(digest(value), "forged_source") for value, _ in forged[topic]]
            if topic == ORGANISATION:
                refused.append((digest(POISON), "bad_json"))
            wait_for(
                lambda topic=topic, consumer=consumer, refused=refused: (
                    Counter(
                        (original(letter), letter.reason or "")
                        for letter in letters_of(suite.bootstrap, topic, consumer)
                    )
                    == Counter(refused)
                ),
                what=f"{consumer} to refuse every forgery on {topic}",
            )

    type_of = {
        VISITS: "ingestion.visit.recorded.v1",
        PRESCRIPTIONS: "ingestion.prescription.issued.v1",
    }
    # Pharmacy holds the township's prescriptions for the review, those of unknown drugs too
    # (refused at the release, above), and dispenses the valid ones once released.
    wanted = [
        (finance, VISITS, type_of[VISITS], valid_sent[VISITS]),
        (
            pharmacy,
            PRESCRIPTIONS,
            type_of[PRESCRIPTIONS],
            valid_sent[PRESCRIPTIONS] + unknown_drugs,
        ),
        (
            pharmacy,
            "quality.prescription",
            "quality.prescription.released.v1",
            valid_sent[PRESCRIPTIONS],
        ),
    ]
    for service, topic, type_name, count in wanted:
        wait_for(
            lambda service=service, topic=topic, type_name=type_name, count=count: (
                service.metric(
                    f"{service.name}_events_consumed_total",
                    outcome="applied",
                    topic=topic,
                    type=type_name,
                )
                == count
            ),
            what=f"{service.name} to apply the valid records of {topic}",
        )
    applied = reporting.metric(
        "reporting_events_consumed_total", outcome="applied", topic=VISITS, type=type_of[VISITS]
    )
    assert applied == valid_sent[VISITS]  # reporting counted the valid visits, nothing more
    reviewed = quality.metric(
        "quality_events_consumed_total",
        outcome="applied",
        topic=PRESCRIPTIONS,
        type=type_of[PRESCRIPTIONS],
    )
    # the review centre reviewed the valid ones and those of unknown drugs, nothing more
    assert reviewed == valid_sent[PRESCRIPTIONS] + unknown_drugs
    for service in running.values():
        assert service.process.poll() is None
        assert service.ready()
