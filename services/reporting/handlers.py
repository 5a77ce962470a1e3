"""Events the reporting service consumes, and the handlers that apply them."""

from libs.directory import register_handlers as register_directory
from libs.events.catalogue.finance import ClaimValued
from libs.events.catalogue.gateway import FeedResumed, FeedSilent
from libs.events.catalogue.ingestion import (
    OrderPlaced,
    PrescriptionIssued,
    PrescriptionIssuedV2,
    ResultReported,
    VisitRecorded,
)
from libs.events.catalogue.organisation import FacilityClosed, FacilityRegistered
from libs.events.catalogue.pharmacy import ExpiryScanned, Restocked, ShortageRecorded, StockedOut
from libs.events.catalogue.quality import (
    AuditCompleted,
    HerbalDecoctionStarted,
    HerbalDeliveryFailed,
    HerbalDeliveryOverdue,
    HerbalOrderDelivered,
    HerbalOrderDispatched,
    PrescriptionHeld,
    PrescriptionReleased,
    PrescriptionReviewOverdue,
    PrescriptionReviewRejected,
    ResultNotRecognised,
    ResultRecognised,
)
from libs.events.catalogue.referral import ReferralRequested, ReferralSlaBreached
from libs.events.catalogue.staffing import SessionDelivered, StationingEnded, StationingStarted
from libs.events.consuming import HandlerRegistry
from services.reporting.indicators import members
from services.reporting.service_layer import audit, feeds, herbal, quality, recording


def register_organisation(handlers: HandlerRegistry) -> HandlerRegistry:
    """The member counts and the organisation copy (also what a rebuild replays)."""
    # The counts first: they compare the event with the copy as it was before it.
    handlers.on(FacilityRegistered)(members.count_registered)
    handlers.on(FacilityClosed)(members.count_closed)
    register_directory(handlers)
    return handlers


HANDLERS = register_organisation(HandlerRegistry())

HANDLERS.on_set(VisitRecorded)(recording.visits_recorded)
HANDLERS.on_set(PrescriptionIssued)(recording.prescriptions_issued)
HANDLERS.on_set(PrescriptionIssuedV2)(recording.prescriptions_issued)
HANDLERS.on_set(OrderPlaced)(recording.orders_placed)
HANDLERS.on_set(ResultReported)(recording.results_reported)
HANDLERS.on(ReferralRequested)(recording.on_referral_requested)
HANDLERS.on(ReferralSlaBreached)(recording.on_sla_breached)
HANDLERS.on(StockedOut)(recording.on_stocked_out)
HANDLERS.on(Restocked)(recording.on_restocked)
HANDLERS.on(ShortageRecorded)(recording.on_shortage_recorded)
HANDLERS.on(ExpiryScanned)(recording.on_expiry_scanned)
HANDLERS.on(ClaimValued)(recording.on_claim_valued)
HANDLERS.on(SessionDelivered)(recording.on_session_delivered)
HANDLERS.on(StationingStarted)(recording.on_stationing_started)
HANDLERS.on(StationingEnded)(recording.on_stationing_ended)
HANDLERS.on(FeedSilent)(feeds.on_feed_silent)
HANDLERS.on(FeedResumed)(feeds.on_feed_resumed)
HANDLERS.on_set(PrescriptionReleased)(quality.prescriptions_released)
HANDLERS.on(PrescriptionHeld)(quality.on_prescription_held)
HANDLERS.on(PrescriptionReviewRejected)(quality.on_prescription_rejected)
HANDLERS.on(PrescriptionReviewOverdue)(quality.on_review_overdue)
HANDLERS.on_set(ResultRecognised)(quality.results_recognised)
HANDLERS.on_set(ResultNotRecognised)(quality.results_not_recognised)
HANDLERS.on(AuditCompleted)(audit.on_audit_completed)
HANDLERS.on(HerbalDecoctionStarted)(herbal.on_decoction_started)
HANDLERS.on(HerbalOrderDispatched)(herbal.on_dispatched)
HANDLERS.on(HerbalOrderDelivered)(herbal.on_delivered)
HANDLERS.on(HerbalDeliveryFailed)(herbal.on_delivery_failed)
HANDLERS.on(HerbalDeliveryOverdue)(herbal.on_delivery_overdue)
