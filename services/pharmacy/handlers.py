"""Events the pharmacy service consumes, and the handlers that apply them.

- the organisation (``organisation.*``): the service's copy of facilities and communities;
- ``ingestion.prescription.issued.v1`` and ``.v2`` (the same prescription, more said of it):
  dispense, a set of a batch's prescriptions at once (``service_layer/dispensing.py``), or
  hold back those the county reviews before dispensing;
- ``quality.policy.published.v1``: keep the county's review policy (``service_layer/review.py``);
- ``quality.prescription.released.v1``: dispense what the review released before dispensing
  (the same set path; a release after dispensing changes nothing);
- ``quality.herbal_order.accepted.v1``: issue a shared-pharmacy order from the TCM hospital's
  stock (``service_layer/shared_pharmacy.py``); the clinic never dispenses it;
- ``referral.referral.requested/accepted/cancelled.v1``: stock for patients referred down
  (``service_layer/referrals.py``).
"""

from libs.directory import register_handlers as register_directory
from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionIssuedV2
from libs.events.catalogue.quality import (
    HerbalOrderAccepted,
    PrescriptionReleased,
    ReviewPolicyPublished,
)
from libs.events.catalogue.referral import ReferralAccepted, ReferralCancelled, ReferralRequested
from libs.events.consuming import HandlerRegistry
from libs.events.consuming.sets import RecordSet
from libs.events.unit_of_work import UnitOfWork
from services.pharmacy.service_layer import dispensing, referrals, review, shared_pharmacy
from services.pharmacy.service_layer.unit_of_work import pharmacy_uow

HANDLERS = HandlerRegistry()
register_directory(HANDLERS)


@HANDLERS.on_set(PrescriptionIssuedV2)
@HANDLERS.on_set(PrescriptionIssued)
def dispense(records: RecordSet[PrescriptionIssued], uow: UnitOfWork) -> None:
    dispensing.dispense_set(pharmacy_uow(uow), records)


@HANDLERS.on_set(PrescriptionReleased)
def dispense_released(records: RecordSet[PrescriptionReleased], uow: UnitOfWork) -> None:
    dispensing.dispense_released(pharmacy_uow(uow), records)


@HANDLERS.on(HerbalOrderAccepted)
def issue_herbal_order(data: HerbalOrderAccepted, uow: UnitOfWork) -> None:
    work = pharmacy_uow(uow)
    dispensing.dispense_prepared(work, shared_pharmacy.order_as_prescription(work, data))


@HANDLERS.on(ReviewPolicyPublished)
def keep_review_policy(data: ReviewPolicyPublished, uow: UnitOfWork) -> None:
    review.keep_policy(pharmacy_uow(uow), data)


@HANDLERS.on(ReferralRequested)
def remember_referred_patient(data: ReferralRequested, uow: UnitOfWork) -> None:
    referrals.remember_patient(pharmacy_uow(uow), data)


@HANDLERS.on(ReferralAccepted)
def reserve_referral_medication(data: ReferralAccepted, uow: UnitOfWork) -> None:
    referrals.reserve_for_referral(pharmacy_uow(uow), data)


@HANDLERS.on(ReferralCancelled)
def release_referral_reservations(data: ReferralCancelled, uow: UnitOfWork) -> None:
    referrals.release_for_cancelled(pharmacy_uow(uow), data)
