"""When the suite has caught up with what the simulator sent, told from the services'
metrics: the pharmacists' rounds wait for it, so what they see does not depend on how fast
the suite was."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import httpx

from libs.platform.exposition import samples

if TYPE_CHECKING:
    from simulator.drivers import Api

__all__ = ["INGESTION_CONSUMERS", "Settler", "SuiteProbe"]


#: Which services consume each ingestion topic (docs/events.md). Quality too: its review
#: desk decides at the rounds what the rules held, and a repeat order after a round must
#: find the earlier result indexed.
INGESTION_CONSUMERS = {
    "ingestion.visit": ("finance", "reporting"),
    "ingestion.prescription": ("pharmacy", "quality", "reporting"),
    "ingestion.order": ("quality", "reporting"),
    "ingestion.result": ("quality", "reporting"),
}


class Settler(Protocol):
    """Tells when the suite has caught up with what the simulator sent (the pharmacists'
    rounds wait for it, so what they see does not depend on how fast the suite was)."""

    def start(self) -> None: ...

    def settle(self, sent: dict[str, int], *, say: Callable[[str], None] = print) -> bool: ...


@dataclass
class SuiteProbe:
    """Tells when the suite has caught up with what was sent: every consumer of the
    ingestion topics has read as many records as the simulator produced, no outbox holds
    anything, and nothing moved for a moment."""

    apis: dict[str, Api]
    baseline: dict[tuple[str, str], float] = field(default_factory=dict)

    def consumed(self) -> tuple[dict[tuple[str, str], float], float, float]:
        """Ingestion records consumed per (service, topic); outbox pending; activity."""
        counts: dict[tuple[str, str], float] = {}
        pending = activity = 0.0
        for service, api in self.apis.items():
            try:
                text = api.metrics()
            except httpx.HTTPError:
                return counts, float("inf"), float("nan")
            for name, labels, value in samples(text):
                if name == f"{service}_events_consumed_total":
                    activity += value
                    topic = labels.get("topic", "")
                    for logical in INGESTION_CONSUMERS:
                        if topic.endswith(logical):
                            key = (service, logical)
                            counts[key] = counts.get(key, 0.0) + value
                elif name == f"{service}_outbox_pending":
                    pending += value
                elif name == f"{service}_events_published_total":
                    activity += value
        return counts, pending, activity

    def start(self) -> None:
        self.baseline = self.consumed()[0]

    def settle(
        self,
        sent: dict[str, int],
        *,
        timeout_s: float = 180.0,
        quiet_s: float = 1.0,
        say: Callable[[str], None] = print,
    ) -> bool:
        deadline = time.monotonic() + timeout_s
        last_activity = None
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            counts, pending, activity = self.consumed()
            behind = {
                (service, topic): n
                - (counts.get((service, topic), 0) - self.baseline.get((service, topic), 0))
                for topic, n in sent.items()
                for service in INGESTION_CONSUMERS.get(topic, ())
                if service in self.apis
            }
            caught_up = all(v <= 0 for v in behind.values()) and pending == 0
            if activity != last_activity:
                last_activity, quiet_since = activity, time.monotonic()
            if caught_up and time.monotonic() - quiet_since >= quiet_s:
                return True
            time.sleep(0.25)
        say(f"the suite did not settle within {timeout_s:.0f}s; going on")
        return False
