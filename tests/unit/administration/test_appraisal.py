"""The appraisal's rules without a database: how figures score, how totals scale, and what
a draft, an approved appraisal and a correction allow."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from services.administration.domain.appraisal import (
    Appraisal,
    AppraisalRefused,
    AppraisalState,
    draw_up,
)
from services.administration.domain.figures import Member, PeriodTotals, line_for
from services.administration.domain.periods import HalfYear
from services.administration.domain.scorecard import (
    Scorecard,
    ScorecardIndicator,
    parse_scorecard,
)

CONFIG = Path(__file__).resolve().parents[3] / "infra" / "administration" / "appraisal.yaml"
TOWNSHIP = Member("QS-T01", "东湖镇卫生院", "QS-MC1", "township_centre")
HOSPITAL = Member("QS-H01", "青山县人民医院", "QS-MC1", "county_hospital")
H1 = HalfYear(2026, 1)


@pytest.fixture(scope="module")
def scorecard() -> Scorecard:
    return parse_scorecard(yaml.safe_load(CONFIG.read_text(encoding="utf-8")))


def indicator(scorecard: Scorecard, code: str) -> ScorecardIndicator:
    return next(i for i in scorecard.indicators if i.code == code)


def test_the_seed_scorecard_weighs_100(scorecard: Scorecard) -> None:
    assert sum(i.weight for i in scorecard.indicators) == 100


@pytest.mark.parametrize(
    ("rate", "points"),
    [("19.99", "1.0"), ("20", "1.0"), ("24", "0.8"), ("30", "0.5"), ("30.01", "0")],
)
def test_a_lower_is_better_figure_earns_the_first_band_it_reaches(
    scorecard: Scorecard, rate: str, points: str
) -> None:
    assert indicator(scorecard, "antibiotic_prescription_rate").points(Decimal(rate)) == Decimal(
        points
    )


def test_a_higher_is_better_figure_earns_the_first_band_it_reaches(scorecard: Scorecard) -> None:
    share = indicator(scorecard, "primary_care_visit_share")
    assert share.points(Decimal("70")) == 1
    assert share.points(Decimal("56")) == Decimal("0.7")
    assert share.points(Decimal("10")) == 0


def test_figures_add_up_over_the_half_year_at_the_member_or_its_community(
    scorecard: Scorecard,
) -> None:
    totals = PeriodTotals(
        cells={
            ("antibiotic_prescription_rate", "facility", "QS-T01"): (Decimal(40), Decimal(300)),
            ("primary_care_visit_share", "community", "QS-MC1"): (Decimal(7), Decimal(10)),
        },
        sessions={"QS-T01": 30},
    )
    rate = line_for(indicator(scorecard, "antibiotic_prescription_rate"), TOWNSHIP, totals)
    assert rate.figure == Decimal("13.3333") and rate.score == Decimal("15.00")
    share = line_for(indicator(scorecard, "primary_care_visit_share"), HOSPITAL, totals)
    assert share.figure == Decimal("70.0000")  # the hospital's community's
    shortages = line_for(indicator(scorecard, "shortages_recorded"), TOWNSHIP, totals)
    assert shortages.figure == 0 and shortages.counted  # none published: none recorded


def test_a_line_without_a_figure_or_that_does_not_apply_is_left_out_of_the_total(
    scorecard: Scorecard,
) -> None:
    totals = PeriodTotals(
        cells={("antibiotic_prescription_rate", "facility", "QS-H01"): (Decimal(1), Decimal(10))}
    )
    cards = draw_up(scorecard, [HOSPITAL], totals)
    lines = {line["indicator"]: line for line in cards["QS-H01"].lines}
    assert lines["expert_sessions_delivered"]["applicable"] is False
    assert lines["irrational_prescription_rate"]["counted"] is False  # no audit published
    counted = [line for line in lines.values() if line["counted"]]
    earned = sum((Decimal(line["score"]) for line in counted), Decimal(0))
    weights = sum((Decimal(line["weight"]) for line in counted), Decimal(0))
    assert cards["QS-H01"].computed == (earned / weights * 100).quantize(Decimal("0.01"))


def drafted(scorecard: Scorecard) -> Appraisal:
    appraisal = Appraisal(H1, 1, AppraisalState.DRAFT)
    appraisal.refresh(draw_up(scorecard, [TOWNSHIP, HOSPITAL], PeriodTotals()))
    return appraisal


def test_an_adjustment_needs_a_reason_stays_within_the_cap_and_survives_a_recompute(
    scorecard: Scorecard,
) -> None:
    appraisal = drafted(scorecard)
    with pytest.raises(AppraisalRefused, match="reason"):
        appraisal.adjust("QS-T01", Decimal(3), "  ", scorecard.max_adjustment)
    with pytest.raises(AppraisalRefused, match="at most"):
        appraisal.adjust("QS-T01", Decimal(11), "too much", scorecard.max_adjustment)
    before = appraisal.scorecards["QS-T01"].total
    appraisal.adjust("QS-T01", Decimal(-3), "数据补报", scorecard.max_adjustment)
    appraisal.refresh(draw_up(scorecard, [TOWNSHIP, HOSPITAL], PeriodTotals()))
    card = appraisal.scorecards["QS-T01"]
    assert card.adjustment == Decimal("-3.00") and card.adjustment_reason == "数据补报"
    assert card.total == max(before - 3, Decimal(0))


def test_approval_waits_for_the_half_year_to_end_and_freezes_it(scorecard: Scorecard) -> None:
    appraisal = drafted(scorecard)
    with pytest.raises(AppraisalRefused, match="ends on 2026-06-30"):
        appraisal.approve(date(2026, 6, 30))
    appraisal.approve(date(2026, 7, 1))
    for step in (
        lambda: appraisal.adjust("QS-T01", Decimal(1), "late", scorecard.max_adjustment),
        lambda: appraisal.refresh({}),
        lambda: appraisal.approve(date(2026, 7, 2)),
    ):
        with pytest.raises(AppraisalRefused, match="only a draft"):
            step()
    correction = appraisal.correction()
    assert (correction.revision, correction.state) == (2, AppraisalState.DRAFT)


def test_half_years_name_their_months() -> None:
    assert HalfYear.parse("2026-H2").months[0] == "2026-07"
    assert str(HalfYear.parse("2026-H1")) == "2026-H1"
    with pytest.raises(ValueError, match="half-year"):
        HalfYear.parse("2026-H3")


def test_a_scorecard_with_a_mistake_is_refused_naming_it() -> None:
    doc = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    doc["dimensions"][0]["indicators"][0]["bands"] = [{"bound": 20, "points": 2}]
    with pytest.raises(ValueError, match="antibiotic_prescription_rate"):
        parse_scorecard(doc)
