"""Reading /metrics: samples summed over the labels a caller does not name."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from libs.platform.exposition import sample_total


def test_samples_are_summed_over_the_labels_not_named() -> None:
    registry = CollectorRegistry()
    consumed = Counter("svc_events_consumed", "", ("topic", "outcome"), registry=registry)
    consumed.labels("a", "applied").inc(2)
    consumed.labels("b", "applied").inc(3)
    consumed.labels("b", "duplicate").inc(5)
    Gauge("svc_outbox_pending", "", registry=registry).set(7)
    text = generate_latest(registry).decode()

    assert sample_total(text, "svc_events_consumed_total") == 10
    assert sample_total(text, "svc_events_consumed_total", outcome="applied") == 5
    assert sample_total(text, "svc_events_consumed_total", topic="b", outcome="duplicate") == 5
    assert sample_total(text, "svc_events_consumed_total", topic="c") == 0
    assert sample_total(text, "svc_outbox_pending") == 7
    assert sample_total(text, "svc_missing") == 0
