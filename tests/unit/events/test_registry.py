"""The type registry and its naming rules."""

from __future__ import annotations

import pytest

from libs.events import Payload, registry
from libs.events.payload import Identifier
from libs.events.registry import EventSpec, Registry, UnknownEventType


class Thing(Payload):
    thing_id: Identifier


#: Past tenses that end neither in -ed nor in -en.
IRREGULAR_PAST = frozenset({"held", "kept", "left", "met", "paid", "sent", "set"})


def test_names_follow_domain_entity_verb_version() -> None:
    for spec in registry:
        domain, entity, verb, version = spec.type.split(".")
        assert spec.topic == f"{domain}.{entity}"
        assert version.startswith("v")
        words = verb.split("_")
        past = any(w.endswith(("ed", "en")) or w in IRREGULAR_PAST for w in words)
        assert past, spec.type


@pytest.mark.parametrize(
    ("type_name", "topic", "message"),
    [
        ("pharmacy.thing.made", "pharmacy.thing", "past-tense"),
        ("Pharmacy.thing.made.v1", "Pharmacy.thing", "past-tense"),
        ("pharmacy.thing.made.v1", "pharmacy.other", "must be published on"),
    ],
)
def test_badly_named_types_are_refused(type_name: str, topic: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Registry().register(EventSpec(type_name, Thing, topic, "thing_id", "pharmacy"))


class OtherThing(Payload):
    thing_id: Identifier


def test_a_type_or_class_cannot_be_registered_twice() -> None:
    local = Registry()
    local.register(EventSpec("pharmacy.thing.made.v1", Thing, "pharmacy.thing", "thing_id", "x"))
    with pytest.raises(ValueError, match="registered twice"):
        local.register(
            EventSpec("pharmacy.thing.made.v1", OtherThing, "pharmacy.thing", "thing_id", "x")
        )
    with pytest.raises(ValueError, match="registered twice"):
        local.register(
            EventSpec("pharmacy.thing.changed.v1", Thing, "pharmacy.thing", "thing_id", "x")
        )


def test_the_key_must_be_a_payload_field() -> None:
    with pytest.raises(ValueError, match="key field"):
        Registry().register(
            EventSpec("pharmacy.thing.made.v1", Thing, "pharmacy.thing", "nope", "x")
        )


def test_unknown_names_and_classes_raise() -> None:
    with pytest.raises(UnknownEventType):
        registry.by_type("pharmacy.nothing.happened.v1")
    with pytest.raises(UnknownEventType):
        registry.for_payload(Thing)


def test_cents_round_half_up() -> None:
    from decimal import Decimal

    from libs.events.payload import cents

    assert cents(Decimal("2.345")) == Decimal("2.35")
    assert cents(Decimal("2.344")) == Decimal("2.34")
    assert cents(3) == Decimal("3.00")
