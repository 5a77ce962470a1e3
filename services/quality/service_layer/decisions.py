"""A review-centre pharmacist decides a held prescription: release (with the rules'
warnings) or return it to the prescriber. Only a held prescription can be decided, once."""

from __future__ import annotations

from libs.events.catalogue.quality import PrescriptionReviewRejected
from libs.platform.refusals import Conflict, NotFound
from services.quality.adapters.schema import Review
from services.quality.service_layer.reviewing import findings_of, release_event, utc
from services.quality.service_layer.shared_pharmacy import accept_if_requested
from services.quality.service_layer.unit_of_work import QualityUnitOfWork

__all__ = ["decide"]


def decide(
    uow: QualityUnitOfWork,
    facility_id: str,
    prescription_id: str,
    *,
    release: bool,
    pharmacist: str,
    note: str | None,
) -> Review:
    """Release or reject the held prescription; 404 if unknown, 409 if not held."""
    now = uow.config.now()
    with uow:
        row = uow.session.get(Review, (facility_id, prescription_id), with_for_update=True)
        if row is None:
            raise NotFound("unknown_review", f"no review of {prescription_id} at {facility_id}")
        if row.state != "held":
            raise Conflict(
                "not_held",
                f"prescription {prescription_id} is {row.state}, not held: it was decided",
                details={"state": row.state},
            )
        row.decided_at, row.decided_by, row.decision_note = now, pharmacist, note
        if release:
            row.state = "released"
            uow.publish(release_event(row, released_by=pharmacist, at=now))
            accept_if_requested(uow, row, now)
        else:
            row.state = "rejected"
            uow.publish(
                PrescriptionReviewRejected(
                    prescription_id=row.prescription_id,
                    facility_id=row.facility_id,
                    prescriber_id=row.prescriber_id,
                    before_dispensing=row.before_dispensing,
                    antibiotic=row.antibiotic,
                    findings=findings_of(row.findings),
                    rejected_by=pharmacist,
                    held_at=utc(row.held_at),
                    rejected_at=now,
                )
            )
        uow.commit()
        return row
