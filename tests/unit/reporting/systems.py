"""Source events of the members' information systems for the reporting tests: test orders
and results (ingestion) and the gateway's feed incidents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from libs.events import CloudEvent
from libs.events.catalogue.gateway import FeedResumed, FeedSilent
from libs.events.catalogue.ingestion import OrderPlaced, ResultReported
from libs.events.catalogue.values import FacilityTier, TestKind
from libs.platform.clock import CountyClock
from services.reporting.adapters.schema import IndicatorCell
from services.reporting.domain.rules import County
from services.reporting.service_layer.unit_of_work import ReportingUnitOfWork
from tests.support.harness import HandlerHarness
from tests.support.reporting import PATIENT, REPORTING_UOW, SHANGHAI, event, seed_organisation

LAB, IMAGING = TestKind.LABORATORY, TestKind.IMAGING


def order(
    facility_id: str, kind: TestKind, at: datetime, *, order_id: str = "O-1"
) -> CloudEvent[Any]:
    return event(
        OrderPlaced(
            order_id=order_id,
            facility_id=facility_id,
            facility_tier=FacilityTier.PRIMARY,
            patient_pseudonym=PATIENT,
            test_kind=kind,
            test_code="CBC" if kind is LAB else "DR-CHEST",
            ordered_at=at,
        )
    )


def result(
    facility_id: str, kind: TestKind, at: datetime, *, result_id: str = "R-1"
) -> CloudEvent[Any]:
    return event(
        ResultReported(
            result_id=result_id,
            facility_id=facility_id,
            facility_tier=FacilityTier.PRIMARY,
            patient_pseudonym=PATIENT,
            test_kind=kind,
            test_code="CBC" if kind is LAB else "DR-CHEST",
            reported_at=at,
        )
    )


def silent(
    facility_id: str, since: datetime, detected: datetime, *, system: str = "HIS-1"
) -> CloudEvent[Any]:
    return event(
        FeedSilent(
            system_id=system,
            facility_id=facility_id,
            system_kind="his",
            silent_since=since,
            detected_at=detected,
        )
    )


def resumed(
    facility_id: str, since: datetime, at: datetime, *, system: str = "HIS-1"
) -> CloudEvent[Any]:
    return event(
        FeedResumed(
            system_id=system,
            facility_id=facility_id,
            system_kind="his",
            silent_since=since,
            resumed_at=at,
        )
    )


def harness_on(directory: Path) -> Iterator[HandlerHarness]:
    """The service's real handlers on a SQLite database holding the seed organisation."""
    harness = HandlerHarness(
        "reporting", f"sqlite:///{directory / 'reporting.sqlite3'}", units_of_work=REPORTING_UOW
    )
    harness.apply(*seed_organisation())
    yield harness
    harness.close()


def uow_at(harness: HandlerHarness, now: datetime) -> ReportingUnitOfWork:
    """A unit of work whose county clock says it is ``now`` (for the periodic job)."""
    county = County("QS", CountyClock(SHANGHAI, now=lambda: now))
    return ReportingUnitOfWork(
        harness.database.sessions, source="/services/reporting", county=county
    )


def numerators(harness: HandlerHarness, code: str) -> dict[tuple[str, str, str, str], int]:
    """The indicator's cells: (level, unit, period kind, period) → numerator."""
    with harness.database.sessions() as session:
        return {
            (c.level, c.unit_id, c.period_kind, c.period): int(c.numerator)
            for c in session.scalars(select(IndicatorCell).where(IndicatorCell.indicator == code))
        }
