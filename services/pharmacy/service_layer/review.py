"""Pharmacy's copy of the county's review policy (``quality.policy.published.v1``): the
facility types whose prescriptions are dispensed only once the review centre released them
(``dispensing.dispense_released``). A policy replaces the one kept for its county unless
that one was published later (the topic is keyed by county, so they arrive in order; a
replay of an older one changes nothing)."""

from __future__ import annotations

import structlog

from libs.events.catalogue.quality import ReviewPolicyPublished
from services.pharmacy.adapters.schema import ReviewPolicyRow
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["keep_policy"]

log = structlog.get_logger("review_policy")


def keep_policy(uow: PharmacyUnitOfWork, data: ReviewPolicyPublished) -> bool:
    """Keep ``data`` as the county's policy unless a later one is kept; whether it was."""
    types = sorted({t.value for t in data.review_before_dispensing})
    kept = uow.records.keep_review_policy(
        ReviewPolicyRow(
            county_code=data.county_code,
            review_before_dispensing=types,
            published_at=data.published_at,
            received_at=uow.now(),
        )
    )
    log.info("review policy", county=data.county_code, before=types, kept=kept)
    return kept
