"""docs/indicators.md is generated from the indicator definitions and must match them."""

from __future__ import annotations

from pathlib import Path

from services.reporting.domain.indicators import INDICATORS
from services.reporting.indicator_docs import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "indicators.md"


def test_docs_indicators_md_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "run `make docs` and commit docs/indicators.md"
    )


def test_every_indicator_is_documented_with_its_definition() -> None:
    text = DOC.read_text(encoding="utf-8")
    for ind in INDICATORS:
        section = text.split(f"### `{ind.code}`", 1)[1].split("\n### ", 1)[0]
        assert f"| numerator | {ind.numerator} |" in section
        assert ind.levels_why in section
