"""Counting what each system sent, and ending a silence when its feed comes back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from libs.events.catalogue.gateway import FeedResumed
from services.gateway.domain.messages import Accepted, Refused
from services.gateway.domain.systems import SystemRules
from services.gateway.service_layer.unit_of_work import GatewayUnitOfWork

__all__ = ["account_for"]


def account_for(
    uow: GatewayUnitOfWork,
    system: SystemRules,
    outcomes: Sequence[Accepted | Refused],
    *,
    now: datetime,
) -> None:
    """Record that ``system`` was heard from at ``now`` with these outcomes (in the open
    transaction); a silent feed is over, announced once."""
    feeds = uow.feeds
    silent_since = feeds.arrived(system.system_id, now)
    if silent_since is not None and feeds.end_silence(system.system_id):
        uow.publish(
            FeedResumed(
                system_id=system.system_id,
                facility_id=system.facility_id,
                system_kind=system.kind.value,
                silent_since=silent_since,
                resumed_at=max(now, silent_since),
            )
        )
    accepted = sum(1 for o in outcomes if isinstance(o, Accepted))
    refused = [o for o in outcomes if isinstance(o, Refused)]
    if accepted or refused:
        feeds.count(system.system_id, at=now, accepted=accepted, refused=len(refused))
    reasons = Counter(refusal.problems[0].code for refusal in refused if refusal.problems)
    for reason, count in reasons.items():
        feeds.refusal(system.system_id, reason, at=now, count=count)


def note_refused(uow: GatewayUnitOfWork, system: SystemRules, refusals: Sequence[Refused]) -> None:
    """Record refusals decided before anything reached the database (a malformed bundle)
    in a transaction of their own."""
    with uow:
        account_for(uow, system, refusals, now=uow.config.now())
        uow.commit()
