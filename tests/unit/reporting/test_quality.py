"""Medical quality: the review centre's prescriptions reviewed, held and rejected, the
antibiotic prescription rate, review SLA breaches and the hold-time percentiles — the rules,
and the handlers through the backbone on SQLite (idempotency by event id and by the fact's
identity, a hold decided twice counted once)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from libs.events import CloudEvent, new_event
from libs.events.catalogue.reporting import PeriodKind
from libs.events.catalogue.values import FacilityTier
from services.reporting.adapters.schema import IndicatorCell
from services.reporting.domain import quality_rules
from services.reporting.domain.cells import Member, Rank
from services.reporting.domain.indicators import indicator
from services.reporting.domain.quality import hold_minutes, nearest_rank
from services.reporting.service_layer.quality import restore_hold
from tests.support.harness import HandlerHarness
from tests.support.reporting import COUNTY
from tests.unit.reporting.reviews import held, overdue, rejected, released
from tests.unit.reporting.systems import harness_on, numerators, uow_at

#: 09:00 on 2 November, county time.
NINE = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
#: 23:50 on 2 November, county time.
LATE = datetime(2026, 11, 2, 15, 50, tzinfo=UTC)
DAY = "2026-11-02"
T01 = Member("QS-T01", "QS-MC1", FacilityTier.PRIMARY)

Cells = dict[tuple[str, str, str, str], tuple[Decimal, Decimal]]


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


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


def the_reviews() -> list[CloudEvent]:
    """At QS-T01 (community QS-MC1): four reviewed, two of them held, two rejected (one at
    once, one after its hold), two with an antibiotic; at QS-T05 (QS-MC2): one released."""
    return [
        released("QS-T01", "RX-1", NINE, antibiotic=True),
        held("QS-T01", "RX-2", NINE, antibiotic=True),
        released("QS-T01", "RX-2", NINE + minutes(12), held_at=NINE),
        rejected("QS-T01", "RX-3", NINE),
        held("QS-T01", "RX-4", NINE),
        rejected("QS-T01", "RX-4", NINE + minutes(40), held_at=NINE),
        released("QS-T05", "RX-1", NINE),  # another facility's RX-1
    ]


def test_counts_and_shares_at_facility_community_and_county(reporting: HandlerHarness) -> None:
    reporting.apply(*the_reviews())
    assert values(reporting, "prescriptions_reviewed") == {
        "QS-T01": 4,
        "QS-MC1": 4,
        "QS-T05": 1,
        "QS-MC2": 1,
        "QS": 5,
    }
    assert values(reporting, "prescriptions_reviewed", "2026-11")["QS"] == 5
    for code in ("prescription_held_share", "prescription_rejected_share"):
        shares = values(reporting, code)
        assert shares["QS-T01"] == shares["QS-MC1"] == Decimal("50.00"), code
        assert shares["QS-T05"] == Decimal("0.00")
        assert shares["QS"] == Decimal("40.00")
    antibiotic = values(reporting, "antibiotic_prescription_rate")
    assert antibiotic == {
        "QS-T01": Decimal("50.00"),
        "QS-MC1": Decimal("50.00"),
        "QS-T05": Decimal("0.00"),
        "QS-MC2": Decimal("0.00"),
        "QS": Decimal("40.00"),
    }
    rejected_cells = cells(reporting, "prescription_rejected_share")
    assert rejected_cells[("county", "QS", "month", "2026-11")] == (Decimal(2), Decimal(5))
    assert numerators(reporting, "review_sla_breaches") == {}


def test_holds_decided_after_12_and_40_minutes_give_their_percentiles(
    reporting: HandlerHarness,
) -> None:
    reporting.apply(*the_reviews())  # QS-T01's holds: 12 (released) and 40 minutes (rejected)
    p50, p90 = (
        values(reporting, "review_hold_minutes_p50"),
        values(reporting, "review_hold_minutes_p90"),
    )
    assert p50["QS-T01"] == p50["QS-MC1"] == p50["QS"] == Decimal("12.0")
    assert p90["QS-T01"] == p90["QS-MC1"] == p90["QS"] == Decimal("40.0")
    assert "QS-T05" not in p50  # no hold decided there: no value
    assert cells(reporting, "review_hold_minutes_p90")[("facility", "QS-T01", "day", DAY)] == (
        Decimal("40.00"),
        Decimal(2),
    )

    # A 25-minute hold at QS-T05, decided in a later batch: each level ranks its own holds.
    reporting.apply(
        held("QS-T05", "RX-9", NINE),
        released("QS-T05", "RX-9", NINE + minutes(25), held_at=NINE),
    )
    p50, p90 = (
        values(reporting, "review_hold_minutes_p50"),
        values(reporting, "review_hold_minutes_p90"),
    )
    assert (p50["QS-T05"], p90["QS-T05"]) == (Decimal("25.0"), Decimal("25.0"))
    assert (p50["QS-MC1"], p90["QS-MC1"]) == (Decimal("12.0"), Decimal("40.0"))
    assert (p50["QS"], p90["QS"]) == (Decimal("25.0"), Decimal("40.0"))
    month = values(reporting, "review_hold_minutes_p50", "2026-11")
    assert month["QS"] == Decimal("25.0")
    published = [
        e.data
        for e in reporting.published("reporting.indicator.updated.v1")
        if e.data.cell_id == "review_hold_minutes_p50:county:QS:day:2026-11-02"
    ]
    assert [(c.numerator, c.denominator, c.version) for c in published] == [
        (Decimal("12.00"), Decimal(2), 1),
        (Decimal("25.00"), Decimal(3), 2),
    ]


def test_resends_and_a_second_decision_of_a_hold_count_once(reporting: HandlerHarness) -> None:
    reviews = the_reviews()
    reporting.apply(*reviews, resent(reviews[0]), resent(reviews[2]))  # in the same batch
    before = {
        code: cells(reporting, code)
        for code in (
            "prescriptions_reviewed",
            "prescription_held_share",
            "prescription_rejected_share",
            "antibiotic_prescription_rate",
            "review_hold_minutes_p50",
            "review_hold_minutes_p90",
        )
    }
    again = reporting.apply(*reviews, *(resent(e) for e in reviews))
    assert again.applied == [] and len(again.duplicates) == 2 * len(reviews)
    # RX-2's hold was released; a rejection of the same hold (another type) counts nothing.
    reporting.apply(rejected("QS-T01", "RX-2", NINE + minutes(50), held_at=NINE))
    assert {code: cells(reporting, code) for code in before} == before
    assert values(reporting, "prescriptions_reviewed")["QS"] == 5
    assert cells(reporting, "review_hold_minutes_p50")[("county", "QS", "month", "2026-11")] == (
        Decimal("12.00"),
        Decimal(2),
    )


def test_a_hold_past_the_sla_counts_once(reporting: HandlerHarness) -> None:
    breach = overdue("QS-T01", "RX-2", NINE)
    reporting.apply(held("QS-T01", "RX-2", NINE), breach, resent(breach))
    reporting.apply(resent(breach))
    assert numerators(reporting, "review_sla_breaches") == {
        (level, unit, kind, period): 1
        for level, unit in (("facility", "QS-T01"), ("community", "QS-MC1"), ("county", "QS"))
        for kind, period in (("day", DAY), ("month", "2026-11"))
    }


def test_an_unknown_facilitys_review_is_dead_lettered_and_counts_nowhere(
    reporting: HandlerHarness,
) -> None:
    result = reporting.apply(
        released("OUT-9", "RX-1", NINE), released("QS-T01", "RX-1", NINE, antibiotic=True)
    )
    assert len(result.dead_lettered) == 1
    assert values(reporting, "prescriptions_reviewed")["QS"] == 1


def test_a_rebuild_restores_holds_so_later_decisions_rank_over_them(
    reporting: HandlerHarness,
) -> None:
    """After a rebuild (cells from the changelog), a decision delivered again keeps nothing,
    and a new one ranks its period over the restored holds."""
    decision = released("QS-T01", "RX-1", NINE + minutes(12), held_at=NINE)
    uow = uow_at(reporting, NINE + minutes(60))
    with uow:
        assert restore_hold(decision.data, uow)
        assert not restore_hold(decision.data, uow)
        assert not restore_hold(released("QS-T01", "RX-2", NINE).data, uow)  # not a hold
        assert not restore_hold(rejected("OUT-9", "RX-3", NINE, held_at=NINE).data, uow)
        uow.commit()
    reporting.apply(decision, rejected("QS-T01", "RX-4", NINE + minutes(40), held_at=NINE))
    p90 = cells(reporting, "review_hold_minutes_p90")
    assert p90[("facility", "QS-T01", "day", DAY)] == (Decimal("40.00"), Decimal(2))
    assert values(reporting, "review_hold_minutes_p50")["QS"] == Decimal("12.0")
    assert numerators(reporting, "prescription_rejected_share")[("county", "QS", "day", DAY)] == 1


def test_percentiles_by_nearest_rank() -> None:
    assert nearest_rank([720, 2400], 50) == 720
    assert nearest_rank([720, 2400], 90) == 2400
    assert nearest_rank(list(range(1, 11)), 90) == 9
    assert nearest_rank(list(range(1, 11)), 50) == 5
    assert nearest_rank([7], 50) == nearest_rank([7], 90) == 7
    assert hold_minutes(12 * 60 + 20) == Decimal("12.33")
    p90 = indicator("review_hold_minutes_p90")
    assert p90.value(Decimal("12.33"), Decimal(3)) == Decimal("12.3")
    assert p90.value(Decimal(0), Decimal(0)) is None


def test_a_decision_ranks_the_holds_of_its_own_day_and_month() -> None:
    decision = released("QS-T01", "RX-1", LATE + minutes(20), held_at=LATE).data
    changes = quality_rules.review_released(decision, T01, COUNTY)
    ranks = [c for c in changes if isinstance(c, Rank)]
    assert len(ranks) == len(changes) == 12
    keys = {(c.key.indicator, c.key.level.value, c.key.period) for c in ranks}
    assert keys == {
        (f"review_hold_minutes_p{p}", level, period)
        for p in (50, 90)
        for level in ("facility", "community", "county")
        for period in ("2026-11-03", "2026-11")
    }
    assert {c.key.period_kind for c in ranks} == {PeriodKind.DAY, PeriodKind.MONTH}
    assert quality_rules.hold_seconds(LATE, LATE - minutes(1)) == 0
