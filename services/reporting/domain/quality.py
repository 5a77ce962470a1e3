"""Indicators of medical quality (医疗质量一体化): the prescription reviews of the county's
review centre (审方中心) — how many prescriptions it reviewed, how many the rules held for a
pharmacist or rejected, how many prescribe an antibiotic, holds left past the review SLA and
how long the held ones waited for a pharmacist — and the mutual recognition of test and
imaging results (检查检验结果互认): how many ordered tests an earlier result stood in for,
their share and the repeats' cost avoided.

Every prescription is reviewed once: its first review event is exactly one of released by
the rules at once (``held_at`` None), held, or rejected by the rules at once (``held_at``
None); a held one is later released or rejected by a pharmacist (``held_at`` set)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from libs.events.catalogue.quality import (
    PrescriptionHeld,
    PrescriptionReleased,
    PrescriptionReviewOverdue,
    PrescriptionReviewRejected,
    ResultNotRecognised,
    ResultRecognised,
)
from services.reporting.domain.definition import ALL_LEVELS, Indicator

__all__ = ["QUALITY_INDICATORS", "hold_minutes", "nearest_rank"]

_AT_THE_PRESCRIBING_FACILITY = (
    "At the member facility that issued the prescription, rolled up to its community and the "
    "county: numerator and denominator add up level by level."
)
_REVIEWED = (
    "Prescriptions reviewed (their first review: released or rejected by the rules at once, "
    "or held for a pharmacist)"
)
_FIRST_REVIEW = (
    "the first review's `released_at`, `held_at` or `rejected_at` (a hold's decision by its "
    "own time)"
)
_REVIEW_EVENTS = (PrescriptionReleased, PrescriptionHeld, PrescriptionReviewRejected)
_DECISIONS = (PrescriptionReleased, PrescriptionReviewRejected)
_HOLD_LEVELS = (
    "At the prescribing member facility, its community and the county, each ranking the "
    "durations of its own holds: percentiles do not add up, so a community's and the county's "
    "are ranked over all of their facilities' holds, not rolled up."
)
_HOLD_NOTES = (
    "Nearest rank: the durations of the holds decided in the period are sorted and the value "
    "is the one at rank ⌈p × n⌉ (of a 12- and a 40-minute hold, the p50 is 12 and the p90 "
    "40) — always a wait a prescription really had. Each decided hold's duration is kept "
    "(`review_holds`) and a cell is ranked again from them whenever a hold decided in its "
    "period is recorded; its denominator is the number of holds ranked. A period without a "
    "decided hold has no value."
)


_AT_THE_ORDERING_FACILITY = (
    "At the member facility that ordered the test or examination, rolled up to its community "
    "and the county: numerator and denominator add up level by level."
)
_RECOGNISED = (
    "Ordered tests and examinations whose earlier result (within the item's window, at an "
    "accredited member) was recognised, the repeat avoided"
)
_RECOGNITION_EVENTS = (ResultRecognised, ResultNotRecognised)
_ONCE_PER_ORDER = (
    "An order counts once, by its facility and order id, whatever its event id (a resend "
    "counts nothing)."
)


def _hold_time(percentile: int) -> Indicator:
    return Indicator(
        code=f"review_hold_minutes_p{percentile}",
        name=f"Review hold time, {percentile}th percentile",
        name_zh=f"处方人工审核时长P{percentile}",
        numerator=f"The {percentile}th percentile of the minutes held prescriptions waited "
        "for a pharmacist's decision (`held_at` → `released_at` or `rejected_at`)",
        denominator="Holds decided in the period (the durations ranked)",
        factor=1,
        unit="minutes",
        levels=ALL_LEVELS,
        levels_why=_HOLD_LEVELS,
        sources=_DECISIONS,
        dated_by="the decision's `released_at` or `rejected_at`",
        decimals=1,
        notes=_HOLD_NOTES,
        percentile=percentile,
    )


QUALITY_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        code="prescriptions_reviewed",
        name="Prescriptions reviewed",
        name_zh="审核处方数",
        numerator=_REVIEWED,
        denominator=None,
        factor=1,
        unit="prescriptions",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_PRESCRIBING_FACILITY,
        sources=_REVIEW_EVENTS,
        dated_by=_FIRST_REVIEW,
        decimals=0,
        notes="A prescription counts once, by its first review, by its facility and "
        "prescription id whatever its event id; a hold's later decision does not count it "
        "again.",
    ),
    Indicator(
        code="prescription_held_share",
        name="Share of prescriptions held for a pharmacist",
        name_zh="处方转人工审核率",
        numerator="Prescriptions the rules held for a pharmacist of the review centre",
        denominator=_REVIEWED,
        factor=100,
        unit="%",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_PRESCRIBING_FACILITY,
        sources=_REVIEW_EVENTS,
        dated_by=_FIRST_REVIEW,
    ),
    Indicator(
        code="prescription_rejected_share",
        name="Share of prescriptions rejected",
        name_zh="处方审核不通过率",
        numerator="Prescriptions returned to their prescriber, by the rules at once or by a "
        "pharmacist after a hold",
        denominator=_REVIEWED,
        factor=100,
        unit="%",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_PRESCRIBING_FACILITY,
        sources=_REVIEW_EVENTS,
        dated_by="the rejection's `rejected_at` (numerator); the first review's time (denominator)",
        notes="A rejection after a hold counts when it was decided: a hold decided on a later "
        "day or month than it was held counts its rejection there, over that period's "
        "reviews.",
    ),
    Indicator(
        code="antibiotic_prescription_rate",
        name="Antibiotic prescription rate",
        name_zh="抗菌药物处方率",
        numerator="Prescriptions reviewed that prescribe an antibiotic (`antibiotic`)",
        denominator=_REVIEWED,
        factor=100,
        unit="%",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_PRESCRIBING_FACILITY,
        sources=_REVIEW_EVENTS,
        dated_by=_FIRST_REVIEW,
        notes="Every reviewed prescription counts, whether released or rejected (the review "
        "centre's own flag, from the county's antibiotic catalogue).",
    ),
    Indicator(
        code="review_sla_breaches",
        name="Review SLA breaches",
        name_zh="处方审核超时",
        numerator="Holds not decided within the review centre's service level (once per hold)",
        denominator=None,
        factor=1,
        unit="breaches",
        levels=ALL_LEVELS,
        levels_why="At the prescribing member facility (whose prescription waited), rolled "
        "up to its community and the county.",
        sources=(PrescriptionReviewOverdue,),
        dated_by="`detected_at`",
        decimals=0,
        notes="Sent again under a new event id, a breach counts once, by its facility and "
        "prescription id.",
    ),
    _hold_time(50),
    _hold_time(90),
    Indicator(
        code="result_recognition_rate",
        name="Test and imaging result recognition rate",
        name_zh="检查检验结果互认率",
        numerator=_RECOGNISED,
        denominator="Ordered tests and examinations of items on the county's list of "
        "recognised items: those recognised, and those not recognised for want of an earlier "
        "result (`no_earlier_result`), because it was older than the item's window "
        "(`outside_window`) or done where the item's quality control is not passed "
        "(`not_accredited`) — not orders of items off the list (below)",
        factor=100,
        unit="%",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_ORDERING_FACILITY,
        sources=_RECOGNITION_EVENTS,
        dated_by="`decided_at`",
        notes="An order of an item not on the county's list of recognised items "
        "(`item_not_recognised`) counts in neither: no earlier result of it could have "
        "been recognised, so it is not a missed recognition. " + _ONCE_PER_ORDER,
    ),
    Indicator(
        code="results_recognised",
        name="Results recognised",
        name_zh="互认项目数",
        numerator=_RECOGNISED,
        denominator=None,
        factor=1,
        unit="items",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_ORDERING_FACILITY,
        sources=(ResultRecognised,),
        dated_by="`decided_at`",
        decimals=0,
        notes=_ONCE_PER_ORDER,
    ),
    Indicator(
        code="recognition_avoided_cost",
        name="Cost avoided by result recognition",
        name_zh="互认节约费用",
        numerator="The prices of the repeats avoided by recognised results (`avoided_cost`, "
        "the item's price), to the fen",
        denominator=None,
        factor=1,
        unit="yuan",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_ORDERING_FACILITY,
        sources=(ResultRecognised,),
        dated_by="`decided_at`",
        notes="Summed exactly (cells hold yuan to the fen). " + _ONCE_PER_ORDER,
    ),
)


def hold_minutes(seconds: int) -> Decimal:
    """A duration in minutes, to the hundredth (what a cell holds)."""
    return (Decimal(seconds) / 60).quantize(Decimal("0.01"))


def nearest_rank(values: Sequence[int], percentile: int) -> int:
    """The ``percentile``-th percentile of ``values`` (sorted, not empty) by nearest rank:
    the value at rank ⌈p/100 × n⌉."""
    rank = max(1, math.ceil(percentile * len(values) / 100))
    return values[rank - 1]
