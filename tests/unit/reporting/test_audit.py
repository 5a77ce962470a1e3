"""The prescription audit (处方点评) in reporting: the irrational-prescription rate and the
prescriptions audited, per month, at the audited facility, its community and the county,
dated by the audited month — the rules, and the handler through the backbone on SQLite (a
member's month counts once, whatever the event id)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from libs.events import CloudEvent, new_event
from libs.events.catalogue.quality import (
    AuditCategoryCount,
    AuditCompleted,
    AuditPrescriberResult,
    AuditReasonCount,
)
from services.reporting.adapters.schema import IndicatorCell
from services.reporting.domain.indicators import indicator
from tests.support.harness import HandlerHarness
from tests.support.reporting import event
from tests.unit.reporting.systems import harness_on

#: Published on 4 November, county time: the cells are October's, the audited month.
PUBLISHED = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)
RATE, AUDITED = "irrational_prescription_rate", "audit_prescriptions_reviewed"


@pytest.fixture
def reporting(tmp_path: Path) -> Iterator[HandlerHarness]:
    yield from harness_on(tmp_path)


def completed(facility_id: str, reviewed: int, irrational: int, month: str = "2026-10") -> Any:
    inappropriate = irrational // 2
    non_standard = irrational - inappropriate
    return event(
        AuditCompleted(
            facility_id=facility_id,
            month=month,
            prescriptions=reviewed * 20,
            sampled=reviewed,
            reviewed=reviewed,
            irrational=irrational,
            categories=[
                AuditCategoryCount(category="inappropriate", prescriptions=inappropriate),
                AuditCategoryCount(category="non_standard", prescriptions=non_standard),
            ],
            reasons=[
                AuditReasonCount(category="inappropriate", reason="dosage_inappropriate",
                                 prescriptions=inappropriate),
            ],
            prescribers=[AuditPrescriberResult(prescriber_id=f"S-{facility_id}-001",
                                               sampled=reviewed, irrational=irrational)],
            seed="qs-audit-2026",
            drawn_at=PUBLISHED,
            published_at=PUBLISHED,
            published_by="PH-001",
        )
    )  # fmt: skip


def cells(harness: HandlerHarness, code: str) -> dict[tuple[str, str, str, str], Any]:
    with harness.database.sessions() as session:
        return {
            (c.level, c.unit_id, c.period_kind, c.period): (c.numerator, c.denominator)
            for c in session.scalars(select(IndicatorCell).where(IndicatorCell.indicator == code))
        }


def resent(original: CloudEvent[Any]) -> CloudEvent[Any]:
    return new_event(original.data, source=original.source)


def test_the_irrational_rate_adds_up_by_level_in_the_audited_month(
    reporting: HandlerHarness,
) -> None:
    t01 = completed("QS-T01", 100, 12)
    result = reporting.apply(t01, completed("QS-T02", 100, 3), completed("QS-T05", 120, 6))
    assert not result.dead_lettered
    rate = cells(reporting, RATE)
    assert rate[("facility", "QS-T01", "month", "2026-10")] == (Decimal(12), Decimal(100))
    assert rate[("community", "QS-MC1", "month", "2026-10")] == (Decimal(15), Decimal(200))
    assert rate[("county", "QS", "month", "2026-10")] == (Decimal(21), Decimal(320))
    # Monthly only, and in the audited month, not November when it was published.
    assert {key[2:] for key in rate} == {("month", "2026-10")}
    assert indicator(RATE).value(Decimal(21), Decimal(320)) == Decimal("6.56")
    audited = cells(reporting, AUDITED)
    assert audited[("county", "QS", "month", "2026-10")] == (Decimal(320), Decimal(0))

    reporting.apply(resent(t01))  # the same month of the same member, under a new id
    assert cells(reporting, RATE) == rate


def test_a_month_without_irrational_prescriptions_counts_its_reviews(
    reporting: HandlerHarness,
) -> None:
    reporting.apply(completed("QS-T01", 40, 0, month="2026-09"))
    rate = cells(reporting, RATE)
    assert rate[("facility", "QS-T01", "month", "2026-09")] == (Decimal(0), Decimal(40))
    assert indicator(RATE).value(Decimal(0), Decimal(40)) == Decimal("0.00")
