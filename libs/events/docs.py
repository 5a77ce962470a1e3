"""Generate ``docs/events.md`` from the event catalogue: ``python -m libs.events.docs``.

The document lists every event type with its topic, key, producer, consumers and fields.
A contract test regenerates it and fails when the committed file differs.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from libs.events import catalogue
from libs.events.access import service_handlers
from libs.events.registry import EventSpec, registry
from libs.events.topics import load_declarations

__all__ = ["consumers_by_type", "render"]

_DOMAIN_TITLES = {
    "organisation": "Organisation (master data)",
    "ingestion": "Ingestion (hospital information systems)",
    "pharmacy": "Pharmacy",
    "finance": "Finance",
    "staffing": "Staffing",
    "referral": "Referral",
    "reporting": "Reporting",
    "gateway": "Gateway (information systems)",
    "quality": "Quality (prescription review)",
    "administration": "Administration (member appraisal)",
}


def consumers_by_type() -> dict[str, list[str]]:
    """Which services handle each type, discovered from ``services.<name>.handlers.HANDLERS``."""
    found: dict[str, list[str]] = {}
    for name, handlers in service_handlers().items():
        for type_name in handlers.types():
            found.setdefault(type_name, []).append(name)
    return found


def _type_name(annotation: Any, nested: dict[str, type[BaseModel]]) -> str:
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        inner = " \\| ".join(_type_name(a, nested) for a in args)
        return inner + " \\| null" if len(args) < len(get_args(annotation)) else inner
    if origin is list:
        (item,) = get_args(annotation)
        return f"list of {_type_name(item, nested)}"
    if origin is typing.Annotated:
        return _type_name(get_args(annotation)[0], nested)
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            nested[annotation.__name__] = annotation
            return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
        if issubclass(annotation, Enum):
            return "enum: " + ", ".join(f"`{m.value}`" for m in annotation)
        if annotation.__name__ == "AwareDatetime" or issubclass(annotation, datetime):
            return "date-time (UTC)"
        return {
            str: "string",
            int: "integer",
            bool: "boolean",
            Decimal: "decimal (JSON string)",
            date: "date",
        }.get(annotation, annotation.__name__)
    return str(annotation)


def _constraints(info: FieldInfo) -> str:
    parts = []
    for meta in info.metadata:
        for attr, label in (
            ("pattern", "pattern"),
            ("min_length", "min length"),
            ("max_length", "max length"),
            ("gt", ">"),
            ("ge", "≥"),
            ("lt", "<"),
            ("le", "≤"),
            ("decimal_places", "decimal places"),
        ):
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{label} `{value}`" if attr == "pattern" else f"{label} {value}")
        if isinstance(meta, annotated_types.Len):
            parts.append(f"length {meta.min_length}..{meta.max_length}")
    return ", ".join(parts)


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        return "[]"
    value = info.default
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return str(value).lower()
    return "null" if value is None else str(value)


def _fields_table(model: type[BaseModel], nested: dict[str, type[BaseModel]]) -> list[str]:
    lines = ["| field | type | required | notes |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        description = (info.description or "").rstrip(".")
        notes = "; ".join(x for x in (description, _constraints(info)) if x)
        required = "yes" if info.is_required() else f"no (default `{_default(info)}`)"
        lines.append(f"| `{name}` | {_type_name(info.annotation, nested)} | {required} | {notes} |")
    return lines


def render(consumers: dict[str, list[str]] | None = None) -> str:
    """The Markdown text of ``docs/events.md``."""
    consumers = consumers if consumers is not None else consumers_by_type()
    specs = list(registry)
    # Filled while the domains' tables are written: the payloads' nested models, each
    # described once at the end rather than under every event that uses it.
    nested: dict[str, type[BaseModel]] = {}
    out = _introduction()
    out += _overview(specs, consumers)
    for domain in _ordered_domains(specs):
        out += _domain_section(domain, specs, consumers, nested)
    out += ["## Shared structures", ""]
    done: set[str] = set()
    while len(done) < len(nested):
        for name in sorted(set(nested) - done):
            done.add(name)
            model = nested[name]
            out += [f"### {name}", "", *_fields_table(model, nested), ""]
    return "\n".join(out).rstrip() + "\n"


def _introduction() -> list[str]:
    """What every event has in common: the envelope, money, unknown fields, identities."""
    return [
        "# Event catalogue",
        "",
        "Generated from `libs/events/catalogue/` by `make docs` "
        "(`python -m libs.events.docs`); a contract test fails when this file is stale.",
        "",
        "Every event is a CloudEvents 1.0 structured-mode JSON record: attributes `specversion`, "
        "`id`, `source`, `type`, `time` (UTC), `subject` (the aggregate id, also the record key), "
        "`datacontenttype`, and the extensions `correlationid` and `causationid`; the payload is "
        "`data`. Money is a decimal string with two places. Unknown `data` fields are ignored by "
        "consumers; producers never send them. Each topic has a dead-letter twin `<topic>.dlt`.",
        "",
        "A type with an *identity* states a fact that happens once: every consumer applies it "
        "once per identity, whatever event id it arrives under (a hospital system resending a "
        "visit under a new id is a duplicate; the same identity with other content is "
        "dead-lettered as `conflicting_fact`). Types without one are snapshots or state that "
        "may be sent again with other content. A later version of a type states the same fact "
        "as its `.v1`: a fact sent as `.v1` and again as `.v2` is applied once, and compared by "
        "the fields `.v1` has (what only `.v2` says takes no part).",
        "",
    ]


def _overview(specs: list[EventSpec], consumers: dict[str, list[str]]) -> list[str]:
    """One table row per event type: where it travels, who sends and who reads it."""
    partitions = {d.name: d.partitions for d in load_declarations()}
    out = [
        f"{len(list(registry))} event types on {len(registry.topics())} topics.",
        "",
        "| type | topic (partitions) | key | producer | consumers |",
        "|---|---|---|---|---|",
    ]
    for spec in specs:
        topic = f"`{spec.topic}` ({partitions.get(spec.topic, '?')})"
        readers = ", ".join(consumers.get(spec.type, [])) or "—"
        out.append(
            f"| [`{spec.type}`](#{_anchor(spec)}) | {topic} | `{spec.key}` | {spec.producer}"
            f" | {readers} |"
        )
    return out


def _domain_section(
    domain: str,
    specs: list[EventSpec],
    consumers: dict[str, list[str]],
    nested: dict[str, type[BaseModel]],
) -> list[str]:
    """A domain's events, introduced by the first paragraph of its catalogue module."""
    out = ["", f"## {_DOMAIN_TITLES.get(domain, domain)}", ""]
    module = getattr(catalogue, domain if domain != "organisation" else "organisation")
    doc = (module.__doc__ or "").strip()
    if doc:
        out += [" ".join(doc.split("\n\n", 1)[0].split()), ""]
    for spec in (s for s in specs if s.domain == domain):
        out += [
            f"### {spec.type}",
            "",
            " ".join((spec.payload.__doc__ or "").split()),
            "",
            f"Topic `{spec.topic}`, key `{spec.key}`, produced by {spec.producer}; consumed by "
            f"{', '.join(consumers.get(spec.type, [])) or 'no service yet'}."
            + _identity_sentence(spec),
            "",
            *_fields_table(spec.payload, nested),
            "",
        ]
    return out


def _identity_sentence(spec: EventSpec) -> str:
    if not spec.identity:
        return ""
    return " Identity: " + ", ".join(f"`{name}`" for name in spec.identity) + "."


def _anchor(spec: EventSpec) -> str:
    return spec.type.replace(".", "")


def _ordered_domains(specs: Iterable[EventSpec]) -> list[str]:
    present = {s.domain for s in specs}
    return [d for d in _DOMAIN_TITLES if d in present] + sorted(present - set(_DOMAIN_TITLES))


if __name__ == "__main__":
    print(render(), end="")
