"""Review before dispensing through the pharmacy's real handlers on SQLite and PostgreSQL:
where the county's review policy names the facility's type, pharmacy dispenses only what the
review centre released (``quality.prescription.released.v1``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from libs.events import CloudEvent
from libs.events.catalogue.ingestion import PrescriptionIssued
from libs.events.catalogue.quality import (
    FindingSeverity,
    PrescriptionHeld,
    PrescriptionReleased,
    PrescriptionReviewRejected,
    ReviewFinding,
    ReviewPolicyPublished,
)
from libs.events.catalogue.values import FacilityType
from services.pharmacy.adapters.schema import AwaitingReviewRow, PrescriptionRow
from tests.integration.pharmacy.builders import (
    TODAY,
    World,
    card,
    lots,
    now,
    pharmacy,
    prescription,
)
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


def policy(*types: FacilityType, later: int = 0) -> CloudEvent[ReviewPolicyPublished]:
    return event_of(
        ReviewPolicyPublished(
            county_code="QS",  # the world's county
            review_before_dispensing=list(types),
            published_at=now() - timedelta(minutes=60 - later),
        )
    )


def released(
    issued: CloudEvent[PrescriptionIssued], *, before: bool = True
) -> CloudEvent[PrescriptionReleased]:
    return event_of(
        PrescriptionReleased(
            **issued.data.model_dump(),
            before_dispensing=before,
            released_by="rules",
            released_at=now(),
        )
    )


def finding() -> list[ReviewFinding]:
    return [
        ReviewFinding(rule="dose_limit", severity=FindingSeverity.HOLD, line_no=1, message="超量")
    ]


def awaiting(harness: HandlerHarness) -> set[str]:
    with harness.database.sessions() as session:
        return set(session.scalars(select(AwaitingReviewRow.prescription_id)))


def outcome(harness: HandlerHarness, prescription_id: str) -> str | None:
    with harness.database.sessions() as session:
        row = session.get(PrescriptionRow, prescription_id)
        return row.outcome if row is not None else None


def dispensed_ids(harness: HandlerHarness) -> list[Any]:
    return [e.data.prescription_id for e in harness.published(DISPENSED)]


def test_a_township_prescription_is_dispensed_once_from_its_release(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("AML", "4.2000")
    world.receive(world.township, drug, "LATE", 40, expires=TODAY + timedelta(days=700))
    world.receive(world.township, drug, "EARLY", 20, expires=TODAY + timedelta(days=90))
    harness.apply(policy(FacilityType.TOWNSHIP_CENTRE))
    issued = prescription(world.township, (drug, 25), prescription_id=f"RX-{world.tag}-T")

    result = harness.apply(issued)

    assert result.dead_lettered == []
    assert harness.published(DISPENSED) == []
    assert harness.published("pharmacy.prescription.rejected.v1") == []
    assert lots(harness, world.township, drug) == {"EARLY": 20, "LATE": 40}
    assert awaiting(harness) == {issued.data.prescription_id}
    assert outcome(harness, issued.data.prescription_id) is None

    release = released(issued)
    harness.apply(release)

    [dispensed] = harness.published(DISPENSED)
    assert dispensed.data.prescription_id == issued.data.prescription_id
    line = dispensed.data.lines[0]
    assert [(lot.lot_number, lot.quantity) for lot in line.lots] == [("EARLY", 20), ("LATE", 5)]
    assert dispensed.causation_id == release.id
    assert lots(harness, world.township, drug) == {"EARLY": 0, "LATE": 35}
    assert awaiting(harness) == set()
    assert outcome(harness, issued.data.prescription_id) == "dispensed"

    # The release again: redelivered, resent under a new event id, and the HIS's resend.
    published = len(harness.published())
    assert harness.apply(release).duplicates == [release.id]
    resend = event_of(release.data)
    assert harness.apply(resend).duplicates == [resend.id]
    harness.apply(event_of(issued.data))
    assert len(harness.published()) == published
    assert card(harness, world.township, drug).dispensed == 25


def test_a_county_hospital_prescription_dispenses_on_the_his_event_and_its_release_is_ignored(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("MET", "3.9000")
    world.receive(world.hospital, drug, "M1", 30)
    harness.apply(policy(FacilityType.TOWNSHIP_CENTRE, FacilityType.VILLAGE_CLINIC))
    issued = prescription(world.hospital, (drug, 4), prescription_id=f"RX-{world.tag}-H")

    harness.apply(issued)
    assert dispensed_ids(harness) == [issued.data.prescription_id]
    published = len(harness.published())

    result = harness.apply(released(issued, before=False))

    assert result.dead_lettered == []
    assert len(harness.published()) == published
    assert lots(harness, world.hospital, drug) == {"M1": 26}
    assert awaiting(harness) == set()


def test_without_a_policy_every_prescription_dispenses_at_once(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("ASP", "4.5000")
    world.receive(world.township, drug, "A1", 10)
    world.receive(world.village, drug, "V1", 10)
    township = prescription(world.township, (drug, 2))
    village = prescription(world.village, (drug, 3))

    harness.apply(township, village)

    assert dispensed_ids(harness) == [township.data.prescription_id, village.data.prescription_id]
    assert awaiting(harness) == set()
    # A release that follows (quality deployed later) dispenses nothing more.
    harness.apply(released(township))
    assert len(harness.published(DISPENSED)) == 2


def test_a_held_then_rejected_prescription_is_never_dispensed(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("LEV", "9.6000")
    world.receive(world.township, drug, "L1", 10)
    harness.apply(policy(FacilityType.TOWNSHIP_CENTRE))
    issued = prescription(world.township, (drug, 2), prescription_id=f"RX-{world.tag}-R")
    key = {"prescription_id": issued.data.prescription_id, "facility_id": world.township}

    harness.apply(issued)
    held = event_of(
        PrescriptionHeld(
            **key,
            before_dispensing=True,
            findings=finding(),
            held_at=now(),
            decide_by=now() + timedelta(minutes=30),
        )
    )
    rejected = event_of(
        PrescriptionReviewRejected(
            **key,
            before_dispensing=True,
            findings=finding(),
            rejected_by="PH-001",
            held_at=held.data.held_at,
            rejected_at=now(),
        )
    )
    result = harness.apply(held, rejected)

    assert result.dead_lettered == []
    assert harness.published(DISPENSED) == []
    assert harness.published("pharmacy.prescription.rejected.v1") == []
    assert lots(harness, world.township, drug) == {"L1": 10}
    assert awaiting(harness) == {issued.data.prescription_id}  # pharmacy does not follow it


def test_a_type_no_longer_reviewed_before_dispenses_later_prescriptions_at_once(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("IRB", "6.5000")
    world.receive(world.township, drug, "I1", 20)
    harness.apply(policy(FacilityType.TOWNSHIP_CENTRE))
    waiting = prescription(world.township, (drug, 1))
    harness.apply(waiting)

    harness.apply(policy(later=10))  # nothing reviewed before any more
    harness.apply(policy(FacilityType.TOWNSHIP_CENTRE, later=5))  # an older one, replayed
    later = prescription(world.township, (drug, 2))
    harness.apply(later)

    assert dispensed_ids(harness) == [later.data.prescription_id]
    # What was held still waits for its release, reviewed before dispensing.
    harness.apply(released(waiting))
    assert dispensed_ids(harness) == [later.data.prescription_id, waiting.data.prescription_id]
    assert lots(harness, world.township, drug) == {"I1": 17}
    assert awaiting(harness) == set()


def test_a_set_of_releases_and_prescriptions_dispenses_each_once(
    harness: HandlerHarness, world: World
) -> None:
    drug = world.drug("PCM", "2.2000")
    world.receive(world.township, drug, "P1", 10)
    harness.apply(policy(FacilityType.TOWNSHIP_CENTRE))
    first, second = (prescription(world.township, (drug, 3)) for _ in range(2))
    harness.apply(first, second)
    assert awaiting(harness) == {first.data.prescription_id, second.data.prescription_id}

    again = released(second)
    harness.apply(again, released(first), event_of(again.data))  # the second one twice

    assert dispensed_ids(harness) == [second.data.prescription_id, first.data.prescription_id]
    assert lots(harness, world.township, drug) == {"P1": 4}
    assert awaiting(harness) == set()
