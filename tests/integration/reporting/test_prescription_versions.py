"""Both versions of the HIS's prescription through reporting's real handlers, on SQLite and
PostgreSQL: a ``.v2`` counts in the TCM share as a ``.v1`` does, and one prescription sent
as both counts once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from libs.events import CloudEvent
from libs.events.catalogue.ingestion import PrescriptionIssuedV2
from libs.events.catalogue.values import AgeBand, PrescriptionCategory
from tests.integration.reporting.conftest import cells
from tests.integration.reporting.test_known_batch import value_of
from tests.support.harness import HandlerHarness
from tests.support.reporting import event, prescription

ISSUED = datetime(2026, 11, 6, 2, tzinfo=UTC)  # 6 November, county time


def both_versions(issued: CloudEvent[Any]) -> tuple[CloudEvent[Any], CloudEvent[Any]]:
    """The prescription as an older HIS sends it (naming its prescriber) and as a newer one
    does, saying the patient's age band too: two events, one fact."""
    v1 = issued.data.model_copy(update={"prescriber_id": "S-T01-001"})
    v2 = PrescriptionIssuedV2(**v1.model_dump(), patient_age_band=AgeBand.ADULT)
    return event(v1), event(v2)


def share(reporting: HandlerHarness) -> str | None:
    return value_of(reporting, "tcm_prescription_share", "county", "QS", "day", "2026-11-06")


def test_a_v2_counts_as_a_v1_and_one_prescription_in_both_versions_once(
    reporting: HandlerHarness,
) -> None:
    herbal = both_versions(prescription("QS-T01", PrescriptionCategory.TCM_HERBAL, ISSUED))
    western = both_versions(prescription("QS-T01", PrescriptionCategory.WESTERN, ISSUED))
    first = reporting.apply(herbal[1], western[0])
    assert len(first.applied) == 2 and not first.dead_lettered
    assert share(reporting) == "50.00"
    before = cells(reporting)

    again = reporting.apply(herbal[0], western[1])
    assert len(again.duplicates) == 2 and not again.dead_lettered
    assert cells(reporting) == before
