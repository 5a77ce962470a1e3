"""Several counties can share one cluster: a service under a topic namespace sees only its own
topics and consumer group, and dead-letters into its own namespace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from libs.events import encode
from tests.support.brokers import BrokerAddress, TestBroker, provision
from tests.support.delivery import event, facility
from tests.support.kafka import produce, read_all, wait_for
from tests.support.services import start_service


def test_a_service_in_a_namespace_uses_only_its_own_topics(
    broker: TestBroker, make_database: Callable[[str], str], tmp_path: Path
) -> None:
    county = BrokerAddress(
        broker.bootstrap_servers,
        broker.topic_prefix + "qs.",
        broker.bootstrap_servers.secret,
    )
    provision(county)
    reporting = start_service(
        "reporting", bootstrap=county, database_url=make_database("r"), data_dir=tmp_path / "data"
    )
    try:
        # Another county's record on the un-namespaced topic is not ours.
        produce(broker.bootstrap_servers, "organisation.facility", [encode(event(facility(7)))])
        produce(county, "organisation.facility", [encode(event(facility(1))), b"garbage"])
        wait_for(
            lambda: (
                reporting.metric("reporting_member_facilities", community="QS-MC1", tier="primary")
                == 1
            ),
            what="the county's own event",
        )
        letters = wait_for(
            lambda: read_all(county, "organisation.facility.dlt"),
            what="a dead letter in the county's namespace",
        )
        assert [r.value for r in letters] == [b"garbage"]
        assert read_all(broker.bootstrap_servers, "organisation.facility.dlt") == []
        assert (
            reporting.metric("reporting_member_facilities", community="QS-MC1", tier="primary") == 1
        )
    finally:
        reporting.stop()
