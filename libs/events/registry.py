"""The type registry: the one place that maps wire type names to payload schemas and topics.

A payload class is registered with :func:`event_type`. The wire name never comes from the
class name, so a class can be renamed freely; a breaking change is a new ``.v2`` type name
registered beside ``.v1``.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from libs.events.payload import Payload

__all__ = ["EventSpec", "Registry", "UnknownEventType", "event_type", "registry"]

P = TypeVar("P", bound=Payload)

_TYPE_NAME = re.compile(
    r"^(?P<topic>(?P<domain>[a-z]+)\.(?P<entity>[a-z_]+))\.[a-z_]+\.v[1-9][0-9]*$"
)
_VERSION = re.compile(r"\.v[1-9][0-9]*$")


class UnknownEventType(LookupError):
    """Raised for a type name (or payload class) that is not in the registry."""


@dataclass(frozen=True)
class EventSpec:
    """Everything the backbone knows about one event type."""

    type: str
    payload: builtins.type[Payload]
    topic: str
    key: str
    """Name of the payload field whose value is the Kafka key and the envelope ``subject``."""
    producer: str
    """The service that owns (publishes) this type, or ``his`` for hospital information systems."""
    time_field: str | None = None
    """The payload field holding when the fact happened (for edge checks such as a fact
    dated in the future), where the producer's clock is not ours."""
    identity: tuple[str, ...] = ()
    """The payload fields naming the fact the way the business does (a visit by its facility
    and visit id): a second event of this type with the same values is the same fact, under
    whatever event id it arrives, and every consumer applies it once. Empty for snapshots and
    state that may legitimately be sent again with other content (master data, timetables)."""
    former_producers: tuple[str, ...] = ()
    """Services that published this type before its owner changed (the organisation moved
    from staffing to administration): their records already on the topic stay believed, so a
    consumer replaying the history keeps it; the cluster's ACLs stop them writing more."""

    @property
    def domain(self) -> str:
        return self.topic.split(".", 1)[0]

    @property
    def summary(self) -> str:
        doc = (self.payload.__doc__ or "").strip()
        return doc.split("\n\n", 1)[0].replace("\n", " ")

    def key_of(self, payload: Payload) -> str:
        """The aggregate id of ``payload``: its partition key and subject."""
        return str(getattr(payload, self.key))

    @property
    def fact_type(self) -> str:
        """The name facts of this type are claimed under: the type's first version, so a fact
        sent as ``.v1`` and again as ``.v2`` is one fact, and claims stored before a ``.v2``
        existed still hold."""
        return _VERSION.sub(".v1", self.type)

    def fact_of(self, payload: Payload) -> str | None:
        """What the business calls this fact (``<type>.v1:<identity values>``), if it says."""
        if not self.identity:
            return None
        return self.fact_type + ":" + "/".join(str(getattr(payload, f)) for f in self.identity)


class Registry:
    """Type name → :class:`EventSpec`, and payload class → :class:`EventSpec`."""

    def __init__(self) -> None:
        self._by_type: dict[str, EventSpec] = {}
        self._by_class: dict[type[Payload], EventSpec] = {}

    def register(self, spec: EventSpec) -> None:
        """Add ``spec``; a type name or class can be registered only once."""
        match = _TYPE_NAME.match(spec.type)
        if match is None:
            raise ValueError(f"{spec.type!r} is not <domain>.<entity>.<past-tense-verb>.v<major>")
        if match["topic"] != spec.topic:
            raise ValueError(f"{spec.type!r} must be published on topic {match['topic']!r}")
        if spec.key not in spec.payload.model_fields:
            raise ValueError(f"{spec.type!r}: key field {spec.key!r} is not a payload field")
        if spec.time_field is not None and spec.time_field not in spec.payload.model_fields:
            raise ValueError(f"{spec.type!r}: time field {spec.time_field!r} is not a field")
        for name in spec.identity:
            field = spec.payload.model_fields.get(name)
            if field is None or not field.is_required():
                raise ValueError(f"{spec.type!r}: identity field {name!r} is not a required field")
        if spec.type in self._by_type:
            raise ValueError(f"event type {spec.type!r} is registered twice")
        if spec.payload in self._by_class:
            raise ValueError(f"{spec.payload.__name__} is registered twice")
        self._by_type[spec.type] = spec
        self._by_class[spec.payload] = spec

    def by_type(self, type_name: str) -> EventSpec:
        """The spec for a wire type name; :class:`UnknownEventType` if there is none."""
        try:
            return self._by_type[type_name]
        except KeyError:
            raise UnknownEventType(f"unknown event type {type_name!r}") from None

    def for_payload(self, payload: Payload | type[Payload]) -> EventSpec:
        """The spec for a payload instance or class."""
        cls = payload if isinstance(payload, type) else type(payload)
        try:
            return self._by_class[cls]
        except KeyError:
            raise UnknownEventType(f"{cls.__name__} is not a registered event payload") from None

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._by_type

    def __iter__(self) -> Iterator[EventSpec]:
        return iter(sorted(self._by_type.values(), key=lambda s: s.type))

    def topics(self) -> set[str]:
        """Every topic some registered type is published on."""
        return {spec.topic for spec in self._by_type.values()}


#: The registry of the whole suite; the catalogue modules fill it on import.
registry = Registry()


def event_type(
    type_name: str,
    *,
    key: str,
    producer: str,
    time_field: str | None = None,
    identity: tuple[str, ...] = (),
    former_producers: tuple[str, ...] = (),
) -> Callable[[type[P]], type[P]]:
    """Class decorator registering a payload class as the schema of ``type_name``.

    The topic is the type name's ``<domain>.<entity>`` prefix: one topic per producing
    aggregate, keyed by the aggregate id held in the ``key`` field. ``time_field`` names the
    field telling when the fact happened, for types whose producers run on other clocks;
    ``identity`` the fields naming the fact (see :attr:`EventSpec.identity`);
    ``former_producers`` who published it before its owner changed.
    """

    def register(cls: type[P]) -> type[P]:
        topic = ".".join(type_name.split(".")[:2])
        registry.register(
            EventSpec(
                type=type_name,
                payload=cls,
                topic=topic,
                key=key,
                producer=producer,
                time_field=time_field,
                identity=identity,
                former_producers=former_producers,
            )
        )
        return cls

    return register
