"""The review centre's SLA: a held prescription not decided by its ``decide_by`` is
overdue, announced once and escalated to the centre's lead."""

from __future__ import annotations

from sqlalchemy import select, update

from libs.events.catalogue.quality import PrescriptionReviewOverdue
from services.quality.adapters.schema import Review
from services.quality.service_layer.reviewing import utc
from services.quality.service_layer.unit_of_work import QualityUnitOfWork

__all__ = ["ESCALATED_TO", "scan"]

ESCALATED_TO = "review_centre_lead"


def scan(uow: QualityUnitOfWork) -> list[str]:
    """Announce every held prescription past its SLA, once; returns their ids."""
    now = uow.config.now()
    announced = []
    with uow:
        overdue = uow.session.scalars(
            select(Review).where(
                Review.state == "held", Review.decide_by < now, Review.overdue_at.is_(None)
            )
        ).all()
        for row in overdue:
            marked = uow.session.execute(
                update(Review)
                .where(
                    Review.facility_id == row.facility_id,
                    Review.prescription_id == row.prescription_id,
                    Review.overdue_at.is_(None),
                )
                .values(overdue_at=now)
            )
            if not getattr(marked, "rowcount", 0):
                continue  # another process announced it
            uow.publish(
                PrescriptionReviewOverdue(
                    prescription_id=row.prescription_id,
                    facility_id=row.facility_id,
                    held_at=utc(row.held_at) or now,
                    decide_by=utc(row.decide_by) or now,
                    detected_at=now,
                    escalated_to=ESCALATED_TO,
                )
            )
            announced.append(row.prescription_id)
        uow.commit()
    return announced
