"""A member's feed falls silent during its opening hours: the gateway says so once, and once
again when it resumes — on each database, with the gateway's own scan and use cases under a
clock the test moves."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from libs.platform.clock import CountyClock
from libs.platform.worker import ServiceProcess
from services.gateway.domain.messages import Message
from services.gateway.service_layer import ingest
from services.gateway.service_layer.feeds import feed_health, scan
from services.gateway.service_layer.unit_of_work import GatewayUnitOfWork
from tests.support.gateway import JSON_SYSTEM, visit_message

SILENT, RESUMED = "gateway.feed.fallen_silent.v1", "gateway.feed.resumed.v1"


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def mine(event: Any) -> bool:
    return bool(event.data.system_id == JSON_SYSTEM)


def units(process: ServiceProcess, clock: Clock) -> Any:
    base = process.unit_of_work()
    assert isinstance(base, GatewayUnitOfWork)
    config = dataclasses.replace(base.config, clock=CountyClock(base.config.clock.zone, now=clock))
    return lambda: GatewayUnitOfWork(process.database.sessions, source="/services/gateway",
                                     config=config)  # fmt: skip


def test_a_silent_feed_is_announced_once_and_its_resumption_once(gateway_process) -> None:
    process, harness = gateway_process
    config = process.unit_of_work().config
    zone = config.clock.zone
    morning = datetime.now(zone).replace(hour=9, minute=0, second=0, microsecond=0)
    clock = Clock(morning + timedelta(days=1))
    uow = units(process, clock)
    (system,) = [s for s in config.systems if s.system_id == JSON_SYSTEM]

    def send(message_id: str) -> None:
        raw = visit_message(message_id, message_id, at=clock.now - timedelta(minutes=1))
        message = Message(raw["message_id"], raw["type"], raw["data"], location="data")
        request = ingest.Request(message_id, ingest.message_digest(uow(), message), [message])
        (done,) = ingest.submit(uow(), system, [request], lambda r, o: (202, {}))
        assert not isinstance(done, ingest.Replay) and isinstance(done[0], ingest.Accepted)

    send("V-A")
    clock.now += timedelta(minutes=29)
    assert JSON_SYSTEM not in scan(uow())
    clock.now += timedelta(minutes=2)
    assert JSON_SYSTEM in scan(uow())
    clock.now += timedelta(minutes=30)
    assert JSON_SYSTEM not in scan(uow())  # still silent: not announced again
    (health,) = [h for h in feed_health(uow()) if h.system_id == JSON_SYSTEM]
    assert health.silent_since is not None

    send("V-B")
    send("V-C")
    silences = [
        e for e in harness.published(SILENT, as_of=clock.now) if e.data.system_id == JSON_SYSTEM
    ]
    resumptions = [
        e for e in harness.published(RESUMED, as_of=clock.now) if e.data.system_id == JSON_SYSTEM
    ]
    assert len(silences) == 1 and len(resumptions) == 1
    assert silences[0].data.silent_since == resumptions[0].data.silent_since
    assert silences[0].source == resumptions[0].source == "/services/gateway"
    (health,) = [h for h in feed_health(uow()) if h.system_id == JSON_SYSTEM]
    assert health.silent_since is None and health.accepted_today == 3
