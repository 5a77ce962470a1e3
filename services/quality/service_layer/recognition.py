"""Result mutual recognition (检查检验结果互认): quality keeps the county's result index
from the members' LIS and PACS (``ingestion.result.reported.v1``) and, for every test a
member orders (``ingestion.order.placed.v1``), publishes whether an earlier result is
recognised — so the repeat is avoided and finance books its price as the county's saving —
or why not. Each order is decided once, with what the index holds then."""

from __future__ import annotations

from sqlalchemy import select

from libs.events.catalogue.ingestion import OrderPlaced, ResultReported
from libs.events.catalogue.quality import ResultNotRecognised, ResultRecognised
from libs.events.unit_of_work import UnitOfWork
from services.quality.adapters.schema import IndexedResult, OrderDecision
from services.quality.domain.recognition import EarlierResult, recognise
from services.quality.service_layer.reviewing import utc
from services.quality.service_layer.unit_of_work import quality_uow

__all__ = ["decide_order", "index_result"]


def index_result(data: ResultReported, uow: UnitOfWork) -> None:
    """Add a member's result to the county's index (once per facility and result id)."""
    if uow.session.get(IndexedResult, (data.facility_id, data.result_id)) is not None:
        return
    uow.session.add(
        IndexedResult(
            facility_id=data.facility_id,
            result_id=data.result_id,
            patient_pseudonym=data.patient_pseudonym,
            test_code=data.test_code,
            order_id=data.order_id,
            reported_at=data.reported_at,
        )
    )


def decide_order(data: OrderPlaced, uow: UnitOfWork) -> None:
    """Recognise an earlier result for the order, or say why none stands in."""
    work = quality_uow(uow)
    if work.session.get(OrderDecision, (data.facility_id, data.order_id)) is not None:
        return
    rows = work.session.scalars(
        select(IndexedResult).where(
            IndexedResult.patient_pseudonym == data.patient_pseudonym,
            IndexedResult.test_code == data.test_code,
        )
    ).all()
    earlier = [
        EarlierResult(
            r.result_id, r.facility_id, r.test_code, utc(r.reported_at) or data.ordered_at
        )
        for r in rows
        if not (r.facility_id == data.facility_id and r.order_id == data.order_id)
    ]
    decision = recognise(data.test_code, data.ordered_at, earlier, work.config.recognition)
    now = work.config.now()
    work.session.add(
        OrderDecision(
            facility_id=data.facility_id,
            order_id=data.order_id,
            test_code=data.test_code,
            recognised=decision.result is not None,
            reason=decision.reason.value if decision.reason else None,
            earlier_result_id=decision.result.result_id if decision.result else None,
            decided_at=now,
        )
    )
    if decision.result is not None and decision.item is not None:
        work.publish(
            ResultRecognised(
                order_id=data.order_id,
                facility_id=data.facility_id,
                test_code=data.test_code,
                earlier_result_id=decision.result.result_id,
                earlier_facility_id=decision.result.facility_id,
                earlier_reported_at=decision.result.reported_at,
                window_days=decision.item.window.days,
                avoided_cost=decision.item.price,
                decided_at=now,
            )
        )
    elif decision.reason is not None:
        work.publish(
            ResultNotRecognised(
                order_id=data.order_id,
                facility_id=data.facility_id,
                test_code=data.test_code,
                reason=decision.reason,
                decided_at=now,
            )
        )
