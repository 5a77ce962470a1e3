"""The indicator definitions hang together: codes, levels, sources, values."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from libs.events.registry import registry
from services.reporting.domain.indicators import INDICATORS, UnknownIndicator, indicator
from services.reporting.handlers import HANDLERS


def test_codes_are_unique_short_and_usable_in_cell_ids() -> None:
    codes = [i.code for i in INDICATORS]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z0-9_]{1,32}", c) for c in codes)
    with pytest.raises(UnknownIndicator):
        indicator("nope")


def test_every_source_event_is_handled_by_the_service() -> None:
    handled = set(HANDLERS.types())
    for ind in INDICATORS:
        assert ind.levels and ind.periods and ind.levels_why
        for source in ind.sources:
            assert registry.for_payload(source).type in handled, (ind.code, source)


def test_values_follow_numerator_denominator_and_factor() -> None:
    assert indicator("tcm_prescription_share").value(Decimal(2), Decimal(3)) == Decimal("66.67")
    assert indicator("tcm_prescription_share").value(Decimal(2), Decimal(0)) is None
    assert indicator("referral_down_up_ratio").value(Decimal(4), Decimal(3)) == Decimal("1.33")
    assert indicator("referrals_up").value(Decimal(7), Decimal(0)) == Decimal(7)
    assert indicator("near_expiry_value").value(Decimal("12.5"), Decimal(0)) == Decimal("12.50")
