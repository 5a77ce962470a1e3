"""Reporting counts members from organisation events, through its real handlers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest

from libs.events.catalogue.organisation import FacilityClosed
from services.reporting.indicators.members import member_counts
from tests.support.delivery import facility
from tests.support.harness import HandlerHarness, event_of
from tests.support.samples import WHEN


@pytest.fixture
def reporting(make_database: Callable[[str], str]) -> Iterator[HandlerHarness]:
    harness = HandlerHarness("reporting", make_database("reporting"))
    yield harness
    harness.close()


def counts(harness: HandlerHarness) -> dict[tuple[str, str], int]:
    with harness.database.sessions() as session:
        return {
            (str(r["community_id"]), str(r["tier"])): int(r["members"])
            for r in member_counts(session)
        }


def test_joining_and_leaving_members_are_counted_once(reporting: HandlerHarness) -> None:
    joined = [event_of(facility(n)) for n in range(3)]
    reporting.apply(*joined)
    reporting.apply(joined[0])  # redelivered
    assert counts(reporting) == {("QS-MC1", "primary"): 3}

    closed = event_of(
        FacilityClosed(
            facility_id="F-001", closed_on=date(2026, 12, 31), reason="merged", closed_at=WHEN
        )
    )
    reporting.apply(closed, closed)
    assert counts(reporting) == {("QS-MC1", "primary"): 2}
    assert reporting.published() == []  # reporting only reads


def test_a_registration_or_closing_sent_again_under_new_ids_moves_no_count(
    reporting: HandlerHarness,
) -> None:
    """Master data is sent again after a restart or a replay, under new event ids."""
    reporting.apply(event_of(facility(1)), event_of(facility(2)))
    reporting.apply(event_of(facility(1)))
    reporting.apply(event_of(facility(1).model_copy(update={"name": "更名卫生院"})))
    assert counts(reporting) == {("QS-MC1", "primary"): 2}

    closing = FacilityClosed(
        facility_id="F-001", closed_on=date(2026, 12, 31), reason="merged", closed_at=WHEN
    )
    reporting.apply(event_of(closing))
    reporting.apply(event_of(closing))
    assert counts(reporting) == {("QS-MC1", "primary"): 1}
