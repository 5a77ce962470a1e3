"""What the review centre's events contribute to the quality indicators
(:mod:`services.reporting.domain.quality`): pure functions from a payload and its member
facility to cell changes, like :mod:`rules`.

A prescription's first review (released or rejected by the rules at once, or held) counts
it as reviewed, held or rejected, and prescribing an antibiotic or not; a hold's decision
(``held_at`` set) counts a rejection if it rejects, and ranks the hold-time percentiles of
its day and month again.

A test or examination ordered is decided once by the county's result recognition: a
recognised one counts as recognised (and its price as the cost avoided) in the rate's
numerator and denominator; one not recognised counts in the denominator only, unless its item
is not on the county's list (``item_not_recognised``), which counts nowhere."""

from __future__ import annotations

from datetime import datetime

from libs.events.catalogue.quality import (
    NotRecognisedReason,
    PrescriptionHeld,
    PrescriptionReleased,
    PrescriptionReviewOverdue,
    PrescriptionReviewRejected,
    ResultNotRecognised,
    ResultRecognised,
)
from libs.events.payload import cents
from services.reporting.domain.cells import CellKey, Change, Member, Rank
from services.reporting.domain.indicators import indicator
from services.reporting.domain.periods import period_of
from services.reporting.domain.rules import ONE, ZERO, County, flow

__all__ = [
    "hold_decided",
    "hold_seconds",
    "result_not_recognised",
    "result_recognised",
    "review_held",
    "review_overdue",
    "review_rejected",
    "review_released",
]

REVIEWED = indicator("prescriptions_reviewed")
HELD_SHARE = indicator("prescription_held_share")
REJECTED_SHARE = indicator("prescription_rejected_share")
ANTIBIOTIC_RATE = indicator("antibiotic_prescription_rate")
REVIEW_BREACHES = indicator("review_sla_breaches")
HOLD_TIMES = (indicator("review_hold_minutes_p50"), indicator("review_hold_minutes_p90"))
RECOGNITION_RATE = indicator("result_recognition_rate")
RECOGNISED = indicator("results_recognised")
AVOIDED_COST = indicator("recognition_avoided_cost")


def _first_review(
    member: Member,
    at: datetime,
    county: County,
    *,
    held: bool = False,
    rejected: bool = False,
    antibiotic: bool,
) -> list[Change]:
    """A prescription reviewed for the first time: counted, and in each share's denominator."""
    day = county.clock.date_of(at)
    place = county.place(member)
    return (
        flow(REVIEWED, place, day, ONE)
        + flow(HELD_SHARE, place, day, ONE if held else ZERO, ONE)
        + flow(REJECTED_SHARE, place, day, ONE if rejected else ZERO, ONE)
        + flow(ANTIBIOTIC_RATE, place, day, ONE if antibiotic else ZERO, ONE)
    )


def review_released(data: PrescriptionReleased, member: Member, county: County) -> list[Change]:
    """Released by the rules at once (a first review), or by a pharmacist after a hold."""
    if data.held_at is None:
        return _first_review(member, data.released_at, county, antibiotic=data.antibiotic)
    return hold_decided(member, data.released_at, county)


def review_held(data: PrescriptionHeld, member: Member, county: County) -> list[Change]:
    return _first_review(member, data.held_at, county, held=True, antibiotic=data.antibiotic)


def review_rejected(
    data: PrescriptionReviewRejected, member: Member, county: County
) -> list[Change]:
    """Rejected by the rules at once (a first review), or by a pharmacist after a hold (a
    rejection, counted when it was decided, over that period's reviews)."""
    if data.held_at is None:
        return _first_review(
            member, data.rejected_at, county, rejected=True, antibiotic=data.antibiotic
        )
    day = county.clock.date_of(data.rejected_at)
    return flow(REJECTED_SHARE, county.place(member), day, ONE, ZERO) + hold_decided(
        member, data.rejected_at, county
    )


def review_overdue(data: PrescriptionReviewOverdue, member: Member, county: County) -> list[Change]:
    day = county.clock.date_of(data.detected_at)
    return flow(REVIEW_BREACHES, county.place(member), day, ONE)


def hold_decided(member: Member, decided_at: datetime, county: County) -> list[Change]:
    """The hold-time percentiles of the decision's day and month, at every level, to be
    ranked again (from the holds kept, this one included)."""
    day = county.clock.date_of(decided_at)
    return [
        Rank(CellKey(ind.code, unit.level, unit.unit_id, kind, period_of(day, kind)))
        for ind in HOLD_TIMES
        for unit in county.place(member).units(ind.levels)
        for kind in ind.periods
    ]


def hold_seconds(held_at: datetime, decided_at: datetime) -> int:
    """How long a hold waited for its decision, in whole seconds (0 if the clocks disagree)."""
    return max(0, int((decided_at - held_at).total_seconds()))


def result_recognised(data: ResultRecognised, member: Member, county: County) -> list[Change]:
    """An earlier result recognised at the ordering facility: the repeat and its price avoided."""
    day = county.clock.date_of(data.decided_at)
    place = county.place(member)
    return (
        flow(RECOGNITION_RATE, place, day, ONE, ONE)
        + flow(RECOGNISED, place, day, ONE)
        + flow(AVOIDED_COST, place, day, cents(data.avoided_cost))
    )


def result_not_recognised(
    data: ResultNotRecognised, member: Member, county: County
) -> list[Change]:
    """A missed recognition (the rate's denominator), unless the item is not one the county
    recognises at all."""
    if data.reason is NotRecognisedReason.ITEM_NOT_RECOGNISED:
        return []
    day = county.clock.date_of(data.decided_at)
    return flow(RECOGNITION_RATE, county.place(member), day, ZERO, ONE)
