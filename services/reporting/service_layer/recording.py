"""The reporting handlers: each looks up the organisation facts its rule needs and records
the rule's cell changes on the unit of work (applied together when the batch commits).

The members' systems' feeds (visits, prescriptions, test orders and results) are the
busiest: they are handled as sets (libs/events/consuming/sets.py), a batch's records in one
go without a savepoint each.
A record refused (an unknown facility) has recorded nothing, so it is refused alone."""

from __future__ import annotations

from libs.events.catalogue.finance import ClaimValued
from libs.events.catalogue.ingestion import (
    OrderPlaced,
    PrescriptionIssued,
    ResultReported,
    VisitRecorded,
)
from libs.events.catalogue.pharmacy import ExpiryScanned, Restocked, ShortageRecorded, StockedOut
from libs.events.catalogue.referral import ReferralRequested, ReferralSlaBreached
from libs.events.catalogue.staffing import SessionDelivered, StationingEnded, StationingStarted
from libs.events.consuming.sets import RecordSet
from libs.events.retry import PermanentError
from services.reporting.adapters.schema import StationingSpan
from services.reporting.domain import rules
from services.reporting.service_layer.unit_of_work import ReportingUnitOfWork

__all__ = [
    "on_claim_valued",
    "on_expiry_scanned",
    "on_order_placed",
    "on_prescription_issued",
    "on_referral_requested",
    "on_restocked",
    "on_result_reported",
    "on_session_delivered",
    "on_shortage_recorded",
    "on_sla_breached",
    "on_stationing_ended",
    "on_stationing_started",
    "on_stocked_out",
    "on_visit_recorded",
    "orders_placed",
    "prescriptions_issued",
    "results_reported",
    "visits_recorded",
]


def visits_recorded(records: RecordSet[VisitRecorded], uow: ReportingUnitOfWork) -> None:
    for visit in records.each():
        try:
            on_visit_recorded(visit, uow)
        except PermanentError as refusal:  # raised before anything was recorded
            records.refuse(refusal)


def prescriptions_issued(records: RecordSet[PrescriptionIssued], uow: ReportingUnitOfWork) -> None:
    for prescription in records.each():
        try:
            on_prescription_issued(prescription, uow)
        except PermanentError as refusal:  # raised before anything was recorded
            records.refuse(refusal)


def orders_placed(records: RecordSet[OrderPlaced], uow: ReportingUnitOfWork) -> None:
    for order in records.each():
        try:
            on_order_placed(order, uow)
        except PermanentError as refusal:  # raised before anything was recorded
            records.refuse(refusal)


def results_reported(records: RecordSet[ResultReported], uow: ReportingUnitOfWork) -> None:
    for result in records.each():
        try:
            on_result_reported(result, uow)
        except PermanentError as refusal:  # raised before anything was recorded
            records.refuse(refusal)


def on_visit_recorded(visit: VisitRecorded, uow: ReportingUnitOfWork) -> None:
    member = uow.member(visit.facility_id) if visit.facility_in_county else None
    uow.record(rules.visit_recorded(visit, member, uow.county))


def on_prescription_issued(data: PrescriptionIssued, uow: ReportingUnitOfWork) -> None:
    uow.record(rules.prescription_issued(data, uow.member(data.facility_id), uow.county))


def on_order_placed(data: OrderPlaced, uow: ReportingUnitOfWork) -> None:
    uow.record(rules.order_placed(data, uow.member(data.facility_id), uow.county))


def on_result_reported(data: ResultReported, uow: ReportingUnitOfWork) -> None:
    uow.record(rules.result_reported(data, uow.member(data.facility_id), uow.county))


def on_referral_requested(data: ReferralRequested, uow: ReportingUnitOfWork) -> None:
    uow.record(rules.referral_requested(data, uow.member(data.from_facility_id), uow.county))


def on_sla_breached(data: ReferralSlaBreached, uow: ReportingUnitOfWork) -> None:
    uow.record(rules.sla_breached(data, uow.member(data.to_facility_id), uow.county))


def on_stocked_out(data: StockedOut, uow: ReportingUnitOfWork) -> None:
    uow.record(rules.stock_availability(data, uow.member(data.facility_id), uow.county))


def on_restocked(data: Restocked, uow: ReportingUnitOfWork) -> None:
    uow.record(rules.stock_availability(data, uow.member(data.facility_id), uow.county))


def on_shortage_recorded(data: ShortageRecorded, uow: ReportingUnitOfWork) -> None:
    uow.record(rules.shortage_recorded(data, uow.member(data.facility_id), uow.county))


def on_expiry_scanned(data: ExpiryScanned, uow: ReportingUnitOfWork) -> None:
    uow.record(rules.expiry_scanned(data, uow.member(data.facility_id), uow.county))


def on_claim_valued(data: ClaimValued, uow: ReportingUnitOfWork) -> None:
    uow.record(rules.claim_valued(data, uow.county))


def on_session_delivered(data: SessionDelivered, uow: ReportingUnitOfWork) -> None:
    uow.record(rules.session_delivered(data, uow.member(data.facility_id), uow.county))


def on_stationing_started(data: StationingStarted, uow: ReportingUnitOfWork) -> None:
    """Count the stationing in every period it covers; remember its span for its end."""
    if uow.session.get(StationingSpan, data.stationing_id) is not None:
        return  # announced again (a new event id for the same stationing)
    host = uow.member(data.facility_id)
    uow.session.add(
        StationingSpan(
            stationing_id=data.stationing_id,
            facility_id=data.facility_id,
            first_day=data.start_date,
            last_day=data.planned_end_date,
            ended=False,
        )
    )
    uow.record(
        rules.stationing_moved(host, data.start_date, None, data.planned_end_date, uow.county)
    )


def on_stationing_ended(data: StationingEnded, uow: ReportingUnitOfWork) -> None:
    """Move the stationing's last day to its end (earlier or later than planned)."""
    span = uow.session.get(StationingSpan, data.stationing_id)
    if span is None:
        raise PermanentError(
            "unknown_stationing", f"stationing {data.stationing_id} was never started here"
        )
    host = uow.member(span.facility_id)
    changes = rules.stationing_moved(host, span.first_day, span.last_day, data.end_date, uow.county)
    span.last_day, span.ended = data.end_date, True
    uow.record(changes)
