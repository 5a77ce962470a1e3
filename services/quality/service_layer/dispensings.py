"""The population of the prescription audit (处方点评): every reviewed prescription pharmacy
dispensed (``pharmacy.prescription.dispensed.v1``), with the county month it was issued in.

The month is the prescription's, not the dispensing's: the audit judges what a prescriber
wrote in the month (a prescription is valid for at most three days, so a month is drawn only
once its last prescriptions were dispensed or lapsed, ``draw_after_days``). A dispensing is
recorded once (the consumer's fact claim catches a resend, the row a second copy).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from libs.events.catalogue.pharmacy import PrescriptionDispensed
from libs.events.unit_of_work import UnitOfWork
from libs.platform.clock import CountyClock
from services.quality.adapters.schema import DispensedPrescription, HerbalOrderRow, Review
from services.quality.domain.audit import month_of
from services.quality.service_layer.unit_of_work import quality_uow

__all__ = ["complete_dispensing", "complete_pending", "record_dispensed"]


def record_dispensed(data: PrescriptionDispensed, uow: UnitOfWork) -> None:
    """Add the dispensed prescription to its month's audit population.

    Pharmacy dispenses a prescription quality reviews from the same HIS record (or from
    quality's release): when the dispensing overtakes the review (pharmacy's consumer ahead
    of quality's, as at the county hospitals, reviewed after dispensing), it is recorded
    without its month, which the review fills in (:func:`complete_dispensing`) — never
    parked, so a quality service behind under load loses none to the dead letters."""
    work = quality_uow(uow)
    review = _review_of(work.session, data)
    key = (
        (review.facility_id, review.prescription_id)
        if review is not None
        else (data.facility_id, data.prescription_id)
    )
    if work.session.get(DispensedPrescription, key) is not None:
        return
    row = DispensedPrescription(
        facility_id=key[0],
        prescription_id=key[1],
        dispensed_at=data.dispensed_at,
        recorded_at=work.config.now(),
    )
    work.session.add(row)
    if review is not None:
        _complete(row, review, work.config.clock)


def complete_dispensing(session: Session, review: Review, clock: CountyClock) -> None:
    """The review of a prescription whose dispensing came first: give the dispensing its
    month, issued time and prescriber (called by the review as it is recorded)."""
    row = session.get(DispensedPrescription, (review.facility_id, review.prescription_id))
    if row is not None and row.month is None:
        _complete(row, review, clock)


def complete_pending(session: Session, clock: CountyClock) -> None:
    """Give every dispensing still without a month the month of its review, where the review
    is there: a dispensing and its review applied at the same moment (two topics, two
    transactions) cannot see each other, so the draw completes what neither could."""
    pending = session.scalars(
        select(DispensedPrescription).where(DispensedPrescription.month.is_(None))
    ).all()
    for row in pending:
        review = session.get(Review, (row.facility_id, row.prescription_id))
        if review is not None:
            _complete(row, review, clock)


def _complete(row: DispensedPrescription, review: Review, clock: CountyClock) -> None:
    # Stored as the event carried it: an instant with its zone (``Instant`` requires one).
    issued_at = datetime.fromisoformat(str(review.prescription["issued_at"]))
    row.month = month_of(clock.date_of(issued_at))
    row.issued_at = issued_at
    row.prescriber_id = review.prescriber_id


def _review_of(session: Session, data: PrescriptionDispensed) -> Review | None:
    """The review of what was dispensed. The shared TCM pharmacy dispenses a clinic's herbal
    prescription under its order's id at its own facility: the prescription audited is the
    clinic's (its prescriber wrote it), found through quality's own order."""
    review = session.get(Review, (data.facility_id, data.prescription_id))
    if review is not None:
        return review
    order = session.get(HerbalOrderRow, data.prescription_id)
    if order is None or order.pharmacy_facility_id != data.facility_id:
        return None
    return session.get(Review, (order.facility_id, order.prescription_id))
