"""Prometheus metrics of the delivery machinery, named with the service as prefix.

Each service process owns one :class:`prometheus_client.CollectorRegistry`; ``/metrics``
serves it. Creating the metrics on an explicit registry (not the global one) keeps tests and
several services in one interpreter from colliding.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["DeliveryMetrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


@dataclass(frozen=True)
class DeliveryMetrics:
    events_consumed: Counter
    event_handle_seconds: Histogram
    batch_seconds: Histogram
    dead_lettered: Counter
    consume_retries: Counter
    consumer_lag: Gauge
    events_published: Counter
    outbox_pending: Gauge
    outbox_oldest_age: Gauge
    relay_errors: Counter
    relay_leader: Gauge

    @classmethod
    def create(cls, namespace: str, registry: CollectorRegistry) -> DeliveryMetrics:
        """All delivery metrics for service ``namespace``, registered on ``registry``."""

        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(name, doc, labels, namespace=namespace, registry=registry)

        def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
            return Gauge(name, doc, labels, namespace=namespace, registry=registry)

        return cls(
            events_consumed=counter(
                "events_consumed",
                "Events read by this service's consumers, by type and outcome "
                "(applied, duplicate, ignored, dead_lettered).",
                ("topic", "type", "outcome"),
            ),
            event_handle_seconds=Histogram(
                "event_handle_seconds",
                "Time spent in one event's handler.",
                ("type",),
                namespace=namespace,
                registry=registry,
                buckets=_LATENCY_BUCKETS,
            ),
            batch_seconds=Histogram(
                "consume_batch_seconds",
                "Time to apply and commit one consumed batch.",
                ("topic",),
                namespace=namespace,
                registry=registry,
                buckets=_LATENCY_BUCKETS,
            ),
            dead_lettered=counter(
                "events_dead_lettered",
                "Records sent to a dead-letter topic, by reason.",
                ("topic", "reason"),
            ),
            consume_retries=counter(
                "consume_retries",
                "Batch attempts that failed and were retried, by kind (infrastructure, handler).",
                ("topic", "kind"),
            ),
            consumer_lag=gauge(
                "consumer_lag",
                "Records behind the partition's high watermark (from fetch responses).",
                ("topic", "partition"),
            ),
            events_published=counter(
                "events_published", "Outbox records published to Kafka, by topic.", ("topic",)
            ),
            outbox_pending=gauge("outbox_pending", "Outbox records not yet published."),
            outbox_oldest_age=gauge(
                "outbox_oldest_age_seconds", "Age of the oldest unpublished outbox record."
            ),
            relay_errors=counter("outbox_relay_errors", "Failed relay rounds (retried)."),
            relay_leader=gauge(
                "outbox_relay_leader", "1 when this process holds the relay lock and publishes."
            ),
        )
