"""JSON (de)serialisation of events, validating at the boundary.

Every way a record can be unusable raises :class:`PermanentDecodeError` with a short reason
code, so the consumer can dead-letter it with that reason instead of crashing or retrying.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from libs.events.envelope import CloudEvent
from libs.events.payload import Payload
from libs.events.registry import EventSpec, UnknownEventType, registry

__all__ = [
    "CONTENT_TYPE_HEADER",
    "MAX_EVENT_BYTES",
    "PermanentDecodeError",
    "decode",
    "encode",
    "headers_for",
]

#: Records larger than this are refused before parsing (the broker's default limit is 1 MiB).
MAX_EVENT_BYTES = 512 * 1024
#: The CloudEvents Kafka binding's structured-mode content type.
CONTENT_TYPE_HEADER = ("content-type", b"application/cloudevents+json; charset=utf-8")

DecodeReason = Literal[
    "oversized",
    "bad_json",
    "bad_envelope",
    "unknown_type",
    "wrong_topic",
    "schema_violation",
    "future_dated",
    "undecodable",
    "forged_source",
]

#: How far ahead of our clock an event may claim to be (producers' clocks drift a little).
MAX_CLOCK_SKEW = timedelta(minutes=5)


class PermanentDecodeError(ValueError):
    """A record that can never be processed as it is. ``reason`` is a short code."""

    def __init__(
        self,
        reason: DecodeReason,
        detail: str,
        *,
        event_type: str | None = None,
        event_id: str | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: DecodeReason = reason
        self.detail = detail
        self.event_type = event_type
        self.event_id = event_id


class _Envelope(BaseModel):
    """The CloudEvents attributes as they arrive; ``data`` is checked by the payload schema."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=64)
    source: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=100)
    time: AwareDatetime
    subject: str = Field(min_length=1, max_length=64)
    datacontenttype: Literal["application/json"] = "application/json"
    correlationid: str = Field(min_length=1, max_length=64)
    causationid: str = Field(min_length=1, max_length=64)
    data: dict[str, Any]


def encode(event: CloudEvent[Payload]) -> bytes:
    """The structured-mode JSON bytes of ``event`` (UTF-8, compact, money as strings)."""
    body = {
        "specversion": event.specversion,
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "time": event.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "subject": event.subject,
        "datacontenttype": event.datacontenttype,
        "correlationid": event.correlation_id,
        "causationid": event.causation_id,
        "data": event.data.model_dump(mode="json"),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def headers_for(event: CloudEvent[Payload]) -> list[tuple[str, bytes]]:
    """Kafka headers for a structured-mode event."""
    return [CONTENT_TYPE_HEADER]


def decode(
    raw: bytes | None, *, topic: str | None = None, now: datetime | None = None
) -> CloudEvent[Payload]:
    """Parse and validate one record value into a typed event.

    Raises only :class:`PermanentDecodeError`: whatever else the parser or a validator
    raises on some input nobody foresaw (a 5,000-digit integer makes ``json`` raise a plain
    ``ValueError``) is reported as ``undecodable`` with the exception's type, so a record
    can never make a consumer exit and read it again for ever.
    """
    try:
        return _decode(raw, topic=topic, now=now)
    except PermanentDecodeError:
        raise
    except Exception as exc:  # the class of failure, not one case: see above
        detail = f"{type(exc).__name__}: {str(exc)[:300]}"
        raise PermanentDecodeError("undecodable", detail) from None


def _decode(
    raw: bytes | None, *, topic: str | None = None, now: datetime | None = None
) -> CloudEvent[Payload]:
    """:func:`decode`'s checks, in order.

    ``topic`` (the topic the record was read from) is checked against the type's declared
    topic, so an event published to the wrong topic is refused rather than half-handled.
    Unknown payload fields are ignored: newer producers may add fields. An event dated more
    than :data:`MAX_CLOCK_SKEW` after ``now`` (its envelope time, or the time its type says
    the fact happened) is refused as ``future_dated``.
    """
    envelope = _envelope(raw)
    spec, data = _payload(envelope, topic)
    _refuse_future(envelope, spec.time_field, data, now or datetime.now(UTC))
    return CloudEvent(
        id=envelope.id,
        source=envelope.source,
        type=envelope.type,
        time=envelope.time.astimezone(UTC),
        subject=envelope.subject,
        correlation_id=envelope.correlationid,
        causation_id=envelope.causationid,
        data=data,
    )


def _envelope(raw: bytes | None) -> _Envelope:
    """The record as a CloudEvents envelope: present, not oversized, JSON, an object, with
    the envelope's attributes valid (the data is not looked at yet)."""
    if raw is None:
        raise PermanentDecodeError("bad_json", "empty record value (tombstone)")
    if len(raw) > MAX_EVENT_BYTES:
        raise PermanentDecodeError("oversized", f"{len(raw)} bytes > {MAX_EVENT_BYTES}")
    try:
        # parse_float=Decimal keeps amounts sent as JSON numbers exact.
        body = json.loads(raw, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, limits
        raise PermanentDecodeError("bad_json", str(exc)[:500]) from None
    if not isinstance(body, dict):
        raise PermanentDecodeError("bad_envelope", "the record is not a JSON object")
    try:
        envelope = _Envelope.model_validate(body)
    except ValidationError as exc:
        raise PermanentDecodeError(
            "bad_envelope",
            _summarise(exc),
            event_type=_str_or_none(body.get("type")),
            event_id=_str_or_none(body.get("id")),
        ) from None
    return envelope


def _payload(envelope: _Envelope, topic: str | None) -> tuple[EventSpec, Payload]:
    """The envelope's type as the catalogue knows it (and on its own topic), with its data
    validated against that type's payload."""
    try:
        spec = registry.by_type(envelope.type)
    except UnknownEventType as exc:
        raise PermanentDecodeError(
            "unknown_type", str(exc), event_type=envelope.type, event_id=envelope.id
        ) from None
    if topic is not None and spec.topic != topic:
        raise PermanentDecodeError(
            "wrong_topic",
            f"{envelope.type} belongs on {spec.topic}, not {topic}",
            event_type=envelope.type,
            event_id=envelope.id,
        )
    try:
        data = spec.payload.model_validate(envelope.data, extra="ignore")
    except ValidationError as exc:
        raise PermanentDecodeError(
            "schema_violation", _summarise(exc), event_type=envelope.type, event_id=envelope.id
        ) from None
    return spec, data


def _refuse_future(
    envelope: _Envelope, time_field: str | None, data: Payload, now: datetime
) -> None:
    latest = now + MAX_CLOCK_SKEW
    when = {"time": envelope.time}
    if time_field is not None:
        when[time_field] = getattr(data, time_field)
    for name, value in when.items():
        if value > latest:
            raise PermanentDecodeError(
                "future_dated",
                f"{name} {value.isoformat()} is after {now.isoformat()}",
                event_type=envelope.type,
                event_id=envelope.id,
            )


def _summarise(exc: ValidationError) -> str:
    """A compact, bounded description of what failed validation (no input values echoed)."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:10]:
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - len(parts)
    if more > 0:
        parts.append(f"... and {more} more")
    return "; ".join(parts)[:1000]


def _str_or_none(value: object) -> str | None:
    return value[:100] if isinstance(value, str) else None
