"""The broker a test talks to: the test run's Kafka cluster, or an embedded Tansu of its own.

The cluster is the one ``tests/support/testbed.py`` started for the run, or the one
``TEST_KAFKA_BOOTSTRAP_SERVERS`` names. Each test gets a topic namespace of its own there
(``KAFKA_TOPIC_PREFIX``, e.g. ``t1a2b3c4d.``): its topics and consumer groups cannot see
another test's, and they are deleted afterwards.

On the cluster every client authenticates (``tests/support/kafka_cluster.py``): the test
helpers as the operator (``BrokerAddress.credentials``, a super user: a test may forge what no
service could), each service it starts as its own principal (:func:`principal_env`), under
the ACLs ``libs/events/access.py`` derives, granted per namespace.

A test that needs the embedded broker (it stops the broker, or it checks that something holds
on both) asks for ``kind="tansu"``; ``TEST_BROKER=tansu`` puts every test on one.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from libs.events.access import apply_access, revoke_access
from libs.events.credentials import KafkaCredentials
from libs.events.topics import create_topics, delete_topics, physical_topic
from libs.launcher.broker import EmbeddedBroker
from libs.launcher.ports import free_port
from tests.support.kafka_cluster import operator, password_for


def cluster_bootstrap() -> str:
    """The Kafka cluster of this test run (empty when every test runs on Tansu)."""
    return os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS", "")


def cluster_secret() -> str:
    """The secret the run's cluster derives its passwords from (empty: no authentication)."""
    return os.environ.get("TEST_KAFKA_SECRET", "")


class BrokerAddress(str):
    """A bootstrap address that also carries the topic namespace of the test using it and
    the secret of its cluster (empty for a broker without authentication).

    It is a ``str`` so it goes wherever a bootstrap address goes; the test helpers
    (``produce``, ``read_all``, ``start_service``) read ``topic_prefix`` and the
    credentials from it.
    """

    topic_prefix: str
    secret: str

    def __new__(cls, bootstrap: str, topic_prefix: str = "", secret: str = "") -> BrokerAddress:
        address = super().__new__(cls, bootstrap)
        address.topic_prefix = topic_prefix
        address.secret = secret
        return address

    @property
    def credentials(self) -> KafkaCredentials:
        """The operator's: what the test helpers connect as."""
        return operator(self.secret) if self.secret else KafkaCredentials()

    def principal(self, name: str) -> KafkaCredentials:
        """The credentials of the suite's principal ``name`` (a service, or ``his``)."""
        if not self.secret:
            return KafkaCredentials()
        return KafkaCredentials(
            "SASL_PLAINTEXT", "SCRAM-SHA-512", name, password_for(self.secret, name)
        )


def prefix_of(bootstrap: str) -> str:
    return getattr(bootstrap, "topic_prefix", "")


def credentials_of(bootstrap: str) -> KafkaCredentials:
    """What a test helper connects to ``bootstrap`` as (the operator on the cluster)."""
    return bootstrap.credentials if isinstance(bootstrap, BrokerAddress) else KafkaCredentials()


def principal_of(bootstrap: str, name: str) -> KafkaCredentials:
    """The credentials of principal ``name`` (a service, or ``his``) on ``bootstrap``."""
    if isinstance(bootstrap, BrokerAddress):
        return bootstrap.principal(name)
    return KafkaCredentials()


def principal_env(bootstrap: str, name: str) -> dict[str, str]:
    """The environment that makes a child process principal ``name`` on ``bootstrap``."""
    return principal_of(bootstrap, name).environment()


def topic_on(bootstrap: str, topic: str) -> str:
    """The physical name of logical ``topic`` for the test behind ``bootstrap``."""
    return physical_topic(topic, prefix_of(bootstrap))


def provision(address: BrokerAddress) -> None:
    """Every declared topic in ``address``'s namespace, and the suite's ACLs there when its
    cluster authenticates."""
    # ACLs first: a broker applies the cluster's metadata in order, so one that knows a topic
    # already enforces (and allows) what was granted on it.
    if address.secret:
        apply_access(address, address.credentials, prefix=address.topic_prefix)
    create_topics(address, prefix=address.topic_prefix, credentials=address.credentials)


@contextlib.contextmanager
def namespace_on(bootstrap: str, secret: str = "") -> Iterator[BrokerAddress]:
    """A new namespace on ``bootstrap`` (:func:`provision`); its topics and ACLs are deleted
    afterwards."""
    address = BrokerAddress(bootstrap, f"t{uuid.uuid4().hex[:8]}.", secret)
    admin = address.credentials
    provision(address)
    try:
        yield address
    finally:
        with contextlib.suppress(Exception):  # best effort: the namespace is unique anyway
            if secret:
                revoke_access(bootstrap, admin, prefix=address.topic_prefix)
            delete_topics(bootstrap, prefix=address.topic_prefix, credentials=admin)


class TestBroker:
    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, address: BrokerAddress, embedded: EmbeddedBroker | None) -> None:
        self.bootstrap_servers = address
        self.embedded = embedded

    @property
    def topic_prefix(self) -> str:
        return self.bootstrap_servers.topic_prefix

    @property
    def is_embedded(self) -> bool:
        return self.embedded is not None

    def stop(self) -> None:
        """Stop the embedded broker (an outage); only possible when the test owns it."""
        assert self.embedded is not None, "an external broker cannot be stopped by a test"
        self.embedded.stop()

    def start(self) -> None:
        """Start the embedded broker again on the same port, empty, and recreate topics."""
        assert self.embedded is not None
        self.embedded.start()
        create_topics(self.bootstrap_servers, credentials=KafkaCredentials())


@contextlib.contextmanager
def broker_for_test(log_path: Path, kind: str | None = None) -> Iterator[TestBroker]:
    """A broker for one test: a namespace on the run's cluster, or (``kind="tansu"``, or no
    cluster) a fresh embedded Tansu."""
    cluster = cluster_bootstrap()
    if kind == "kafka" and not cluster:
        raise RuntimeError("no Kafka cluster for this run (TEST_KAFKA_BOOTSTRAP_SERVERS)")
    if cluster and kind != "tansu":
        with namespace_on(cluster, cluster_secret()) as address:
            yield TestBroker(address, None)
        return
    with log_path.open("wb") as log, EmbeddedBroker(free_port(), log=log) as embedded:
        create_topics(embedded.bootstrap_servers, credentials=KafkaCredentials())
        yield TestBroker(BrokerAddress(embedded.bootstrap_servers), embedded)
