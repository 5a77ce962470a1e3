"""Both versions of the HIS's prescription through the pharmacy's real handlers, on SQLite and
PostgreSQL: a ``.v2`` (prescriber, age band, pregnancy) is dispensed, held for the review and
dispensed from its release exactly as a ``.v1``; one prescription sent as both is dispensed
once, in one batch or in two."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from libs.events import CloudEvent
from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionIssuedV2
from libs.events.catalogue.quality import PrescriptionReleased, ReviewPolicyPublished
from libs.events.catalogue.values import AgeBand, FacilityType
from tests.integration.pharmacy.builders import TODAY, World, lots, now, pharmacy, prescription
from tests.support.harness import HandlerHarness, event_of

DISPENSED = "pharmacy.prescription.dispensed.v1"


@pytest.fixture
def harness(make_database: Callable[[str], str]) -> Iterator[HandlerHarness]:
    running = pharmacy(make_database("pharmacy"))
    yield running
    running.close()


@pytest.fixture
def world(harness: HandlerHarness) -> World:
    return World(harness).organisation()


def named(issued: CloudEvent[PrescriptionIssued]) -> CloudEvent[PrescriptionIssued]:
    """The prescription as an older HIS that names the prescriber sends it."""
    return event_of(issued.data.model_copy(update={"prescriber_id": "S-T01-001"}))


def as_v2(issued: CloudEvent[PrescriptionIssued]) -> CloudEvent[PrescriptionIssuedV2]:
    """The same prescription as a newer HIS sends it, under a new event id."""
    fields = issued.data.model_dump() | {"prescriber_id": "S-T01-001"}
    return event_of(PrescriptionIssuedV2(**fields, patient_age_band=AgeBand.CHILD, pregnant=None))


def dispensed(harness: HandlerHarness) -> list[str]:
    return [e.data.prescription_id for e in harness.published(DISPENSED)]


def test_a_v2_prescription_is_dispensed_as_a_v1_and_the_other_version_changes_nothing(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("AMX", "6.8000")
    world.receive(world.township, drug, "A1", 30, expires=TODAY + timedelta(days=400))
    v1 = named(prescription(world.township, (drug, 4), prescription_id=f"RX-{world.tag}-1"))
    v2 = as_v2(prescription(world.township, (drug, 3), prescription_id=f"RX-{world.tag}-2"))

    result = harness.apply(v2)
    assert result.applied == [v2.id] and not result.dead_lettered
    assert dispensed(harness) == [v2.data.prescription_id]

    # One prescription as both versions: in one batch, then each sent again in a later one.
    both = harness.apply(v1, as_v2(v1))
    assert len(both.applied) == 1 and len(both.duplicates) == 1 and not both.dead_lettered
    again = harness.apply(event_of(v1.data), as_v2(v1))
    assert len(again.duplicates) == 2 and not again.dead_lettered
    assert dispensed(harness) == [v2.data.prescription_id, v1.data.prescription_id]
    assert lots(harness, world.township, drug) == {"A1": 23}


def test_a_v2_prescription_waits_for_its_release_where_the_county_reviews_before(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("LEV", "9.6000")
    world.receive(world.township, drug, "L1", 10)
    harness.apply(
        event_of(
            ReviewPolicyPublished(
                county_code="QS",
                review_before_dispensing=[FacilityType.TOWNSHIP_CENTRE],
                published_at=now() - timedelta(minutes=30),
            )
        )
    )
    v1 = named(prescription(world.township, (drug, 2), prescription_id=f"RX-{world.tag}-V"))
    issued = as_v2(v1)

    harness.apply(issued)
    assert dispensed(harness) == [] and lots(harness, world.township, drug) == {"L1": 10}
    harness.apply(as_v2(v1))  # the HIS sends it again: still waiting, nothing twice

    # Quality's release carries the prescription as pharmacy dispenses it (no age band).
    release = event_of(
        PrescriptionReleased(
            **v1.data.model_dump(),
            before_dispensing=True,
            released_by="rules",
            released_at=now(),
        )
    )
    assert not harness.apply(release).dead_lettered
    assert dispensed(harness) == [issued.data.prescription_id]
    assert lots(harness, world.township, drug) == {"L1": 8}
