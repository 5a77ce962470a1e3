"""Fuzzing the decoder: whatever bytes arrive, it returns an event or raises
:class:`PermanentDecodeError` with a reason, never anything else (which would escape the
consumer and make it exit, restart, read the same record and exit again, for ever)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from libs.events import PermanentDecodeError, decode, encode, new_event, registry
from tests.support.samples import sample_payload

SPECS = list(registry)
VALID = [
    json.loads(encode(new_event(sample_payload(s.payload), source=f"/services/{s.producer}")))
    for s in SPECS
]

#: Numbers and strings chosen to break parsers and validators rather than to be typical.
NASTY_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "1e999999999", "-0", "NaN", "9" * 5000, "\ud800", "2026-13-40T25:61Z"]),
)
JSON_VALUES = st.recursive(
    NASTY_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
#: Raw fragments no JSON encoder would write: parser limits, not grammar.
RAW_TRAPS = st.sampled_from(
    [
        b"1" * 5000,
        b"[" * 100_000,
        b"1e999999999",
        b'"\\ud800"',
        b"\xff\xfe{}",
        b"NaN",
        b"-Infinity",
    ]
)


def outcome(raw: bytes | None, topic: str | None = None) -> str:
    try:
        decode(raw, topic=topic)
    except PermanentDecodeError as exc:
        return exc.reason
    return "decoded"


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2048))
@example(b'{"x": ' + b"1" * 5000 + b"}")  # json raises a bare ValueError on this
@example(None)
def test_any_bytes_decode_or_are_refused_with_a_reason(raw: bytes | None) -> None:
    assert outcome(raw) != ""


@FUZZ
@given(st.integers(0, len(VALID) - 1), st.data())
def test_a_valid_event_with_any_field_replaced_decodes_or_is_refused(
    index: int, data: st.DataObject
) -> None:
    """The realistic attack: a well-formed envelope of a real type whose fields (envelope or
    payload) hold anything at all, on its own topic."""
    body: dict[str, Any] = json.loads(json.dumps(VALID[index]))
    where = data.draw(st.sampled_from(["envelope", "data"]))
    target = body if where == "envelope" else body["data"]
    field = data.draw(st.sampled_from(sorted(target)) | st.text(max_size=8))
    target[field] = data.draw(JSON_VALUES)
    # Lone surrogates pass as they are: invalid UTF-8 is one more thing to refuse.
    raw = json.dumps(body, ensure_ascii=data.draw(st.booleans())).encode("utf-8", "surrogatepass")
    assert outcome(raw, SPECS[index].topic) != ""


@FUZZ
@given(st.integers(0, len(VALID) - 1), RAW_TRAPS, st.sampled_from(["id", "time", "data"]))
def test_parser_traps_inside_a_real_envelope_are_refused(
    index: int, trap: bytes, field: str
) -> None:
    body = json.dumps(VALID[index] | {field: "TRAP"}).encode()
    assert outcome(body.replace(b'"TRAP"', trap), SPECS[index].topic) != "decoded"


def test_the_poison_record_that_crash_looped_workers_is_bad_json_not_an_exception() -> None:
    poison = b'{"specversion":"1.0","id":' + b"9" * 5000 + b"}"
    assert outcome(poison) == "bad_json"
