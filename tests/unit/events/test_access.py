"""Who may write and read which topic follows from the catalogue, and credentials say who a
client is (libs/events/access.py, libs/events/credentials.py)."""

from __future__ import annotations

import pytest

from libs.events.access import acl_bindings, grants, publishing_for
from libs.events.credentials import KafkaCredentials
from libs.events.registry import registry
from libs.events.topics import dead_letter_topic, load_declarations


def test_every_topic_has_its_producer_as_writer_and_every_dead_letter_topic_its_consumers() -> None:
    writers: dict[str, list[str]] = {}
    for grant in grants():
        for topic in grant.writes:
            writers.setdefault(topic, []).append(grant.principal)
    speaking = publishing_for()
    for spec in registry:
        # The producer, and the services publishing in its name (the gateway for the HIS).
        relays = [name for name, producers in speaking.items() if spec.producer in producers]
        assert sorted(writers[spec.topic]) == sorted([spec.producer, *relays]), spec.topic
    for grant in grants():
        for topic in grant.reads - grant.writes:
            assert dead_letter_topic(topic) in grant.writes, (grant.principal, topic)
    declared = {d.name for d in load_declarations()}
    assert set(writers) <= declared


def test_hospital_systems_write_only_ingestion_and_read_nothing() -> None:
    (his,) = [g for g in grants() if g.principal == "his"]
    assert his.writes == {
        "ingestion.visit",
        "ingestion.prescription",
        "ingestion.order",
        "ingestion.result",
    }
    assert not his.reads
    assert his.group is None


def test_the_bindings_live_in_the_namespace() -> None:
    (pharmacy,) = [g for g in grants() if g.principal == "pharmacy"]
    bindings = acl_bindings(pharmacy, "qs.")
    names = {b.resource_pattern.resource_name for b in bindings}
    assert "qs.pharmacy.stock" in names
    assert "qs.pharmacy" in names  # the consumer group
    assert all(name.startswith("qs.") for name in names)
    assert {b.principal for b in bindings} == {"User:pharmacy"}


def test_credentials_come_from_the_environment_and_refuse_half_a_login() -> None:
    anonymous = KafkaCredentials.from_env({})
    assert anonymous.client_options() == {"security_protocol": "PLAINTEXT"}
    assert anonymous.faust_credentials() is None
    assert anonymous.principal == "User:ANONYMOUS"
    scram = KafkaCredentials.from_env(
        {
            "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "KAFKA_SASL_USERNAME": "finance",
            "KAFKA_SASL_PASSWORD": "s3cret",
        }
    )
    assert scram.client_options()["sasl_mechanism"] == "SCRAM-SHA-512"
    assert scram.faust_credentials().username == "finance"
    assert "s3cret" not in repr(scram)
    with pytest.raises(ValueError, match="KAFKA_SASL_USERNAME"):
        KafkaCredentials.from_env({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"})
    with pytest.raises(ValueError, match="KAFKA_SECURITY_PROTOCOL"):
        KafkaCredentials.from_env({"KAFKA_SECURITY_PROTOCOL": "SSL_PLEASE"})
