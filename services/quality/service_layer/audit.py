"""The monthly prescription audit (处方点评): draw a month's sample per member, record the
review centre's verdicts, publish a member's results once every sampled prescription has one.

A drawn sample is the record: drawing the month again returns it unchanged (a member whose
first dispensing of the month was recorded after the draw is drawn then), and a published
month is never changed. Publication is guarded by a conditional update, so two publishers at
once publish one event.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from libs.events.catalogue.quality import (
    AuditCategoryCount,
    AuditCompleted,
    AuditPrescriberResult,
    AuditReasonCount,
)
from libs.platform.refusals import Conflict, Invalid, NotFound
from services.quality.adapters.schema import AuditItem, AuditSample, DispensedPrescription
from services.quality.domain.audit import (
    AuditTally,
    SampledVerdict,
    draw_sample,
    drawable_from,
    previous_month,
    sample_size,
    tally,
)
from services.quality.domain.audit_standard import VerdictRefused, judge
from services.quality.service_layer import dispensings
from services.quality.service_layer.reviewing import utc
from services.quality.service_layer.unit_of_work import QualityUnitOfWork

__all__ = ["SCHEDULER", "decide_verdict", "draw_due", "draw_month", "publish_results"]

#: Who draws a month when nobody asked first (the periodic job).
SCHEDULER = "scheduler"


def draw_month(uow: QualityUnitOfWork, month: str, *, drawn_by: str) -> list[AuditSample]:
    """The month's samples, drawn now for every member not drawn yet; 409 before the month
    may be drawn (it ended ``draw_after_days`` ago, county time)."""
    opens = drawable_from(month, uow.config.audit)
    if uow.config.clock.today() < opens:
        raise Conflict(
            "month_not_ended",
            f"{month} may be drawn from {opens.isoformat()} (county time), once its "
            "prescriptions were dispensed or lapsed",
            details={"drawable_from": opens.isoformat()},
        )
    try:
        with uow:
            _draw_undrawn(uow, month, drawn_by)
            uow.commit()
    except IntegrityError:
        pass  # a draw at the same moment stored the month first: its samples stand
    with uow:
        samples = uow.session.scalars(
            select(AuditSample).where(AuditSample.month == month).order_by(AuditSample.facility_id)
        ).all()
        uow.session.expunge_all()
        return list(samples)


def draw_due(uow: QualityUnitOfWork) -> list[str]:
    """Draw last month once it may be drawn, if nobody drew any of it yet (the periodic
    job: it reads the month once, not every round; a member drawn late is drawn by a
    request); the members drawn now."""
    month = previous_month(uow.config.clock.today())
    if uow.config.clock.today() < drawable_from(month, uow.config.audit):
        return []
    try:
        with uow:
            started = select(AuditSample.facility_id).where(AuditSample.month == month)
            if uow.session.scalars(started.limit(1)).first() is not None:
                return []
            drawn = _draw_undrawn(uow, month, SCHEDULER)
            uow.commit()
    except IntegrityError:
        return []  # a request drew the month at the same moment
    return drawn


def _draw_undrawn(uow: QualityUnitOfWork, month: str, drawn_by: str) -> list[str]:
    """Draw every member with dispensed prescriptions in ``month`` and no sample yet."""
    standard, now = uow.config.audit, uow.config.now()
    dispensings.complete_pending(uow.session, uow.config.clock)
    drawn = set(
        uow.session.scalars(select(AuditSample.facility_id).where(AuditSample.month == month))
    )
    population: dict[str, dict[str, str | None]] = defaultdict(dict)
    rows = uow.session.execute(
        select(
            DispensedPrescription.facility_id,
            DispensedPrescription.prescription_id,
            DispensedPrescription.prescriber_id,
        ).where(DispensedPrescription.month == month)
    )
    for facility_id, prescription_id, prescriber_id in rows:
        if facility_id not in drawn:
            population[facility_id][prescription_id] = prescriber_id
    for facility_id, prescribers in sorted(population.items()):
        size = sample_size(len(prescribers), standard)
        sample = draw_sample(standard.seed, month, facility_id, prescribers, size)
        uow.session.add(
            AuditSample(
                month=month,
                facility_id=facility_id,
                seed=standard.seed,
                prescriptions=len(prescribers),
                sampled=len(sample),
                drawn_at=now,
                drawn_by=drawn_by,
            )
        )
        uow.session.add_all(
            AuditItem(
                month=month,
                facility_id=facility_id,
                prescription_id=rx,
                position=i,
                prescriber_id=prescribers[rx],
                reasons=[],
                history=[],
            )
            for i, rx in enumerate(sample, 1)
        )
    uow.session.flush()
    return sorted(population)


def decide_verdict(
    uow: QualityUnitOfWork,
    key: tuple[str, str, str],
    *,
    verdict: str,
    reasons: list[str],
    note: str | None,
    reviewer: str,
) -> AuditItem:
    """Record a reviewer's verdict on a sampled prescription (``key``: month, facility,
    prescription); a verdict given before is kept in the item's history, who and when.
    422 for a verdict the standard does not know, 404 if not sampled, 409 once published."""
    try:
        judgement = judge(uow.config.audit, verdict, reasons)
    except VerdictRefused as refused:
        raise Invalid(refused.code, refused.message) from None
    month, facility_id, prescription_id = key
    with uow:
        sample = uow.session.get(AuditSample, (month, facility_id), with_for_update=True)
        item = uow.session.get(AuditItem, key, with_for_update=True)
        if sample is None or item is None:
            raise NotFound(
                "not_sampled", f"{prescription_id} of {facility_id} is not in the {month} sample"
            )
        if sample.published_at is not None:
            raise Conflict(
                "published", f"the {month} audit of {facility_id} is published: verdicts stand"
            )
        if item.verdict is not None:
            item.history = [*item.history, _earlier(item)]
        item.verdict, item.reasons, item.note = judgement.verdict, list(judgement.reasons), note
        item.decided_at, item.decided_by = uow.config.now(), reviewer
        uow.commit()
        return item


def _earlier(item: AuditItem) -> dict[str, object]:
    decided_at = utc(item.decided_at)
    return {
        "verdict": item.verdict,
        "reasons": list(item.reasons),
        "note": item.note,
        "decided_by": item.decided_by,
        "decided_at": decided_at.isoformat() if decided_at else None,
    }


def publish_results(
    uow: QualityUnitOfWork, month: str, facility_id: str, *, publisher: str
) -> AuditCompleted:
    """Publish a member's month once every sampled prescription has a verdict (409 naming
    how many have none; 409 if published already)."""
    now = uow.config.now()
    with uow:
        sample = uow.session.get(AuditSample, (month, facility_id))
        if sample is None:
            raise NotFound("not_drawn", f"the {month} audit of {facility_id} is not drawn")
        if sample.published_at is not None:
            raise Conflict("already_published", f"the {month} audit of {facility_id} is published")
        items = uow.session.scalars(
            select(AuditItem).where(AuditItem.month == month, AuditItem.facility_id == facility_id)
        ).all()
        counts = tally([_verdict_of(i) for i in items])
        if counts.undecided:
            raise Conflict(
                "verdicts_missing",
                f"{counts.undecided} of {counts.sampled} sampled prescriptions have no verdict yet",
                details={"undecided": counts.undecided, "sampled": counts.sampled},
            )
        marked = uow.session.execute(
            update(AuditSample)
            .where(
                AuditSample.month == month,
                AuditSample.facility_id == facility_id,
                AuditSample.published_at.is_(None),
            )
            .values(published_at=now, published_by=publisher)
        )
        if not getattr(marked, "rowcount", 0):
            raise Conflict("already_published", f"the {month} audit of {facility_id} is published")
        event = _completed(sample, counts, publisher, now)
        uow.publish(event)
        uow.commit()
        return event


def _verdict_of(item: AuditItem) -> SampledVerdict:
    return SampledVerdict(
        item.prescription_id, item.prescriber_id, item.verdict, tuple(item.reasons)
    )


def _completed(
    sample: AuditSample, counts: AuditTally, publisher: str, now: datetime
) -> AuditCompleted:
    return AuditCompleted(
        facility_id=sample.facility_id,
        month=sample.month,
        prescriptions=sample.prescriptions,
        sampled=counts.sampled,
        reviewed=counts.reviewed,
        irrational=counts.irrational,
        categories=[
            AuditCategoryCount(category=c, prescriptions=n) for c, n in counts.by_category.items()
        ],
        reasons=[
            AuditReasonCount(category=c, reason=r, prescriptions=n)
            for (c, r), n in counts.by_reason.items()
        ],
        prescribers=[
            AuditPrescriberResult(
                prescriber_id=p.prescriber_id, sampled=p.sampled, irrational=p.irrational
            )
            for p in counts.by_prescriber
        ],
        seed=sample.seed,
        drawn_at=utc(sample.drawn_at) or now,
        published_at=now,
        published_by=publisher,
    )
