"""Reading a Prometheus text exposition (what ``/metrics`` serves), for the tools and tests
that watch a running service: the simulator, the benchmark, the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["sample_total", "samples"]


def samples(exposition: str) -> Iterator[tuple[str, dict[str, str], float]]:
    """Every sample as (name, labels, value); counters by their ``_total`` name."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            yield sample.name, sample.labels, sample.value


def sample_total(exposition: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` carrying at least these labels (0 when none)."""
    return sum(
        value
        for sample_name, sample_labels, value in samples(exposition)
        if sample_name == name and all(sample_labels.get(k) == v for k, v in labels.items())
    )
