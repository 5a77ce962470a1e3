"""Topic declarations: every catalogue topic declared once, each with a dead-letter twin."""

from __future__ import annotations

from libs.events import registry
from libs.events.topics import TopicDeclaration, _fit_to_cluster, load_declarations


def test_every_catalogue_topic_is_declared_and_every_declaration_is_used() -> None:
    declared = {d.name for d in load_declarations() if not d.dead_letter}
    assert declared == registry.topics()


def test_each_topic_has_a_dead_letter_twin() -> None:
    decls = load_declarations()
    names = {d.name for d in decls}
    for decl in decls:
        if not decl.dead_letter:
            assert f"{decl.name}.dlt" in names
    assert all(d.partitions >= 1 for d in decls)


def test_replication_and_min_isr_fit_the_cluster() -> None:
    decl = TopicDeclaration("t", 3, 3, {"min.insync.replicas": "2"})
    assert _fit_to_cluster(decl, brokers=1) == (1, {"min.insync.replicas": "1"})
    assert _fit_to_cluster(decl, brokers=3) == (3, {"min.insync.replicas": "2"})


def test_logical_and_physical_names_under_a_namespace() -> None:
    import pytest

    from libs.events.topics import logical_topic, physical_topic

    assert physical_topic("pharmacy.stock", "qs.") == "qs.pharmacy.stock"
    assert logical_topic("qs.pharmacy.stock", "qs.") == "pharmacy.stock"
    assert logical_topic("pharmacy.stock") == "pharmacy.stock"
    with pytest.raises(ValueError, match="outside namespace"):
        logical_topic("other.pharmacy.stock", "qs.")
