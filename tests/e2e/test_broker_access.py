"""Who may write and read where, enforced by the real cluster's authentication and ACLs.

Each principal of the suite tries every topic of its namespace: a service may produce only
to the topics it owns and to the dead-letter twins of what it consumes, the hospital systems
only to the ingestion topics; reads and consumer groups likewise; a client that does not
authenticate, or authenticates wrongly, gets nothing. (The embedded Tansu broker enforces
none of this: README, "Who may publish what".)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    KafkaTimeoutError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)

from libs.events.access import Grant, grants
from libs.events.credentials import KafkaCredentials
from libs.events.topics import load_declarations
from tests.support.brokers import BrokerAddress, TestBroker, topic_on

pytestmark = pytest.mark.parametrize("broker", ["kafka"], indirect=True)

TOPICS = [d.name for d in load_declarations()]
GRANTS = {grant.principal: grant for grant in grants()}


def producer(
    address: BrokerAddress, credentials: KafkaCredentials, *, bootstrap_timeout_ms: int = 5_000
) -> KafkaProducer:
    # Not idempotent: an idempotent producer first asks any broker for a producer id, which
    # the broker grants for WRITE on any topic (KIP-679) and once refused at random in CI
    # (ClusterAuthorizationFailed before the topic's own answer). This asks only the topic's ACL.
    return KafkaProducer(
        bootstrap_servers=address,
        acks="all",
        enable_idempotence=False,
        max_block_ms=10_000,
        bootstrap_timeout_ms=bootstrap_timeout_ms,
        request_timeout_ms=5_000,
        client_id="access-test",
        **credentials.client_options(),
    )


def may_write(address: BrokerAddress, credentials: KafkaCredentials, topic: str) -> bool:
    """Whether ``credentials`` may write ``topic``. A client that timed out before any answer
    (its metadata under CI load: seen after 5 s) learnt nothing about the ACL: asked again
    with a new client for up to 40 s, so the answer is always the broker's."""
    deadline = time.monotonic() + 40
    while True:
        try:
            return _may_write(address, credentials, topic)
        except KafkaTimeoutError:
            if time.monotonic() > deadline:
                raise


def _may_write(address: BrokerAddress, credentials: KafkaCredentials, topic: str) -> bool:
    """One producer per topic: a refused topic stays in a client's metadata and spoils it."""
    client = producer(address, credentials)
    try:
        client.send(topic_on(address, topic), key=b"access-test", value=b"{}").get(timeout=10)
    except TopicAuthorizationFailedError:
        return False
    finally:
        client.close(timeout=5)
    return True


def may_read(address: BrokerAddress, credentials: KafkaCredentials, topic: str) -> bool:
    """Whether ``credentials`` may read ``topic``. A broker that has not yet learnt of the
    namespace's new topic answers "unknown topic": asked again until it knows (10 s), so the
    answer is always the ACL's."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return _may_read(address, credentials, topic)
        except UnknownTopicOrPartitionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _may_read(address: BrokerAddress, credentials: KafkaCredentials, topic: str) -> bool:
    consumer = KafkaConsumer(
        bootstrap_servers=address,
        group_id=None,
        enable_auto_commit=False,
        request_timeout_ms=6_000,
        **credentials.client_options(),
    )
    try:
        partition = TopicPartition(topic_on(address, topic), 0)
        consumer.assign([partition])
        consumer.seek_to_beginning()
        consumer.position(partition)  # DESCRIBE (which WRITE implies) is enough for this
        for _ in range(2):
            consumer.poll(timeout_ms=200)  # a fetch: READ, or refused
    except TopicAuthorizationFailedError:
        return False
    finally:
        consumer.close()
    return True


def granted(allows: Callable[[str], bool], grant: frozenset[str]) -> set[str]:
    """The topics ``allows`` admits: each topic tried once; a granted one refused is tried
    again for a few seconds (an ACL reaches every broker through the metadata log a moment
    after it is created), a refused one that is not granted must stay refused."""
    allowed = _admitted(allows, TOPICS)
    deadline = time.monotonic() + 10
    while (late := set(grant) - allowed) and time.monotonic() < deadline:
        time.sleep(0.5)
        allowed |= _admitted(allows, sorted(late))
    return allowed


def _admitted(allows: Callable[[str], bool], topics: list[str]) -> set[str]:
    """The topics ``allows`` admits, asked eight at a time: each answer is a new client's
    handshake and round trips, mostly waiting, so a principal's ~100 topics take seconds
    instead of half a minute."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(allows, topics))
    return {topic for topic, allowed in zip(topics, answers, strict=True) if allowed}


@pytest.fixture
def address(broker: TestBroker) -> BrokerAddress:
    assert broker.bootstrap_servers.secret, "the run's cluster authenticates"
    wait_until_every_broker_knows(broker.bootstrap_servers)
    return broker.bootstrap_servers


def wait_until_every_broker_knows(address: BrokerAddress, timeout_s: float = 30.0) -> None:
    """Until each broker's metadata has the new namespace's topics (and so its ACLs, created
    before them): the controller has answered, but a broker that has not caught up yet
    answers "unknown topic", which says nothing about who may use it."""
    wanted = {topic_on(address, topic) for topic in TOPICS}
    deadline = time.monotonic() + timeout_s
    for node in address.split(","):
        while True:
            # A fresh client asks its bootstrap node, and only it, for the first metadata.
            consumer = KafkaConsumer(bootstrap_servers=node, **address.credentials.client_options())
            try:
                known = consumer.topics()
            finally:
                consumer.close()
            if wanted <= known:
                break
            assert time.monotonic() < deadline, f"{node} lacks {sorted(wanted - known)[:3]}"
            time.sleep(0.2)


@pytest.mark.parametrize("principal", sorted(GRANTS))
def test_each_principal_produces_only_to_the_topics_it_owns(
    address: BrokerAddress, principal: str
) -> None:
    grant: Grant = GRANTS[principal]
    credentials = address.principal(principal)
    allowed = granted(lambda topic: may_write(address, credentials, topic), grant.writes)
    assert allowed == set(grant.writes)
    assert len(TOPICS) - len(allowed) > len(TOPICS) // 2, "most topics are someone else's"


def test_hospital_systems_write_the_ingestion_topics_and_read_nothing(
    address: BrokerAddress,
) -> None:
    his = address.principal("his")
    assert GRANTS["his"].writes == {
        "ingestion.visit",
        "ingestion.prescription",
        "ingestion.order",
        "ingestion.result",
    }
    assert not may_read(address, his, "ingestion.visit")
    assert not may_read(address, his, "pharmacy.stock")


@pytest.mark.parametrize("principal", ["pharmacy", "finance"])
def test_a_service_reads_what_it_consumes_and_nothing_else(
    address: BrokerAddress, principal: str
) -> None:
    grant = GRANTS[principal]
    credentials = address.principal(principal)
    readable = granted(lambda topic: may_read(address, credentials, topic), grant.reads)
    assert readable == set(grant.reads)


def test_a_service_cannot_join_another_service_s_consumer_group(address: BrokerAddress) -> None:
    pharmacy = address.principal("pharmacy")
    topic = topic_on(address, "organisation.facility")
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=address,
        group_id=address.topic_prefix + "finance",
        request_timeout_ms=6_000,
        **pharmacy.client_options(),
    )
    try:
        with pytest.raises(GroupAuthorizationFailedError):
            poll_for(consumer, seconds=10)
    finally:
        consumer.close()


def poll_for(consumer: KafkaConsumer, *, seconds: float) -> None:
    for _ in range(int(seconds * 2)):
        consumer.poll(timeout_ms=500)


@pytest.mark.parametrize(
    "credentials",
    [
        KafkaCredentials(),  # no SASL at all
        KafkaCredentials("SASL_PLAINTEXT", "SCRAM-SHA-512", "pharmacy", "not-the-password"),
        KafkaCredentials("SASL_PLAINTEXT", "SCRAM-SHA-512", "mallory", "made-up"),
        KafkaCredentials("SASL_PLAINTEXT", "PLAIN", "pharmacy", "guessing"),
    ],
    ids=["plaintext", "wrong-password", "unknown-principal", "plain-as-a-service"],
)
def test_a_client_that_does_not_authenticate_gets_nothing(
    address: BrokerAddress, credentials: KafkaCredentials
) -> None:
    with pytest.raises(KafkaError):
        send_one(address, credentials)


def send_one(address: BrokerAddress, credentials: KafkaCredentials) -> None:
    client = producer(address, credentials, bootstrap_timeout_ms=2_000)
    try:
        client.send(topic_on(address, "ingestion.visit"), key=b"k", value=b"{}").get(timeout=10)
    finally:
        client.close(timeout=1)
