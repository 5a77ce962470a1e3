"""What the other domains publish that the appraisal reads, as their producers send it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from libs.events.catalogue.finance import BudgetOpened, BudgetSettled
from libs.events.catalogue.quality import (
    AuditCategoryCount,
    AuditCompleted,
    AuditPrescriberResult,
)
from libs.events.catalogue.reporting import (
    IndicatorCellUpdated,
    OrgUnitLevel,
    PeriodKind,
    cell_id,
)
from libs.events.catalogue.staffing import SessionDelivered
from libs.events.catalogue.values import HalfDay
from tests.support.harness import event_of

AT = datetime(2026, 7, 2, 9, 0, tzinfo=UTC)


def cell(indicator: str, level: str, unit: str, month: str, num: str, den: str, v: int = 1) -> Any:
    lvl = OrgUnitLevel(level)
    return event_of(
        IndicatorCellUpdated(
            cell_id=cell_id(indicator, lvl, unit, PeriodKind.MONTH, month),
            indicator=indicator,
            level=lvl,
            unit_id=unit,
            period_kind=PeriodKind.MONTH,
            period=month,
            numerator=Decimal(num),
            denominator=Decimal(den),
            version=v,
            updated_at=AT,
        )
    )


def audit(facility: str, month: str, reviewed: int, irrational: int) -> Any:
    return event_of(
        AuditCompleted(
            facility_id=facility,
            month=month,
            prescriptions=reviewed * 10,
            sampled=reviewed,
            reviewed=reviewed,
            irrational=irrational,
            categories=[AuditCategoryCount(category="inappropriate", prescriptions=irrational)],
            prescribers=[AuditPrescriberResult(sampled=reviewed, irrational=irrational)],
            seed="seed",
            drawn_at=AT,
            published_at=AT,
            published_by="PH-001",
        )
    )


def session(n: int, facility: str, day: date) -> Any:
    return event_of(
        SessionDelivered(
            session_id=f"S-{n}",
            staff_id="ST-001",
            home_facility_id="QS-H01",
            facility_id=facility,
            date=day,
            half_day=HalfDay.MORNING,
            patients_seen=10,
            checked_in_at=AT,
            checked_out_at=AT,
        )
    )


def published_half_year() -> list[Any]:
    events = [
        cell("antibiotic_prescription_rate", "facility", "QS-T01", "2026-01", "30", "200"),
        cell("antibiotic_prescription_rate", "facility", "QS-T01", "2026-02", "10", "100"),
        cell("antibiotic_prescription_rate", "facility", "QS-T01", "2026-07", "99", "100"),
        cell("antibiotic_prescription_rate", "facility", "QS-T02", "2026-03", "62", "200"),
        cell("primary_care_visit_share", "community", "QS-MC1", "2026-04", "700", "1000"),
        cell("shortages_recorded", "facility", "QS-T02", "2026-05", "30", "0"),
        audit("QS-T01", "2026-03", 100, 4),
        event_of(
            BudgetOpened(
                budget_id="B-MC1-2026",
                community_id="QS-MC1",
                year=2026,
                total_amount=Decimal("1200000.00"),
                prepaid_amount=Decimal("600000.00"),
                opened_at=AT,
            )
        ),
    ]
    events += [
        event_of(
            BudgetSettled(
                budget_id="B-MC1-2026",
                community_id="QS-MC1",
                year=2026,
                period=f"2026-0{m}",
                consumed_in_period=Decimal("110000.00"),
                consumed_to_date=Decimal("110000.00") * m,
                provisional_payment=Decimal("100000.00"),
                settled_at=AT,
            )
        )
        for m in (1, 2)
    ]
    return events + [session(n, "QS-T01", date(2026, 3, 1 + n)) for n in range(30)]
