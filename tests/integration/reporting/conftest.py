"""A reporting database (SQLite and PostgreSQL) with the seed organisation, driven through
the service's real handlers and unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from services.reporting.adapters.schema import IndicatorCell
from tests.support.harness import HandlerHarness
from tests.support.reporting import REPORTING_UOW, seed_organisation


@pytest.fixture
def reporting_url(make_database: Callable[[str], str]) -> str:
    return make_database("reporting")


@pytest.fixture
def reporting(reporting_url: str) -> Iterator[HandlerHarness]:
    harness = HandlerHarness("reporting", reporting_url, units_of_work=REPORTING_UOW)
    harness.apply(*seed_organisation())
    yield harness
    harness.close()


def cells(harness: HandlerHarness) -> dict[tuple[str, str, str, str, str], tuple[str, str, int]]:
    """Every cell: key → (numerator, denominator, version)."""
    with harness.database.sessions() as session:
        return {
            (c.indicator, c.level, c.unit_id, c.period_kind, c.period): (
                str(c.numerator),
                str(c.denominator),
                c.version,
            )
            for c in session.scalars(select(IndicatorCell))
        }
