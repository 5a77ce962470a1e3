"""Result recognition (检查检验结果互认): the recognition rate (items the county does not
recognise left out), results recognised and the cost avoided to the fen, at the ordering
facility, its community and the county — the rules, and the handlers through the backbone on
SQLite (idempotency by event id and by the order's identity)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from libs.events import CloudEvent, new_event
from libs.events.catalogue.values import FacilityTier
from services.reporting.adapters.schema import IndicatorCell
from services.reporting.domain import quality_rules
from services.reporting.domain.cells import Add, Member
from services.reporting.domain.indicators import indicator
from tests.support.harness import HandlerHarness
from tests.support.reporting import COUNTY
from tests.unit.reporting.recognitions import (
    ITEM_NOT_RECOGNISED,
    NO_EARLIER,
    NOT_ACCREDITED,
    OUTSIDE_WINDOW,
    not_recognised,
    recognised,
)
from tests.unit.reporting.systems import harness_on

#: 09:00 on 2 November, county time.
NINE = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
#: 00:10 on 3 November, county time (still 2 November in UTC).
PAST_MIDNIGHT = datetime(2026, 11, 2, 16, 10, tzinfo=UTC)
DAY, NEXT_DAY, MONTH = "2026-11-02", "2026-11-03", "2026-11"
T01 = Member("QS-T01", "QS-MC1", FacilityTier.PRIMARY)
RATE, RECOGNISED, AVOIDED = (
    "result_recognition_rate",
    "results_recognised",
    "recognition_avoided_cost",
)

Cells = dict[tuple[str, str, str, str], tuple[Decimal, Decimal]]


@pytest.fixture
def reporting(tmp_path: Path) -> Iterator[HandlerHarness]:
    yield from harness_on(tmp_path)


def cells(harness: HandlerHarness, code: str) -> Cells:
    """The indicator's cells: (level, unit, period kind, period) → (numerator, denominator)."""
    with harness.database.sessions() as session:
        return {
            (c.level, c.unit_id, c.period_kind, c.period): (c.numerator, c.denominator)
            for c in session.scalars(select(IndicatorCell).where(IndicatorCell.indicator == code))
        }


def values(harness: HandlerHarness, code: str, period: str = DAY) -> dict[str, Decimal | None]:
    """The indicator's values in ``period`` by unit id."""
    ind = indicator(code)
    return {
        unit: ind.value(num, den)
        for (_level, unit, _kind, cell_period), (num, den) in cells(harness, code).items()
        if cell_period == period
    }


def resent(original: CloudEvent) -> CloudEvent:
    """The same fact sent again under a new event id."""
    return new_event(original.data, source=original.source)


def the_decisions() -> list[CloudEvent]:
    """At QS-T01 (community QS-MC1): two recognised (23.45 and 160.33 yuan), one without an
    earlier result, one outside its window, one of an item the county does not recognise; at
    QS-T02 (QS-MC1): one recognised (0.07), one done where it is not accredited; at QS-T05
    (QS-MC2): one item not recognised on 2 November, one recognised (45.10) after midnight."""
    return [
        recognised("QS-T01", "O-1", NINE, "23.45"),
        recognised("QS-T01", "O-2", NINE, "160.33", test_code="DR-CHEST"),
        not_recognised("QS-T01", "O-3", NINE, NO_EARLIER),
        not_recognised("QS-T01", "O-4", NINE, OUTSIDE_WINDOW),
        not_recognised("QS-T01", "O-5", NINE, ITEM_NOT_RECOGNISED, test_code="PET-CT"),
        recognised("QS-T02", "O-1", NINE, "0.07"),  # another facility's O-1
        not_recognised("QS-T02", "O-2", NINE, NOT_ACCREDITED),
        not_recognised("QS-T05", "O-1", NINE, ITEM_NOT_RECOGNISED, test_code="PET-CT"),
        recognised("QS-T05", "O-2", PAST_MIDNIGHT, "45.10"),
    ]


def test_results_recognised_are_counted_at_facility_community_and_county(
    reporting: HandlerHarness,
) -> None:
    reporting.apply(*the_decisions())
    assert values(reporting, RECOGNISED) == {
        "QS-T01": 2,
        "QS-T02": 1,
        "QS-MC1": 3,
        "QS": 3,
    }
    assert values(reporting, RECOGNISED, NEXT_DAY) == {"QS-T05": 1, "QS-MC2": 1, "QS": 1}
    month = values(reporting, RECOGNISED, MONTH)
    assert (month["QS-MC1"], month["QS-MC2"], month["QS"]) == (3, 1, 4)


def test_the_rate_leaves_out_items_the_county_does_not_recognise(
    reporting: HandlerHarness,
) -> None:
    reporting.apply(*the_decisions())
    rate = cells(reporting, RATE)
    # QS-T01: 2 recognised of 4 (its PET-CT is in neither).
    assert rate[("facility", "QS-T01", "day", DAY)] == (Decimal(2), Decimal(4))
    assert rate[("facility", "QS-T02", "day", DAY)] == (Decimal(1), Decimal(2))
    assert rate[("community", "QS-MC1", "day", DAY)] == (Decimal(3), Decimal(6))
    assert rate[("county", "QS", "day", DAY)] == (Decimal(3), Decimal(6))
    assert rate[("county", "QS", "month", MONTH)] == (Decimal(4), Decimal(7))
    # QS-T05's only order of 2 November is of an item not recognised: no cell, no value.
    assert ("facility", "QS-T05", "day", DAY) not in rate
    assert values(reporting, RATE) == {
        "QS-T01": Decimal("50.00"),
        "QS-T02": Decimal("50.00"),
        "QS-MC1": Decimal("50.00"),
        "QS": Decimal("50.00"),
    }
    assert values(reporting, RATE, NEXT_DAY)["QS-T05"] == Decimal("100.00")
    assert values(reporting, RATE, MONTH)["QS"] == Decimal("57.14")


def test_the_cost_avoided_is_summed_to_the_fen(reporting: HandlerHarness) -> None:
    reporting.apply(*the_decisions())
    assert values(reporting, AVOIDED) == {
        "QS-T01": Decimal("183.78"),
        "QS-T02": Decimal("0.07"),
        "QS-MC1": Decimal("183.85"),
        "QS": Decimal("183.85"),
    }
    month = values(reporting, AVOIDED, MONTH)
    assert month == {
        "QS-T01": Decimal("183.78"),
        "QS-T02": Decimal("0.07"),
        "QS-T05": Decimal("45.10"),
        "QS-MC1": Decimal("183.85"),
        "QS-MC2": Decimal("45.10"),
        "QS": Decimal("228.95"),
    }
    county = cells(reporting, AVOIDED)[("county", "QS", "month", MONTH)]
    assert county == (Decimal("228.95"), Decimal(0))
    assert str(county[0]) == "228.95"  # exact, not a float's 228.95000000000002


def test_resends_count_once(reporting: HandlerHarness) -> None:
    decisions = the_decisions()
    reporting.apply(*decisions, resent(decisions[0]), resent(decisions[2]))  # in the same batch
    before = {code: cells(reporting, code) for code in (RATE, RECOGNISED, AVOIDED)}
    again = reporting.apply(*decisions, *(resent(e) for e in decisions))
    assert again.applied == [] and len(again.duplicates) == 2 * len(decisions)
    assert {code: cells(reporting, code) for code in before} == before
    assert values(reporting, RECOGNISED, MONTH)["QS"] == 4
    assert values(reporting, AVOIDED, MONTH)["QS"] == Decimal("228.95")
    assert cells(reporting, RATE)[("county", "QS", "month", MONTH)] == (Decimal(4), Decimal(7))


def test_an_unknown_facilitys_decision_is_dead_lettered_and_counts_nowhere(
    reporting: HandlerHarness,
) -> None:
    result = reporting.apply(
        recognised("OUT-9", "O-1", NINE, "99.99"),
        not_recognised("OUT-9", "O-2", NINE, NO_EARLIER),
        recognised("QS-T01", "O-1", NINE, "23.45"),
    )
    assert len(result.dead_lettered) == 2
    assert values(reporting, AVOIDED)["QS"] == Decimal("23.45")
    assert cells(reporting, RATE)[("county", "QS", "day", DAY)] == (Decimal(1), Decimal(1))


def test_the_rules_touch_each_level_and_period_of_the_county_day() -> None:
    decision = recognised("QS-T01", "O-1", PAST_MIDNIGHT, "12.30").data
    changes = quality_rules.result_recognised(decision, T01, COUNTY)
    adds = {
        (c.key.indicator, c.key.level.value, c.key.period): (c.numerator, c.denominator)
        for c in changes
        if isinstance(c, Add)
    }
    assert len(adds) == len(changes) == 3 * 3 * 2
    assert adds[(RATE, "facility", NEXT_DAY)] == (1, 1)
    assert adds[(RECOGNISED, "county", MONTH)] == (1, 0)
    assert adds[(AVOIDED, "community", NEXT_DAY)] == (Decimal("12.30"), 0)
    missed = not_recognised("QS-T01", "O-2", NINE, OUTSIDE_WINDOW).data
    assert {
        (c.key.indicator, c.numerator, c.denominator)
        for c in quality_rules.result_not_recognised(missed, T01, COUNTY)
        if isinstance(c, Add)
    } == {(RATE, 0, 1)}
    unlisted = not_recognised("QS-T01", "O-3", NINE, ITEM_NOT_RECOGNISED).data
    assert quality_rules.result_not_recognised(unlisted, T01, COUNTY) == []


def test_the_definition_says_unrecognised_items_are_not_missed_recognitions() -> None:
    rate = indicator(RATE)
    assert "item_not_recognised" in rate.notes and "item_not_recognised" not in (
        rate.denominator or ""
    )
    assert (rate.unit, rate.factor, indicator(AVOIDED).unit, indicator(AVOIDED).decimals) == (
        "%",
        100,
        "yuan",
        2,
    )
