"""docs/events.md is generated from the catalogue and must match it."""

from __future__ import annotations

from pathlib import Path

from libs.events import registry
from libs.events.docs import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_docs_events_md_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run `make docs` and commit docs/events.md"


def test_every_type_with_its_topic_key_and_fields_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for spec in registry:
        section = text.split(f"### {spec.type}\n", 1)[1].split("\n### ", 1)[0]
        assert f"Topic `{spec.topic}`, key `{spec.key}`" in section
        for field in spec.payload.model_fields:
            assert f"| `{field}` |" in section, (spec.type, field)
