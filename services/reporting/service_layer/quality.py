"""The review centre's events (quality): prescriptions reviewed, held, rejected, holds past
the SLA, and how long holds waited (its percentiles, :mod:`percentiles`).

A hold's decision keeps the hold's duration (:class:`ReviewHold`) before it asks for its
periods' percentiles to be ranked again; a second decision of the same hold (released, then
rejected, or the other way round) counts nothing. A resend under a new event id is the
backbone's to skip (the catalogue's identity). Released prescriptions are nearly every
prescription: they are handled as a set, like the members' feeds.

Result recognition decides every test and examination ordered, once each: both of its events
are handled as sets, like the orders themselves; they keep nothing but their cells."""

from __future__ import annotations

from datetime import datetime

from libs.events.catalogue.quality import (
    PrescriptionHeld,
    PrescriptionReleased,
    PrescriptionReviewOverdue,
    PrescriptionReviewRejected,
    ResultNotRecognised,
    ResultRecognised,
)
from libs.events.catalogue.reporting import PeriodKind
from libs.events.consuming.sets import RecordSet
from libs.events.retry import PermanentError
from services.reporting.adapters.schema import ReviewHold
from services.reporting.domain import quality_rules
from services.reporting.domain.cells import Member
from services.reporting.domain.periods import period_of
from services.reporting.service_layer.unit_of_work import ReportingUnitOfWork

__all__ = [
    "on_prescription_held",
    "on_prescription_rejected",
    "on_prescription_released",
    "on_result_not_recognised",
    "on_result_recognised",
    "on_review_overdue",
    "prescriptions_released",
    "restore_hold",
    "results_not_recognised",
    "results_recognised",
]


def prescriptions_released(
    records: RecordSet[PrescriptionReleased], uow: ReportingUnitOfWork
) -> None:
    for released in records.each():
        try:
            on_prescription_released(released, uow)
        except PermanentError as refusal:  # raised before anything was recorded
            records.refuse(refusal)


def on_prescription_released(data: PrescriptionReleased, uow: ReportingUnitOfWork) -> None:
    member = uow.member(data.facility_id)
    if data.held_at is not None and not _keep_hold(
        uow, member, data.prescription_id, data.held_at, data.released_at
    ):
        return  # this hold's decision is counted already
    uow.record(quality_rules.review_released(data, member, uow.county))


def on_prescription_held(data: PrescriptionHeld, uow: ReportingUnitOfWork) -> None:
    uow.record(quality_rules.review_held(data, uow.member(data.facility_id), uow.county))


def on_prescription_rejected(data: PrescriptionReviewRejected, uow: ReportingUnitOfWork) -> None:
    member = uow.member(data.facility_id)
    if data.held_at is not None and not _keep_hold(
        uow, member, data.prescription_id, data.held_at, data.rejected_at
    ):
        return  # this hold's decision is counted already
    uow.record(quality_rules.review_rejected(data, member, uow.county))


def on_review_overdue(data: PrescriptionReviewOverdue, uow: ReportingUnitOfWork) -> None:
    uow.record(quality_rules.review_overdue(data, uow.member(data.facility_id), uow.county))


def results_recognised(records: RecordSet[ResultRecognised], uow: ReportingUnitOfWork) -> None:
    for recognised in records.each():
        try:
            on_result_recognised(recognised, uow)
        except PermanentError as refusal:  # raised before anything was recorded
            records.refuse(refusal)


def results_not_recognised(
    records: RecordSet[ResultNotRecognised], uow: ReportingUnitOfWork
) -> None:
    for missed in records.each():
        try:
            on_result_not_recognised(missed, uow)
        except PermanentError as refusal:  # raised before anything was recorded
            records.refuse(refusal)


def on_result_recognised(data: ResultRecognised, uow: ReportingUnitOfWork) -> None:
    uow.record(quality_rules.result_recognised(data, uow.member(data.facility_id), uow.county))


def on_result_not_recognised(data: ResultNotRecognised, uow: ReportingUnitOfWork) -> None:
    member = uow.member(data.facility_id)
    uow.record(quality_rules.result_not_recognised(data, member, uow.county))


def restore_hold(
    data: PrescriptionReleased | PrescriptionReviewRejected, uow: ReportingUnitOfWork
) -> bool:
    """Keep a decided hold's duration from the review centre's event, counting nothing (a
    rebuild: the cells come from the changelog); whether it was added. A hold of a facility
    the directory copy does not know is skipped."""
    if data.held_at is None:
        return False
    try:
        member = uow.member(data.facility_id)
    except PermanentError:
        return False
    decided = data.released_at if isinstance(data, PrescriptionReleased) else data.rejected_at
    return _keep_hold(uow, member, data.prescription_id, data.held_at, decided)


def _keep_hold(
    uow: ReportingUnitOfWork,
    member: Member,
    prescription_id: str,
    held_at: datetime,
    decided_at: datetime,
) -> bool:
    """Keep the decided hold's duration in the periods of its decision; False if this hold
    was decided already."""
    if uow.session.get(ReviewHold, (member.facility_id, prescription_id)) is not None:
        return False
    day = uow.county.clock.date_of(decided_at)
    uow.session.add(
        ReviewHold(
            facility_id=member.facility_id,
            prescription_id=prescription_id,
            community_id=member.community_id,
            day=period_of(day, PeriodKind.DAY),
            month=period_of(day, PeriodKind.MONTH),
            seconds=quality_rules.hold_seconds(held_at, decided_at),
        )
    )
    uow.session.flush()
    return True
