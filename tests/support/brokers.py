"""The broker a test talks to: the test run's Kafka cluster, or an embedded Tansu of its own.

The cluster is the one ``tests/support/testbed.py`` started for the run, or the one
``TEST_KAFKA_BOOTSTRAP_SERVERS`` names. Each test gets a topic namespace of its own there
(``KAFKA_TOPIC_PREFIX``, e.g. ``t1a2b3c4d.``): its topics and consumer groups cannot see
another test's, and they are deleted afterwards.

A test that needs the embedded broker (it stops the broker, or it checks that something holds
on both) asks for ``kind="tansu"``; ``TEST_BROKER=tansu`` puts every test on one.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from libs.events.topics import create_topics, delete_topics, physical_topic
from libs.launcher.broker import EmbeddedBroker
from libs.launcher.ports import free_port


def cluster_bootstrap() -> str:
    """The Kafka cluster of this test run (empty when every test runs on Tansu)."""
    return os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS", "")


class BrokerAddress(str):
    """A bootstrap address that also carries the topic namespace of the test using it.

    It is a ``str`` so it goes wherever a bootstrap address goes; the test helpers
    (``produce``, ``read_all``, ``start_service``) read ``topic_prefix`` from it.
    """

    topic_prefix: str

    def __new__(cls, bootstrap: str, topic_prefix: str = "") -> BrokerAddress:
        address = super().__new__(cls, bootstrap)
        address.topic_prefix = topic_prefix
        return address


def prefix_of(bootstrap: str) -> str:
    return getattr(bootstrap, "topic_prefix", "")


def topic_on(bootstrap: str, topic: str) -> str:
    """The physical name of logical ``topic`` for the test behind ``bootstrap``."""
    return physical_topic(topic, prefix_of(bootstrap))


@contextlib.contextmanager
def namespace_on(bootstrap: str) -> Iterator[BrokerAddress]:
    """Every declared topic under a new prefix on ``bootstrap``; deleted afterwards."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    create_topics(bootstrap, prefix=prefix)
    try:
        yield BrokerAddress(bootstrap, prefix)
    finally:
        with contextlib.suppress(Exception):  # best effort: the namespace is unique anyway
            delete_topics(bootstrap, prefix=prefix)


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
        create_topics(self.bootstrap_servers)


@contextlib.contextmanager
def broker_for_test(log_path: Path, kind: str | None = None) -> Iterator[TestBroker]:
    """A broker for one test: a namespace on the run's cluster, or (``kind="tansu"``, or no
    cluster) a fresh embedded Tansu."""
    cluster = cluster_bootstrap()
    if kind == "kafka" and not cluster:
        raise RuntimeError("no Kafka cluster for this run (TEST_KAFKA_BOOTSTRAP_SERVERS)")
    if cluster and kind != "tansu":
        with namespace_on(cluster) as address:
            yield TestBroker(address, None)
        return
    with log_path.open("wb") as log, EmbeddedBroker(free_port(), log=log) as embedded:
        create_topics(embedded.bootstrap_servers)
        yield TestBroker(BrokerAddress(embedded.bootstrap_servers), embedded)
