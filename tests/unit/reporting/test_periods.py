"""The county's calendar: business times in local days and months."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from libs.events.catalogue.reporting import PeriodKind
from services.reporting.domain.periods import (
    count_periods,
    days_in,
    parse_period,
    period_of,
    periods_between,
    share_of_year,
    shift_period,
    span_periods,
)

DAY, MONTH = PeriodKind.DAY, PeriodKind.MONTH


def test_periods_of_a_day() -> None:
    assert period_of(date(2026, 1, 5), DAY) == "2026-01-05"
    assert period_of(date(2026, 1, 5), MONTH) == "2026-01"


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("2026-02-28", DAY, "2026-02-28"),
        ("2026-02", MONTH, "2026-02"),
        ("2024-02-29", DAY, "2024-02-29"),
    ],
)
def test_parsing_periods(text: str, kind: PeriodKind, expected: str) -> None:
    assert parse_period(text, kind) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("2026-02-29", DAY),
        ("2026-13", MONTH),
        ("2026-1", MONTH),
        ("26-01", MONTH),
        ("2026-02", DAY),
        ("x", DAY),
    ],
)
def test_malformed_periods_are_refused(text: str, kind: PeriodKind) -> None:
    with pytest.raises(ValueError, match="is not a"):
        parse_period(text, kind)


def test_ranges_shifts_and_counts() -> None:
    assert list(periods_between("2026-12-30", "2027-01-02", DAY)) == [
        "2026-12-30",
        "2026-12-31",
        "2027-01-01",
        "2027-01-02",
    ]
    assert list(periods_between("2026-11", "2027-02", MONTH)) == [
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
    ]
    assert shift_period("2026-01", MONTH, -11) == "2025-02"
    assert shift_period("2026-03-01", DAY, -1) == "2026-02-28"
    assert count_periods("2025-02", "2026-01", MONTH) == 12
    assert count_periods("2026-01-02", "2026-01-01", DAY) == 0
    assert span_periods(date(2026, 11, 20), date(2027, 1, 10), MONTH) == [
        "2026-11",
        "2026-12",
        "2027-01",
    ]
    assert span_periods(date(2026, 11, 20), date(2026, 11, 19), DAY) == []


def test_a_periods_share_of_its_year() -> None:
    assert days_in("2026-02", MONTH) == 28
    assert share_of_year("2026-11", MONTH) == Decimal(30) / Decimal(365)
    assert share_of_year("2024-02", MONTH) == Decimal(29) / Decimal(366)
    assert share_of_year("2026-11-02", DAY) == Decimal(1) / Decimal(365)
