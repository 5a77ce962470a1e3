"""Publishing the county's review policy (which facility types are reviewed before
dispensing) at start, when it is new or changed: pharmacy keeps a copy and waits for the
review of those facilities' prescriptions."""

from __future__ import annotations

from libs.events.catalogue.quality import ReviewPolicyPublished
from services.quality.adapters.schema import PublishedPolicy
from services.quality.service_layer.unit_of_work import QualityUnitOfWork

__all__ = ["publish_policy"]


def publish_policy(uow: QualityUnitOfWork) -> bool:
    """Publish the configured policy unless it is the one last published."""
    config = uow.config
    types = sorted(t.value for t in config.rules.review_before_dispensing)
    now = config.now()
    with uow:
        last = uow.session.get(PublishedPolicy, config.county_code, with_for_update=True)
        if last is not None and sorted(last.review_before_dispensing) == types:
            return False
        if last is None:
            last = PublishedPolicy(county_code=config.county_code)
            uow.session.add(last)
        last.review_before_dispensing, last.published_at = types, now
        uow.publish(
            ReviewPolicyPublished(
                county_code=config.county_code,
                review_before_dispensing=sorted(config.rules.review_before_dispensing),
                published_at=now,
            )
        )
        uow.commit()
    return True
