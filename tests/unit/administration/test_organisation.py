"""The county configuration and what changed against what was published."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from libs.events.catalogue.organisation import FacilityRegistered, FacilityUpdated
from services.administration.domain.organisation import changes_to_publish, parse_county

SEED = Path(__file__).resolve().parents[3] / "infra" / "county" / "seed-county.yaml"


def seed() -> dict:
    return yaml.safe_load(SEED.read_text(encoding="utf-8"))


def test_the_seed_county_has_two_communities_led_by_its_hospitals() -> None:
    county = parse_county(seed())
    by_community: dict[str, list[str]] = {}
    for facility in county.facilities:
        if facility.facility_type.value != "village_clinic":
            by_community.setdefault(facility.community_id, []).append(facility.facility_id)
    assert {c.lead_facility_id for c in county.communities} == {"QS-H01", "QS-H02"}
    # One led by the people's hospital with 7 members, one by the TCM hospital with 8.
    assert len(by_community["QS-MC1"]) == 1 + 7
    assert len(by_community["QS-MC2"]) == 1 + 8


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["facilities"].append(dict(d["facilities"][0])), "appears twice"),
        (lambda d: d["facilities"][2].update(community_id="NOPE"), "unknown community"),
        (lambda d: d["facilities"][-1].update(parent_facility_id="NOPE"), "unknown parent"),
        (lambda d: d["communities"][0].update(lead_facility_id="NOPE"), "unknown lead"),
        (lambda d: d["facilities"][2].update(tier="quaternary"), "tier"),
    ],
)
def test_an_inconsistent_configuration_is_refused(mutate, message: str) -> None:
    doc = seed()
    mutate(doc)
    with pytest.raises(ValueError, match=message):
        parse_county(doc)


def test_only_new_or_changed_facilities_are_published() -> None:
    county = parse_county(seed())
    first = changes_to_publish({}, county.facilities)
    assert all(isinstance(c.event(), FacilityRegistered) for c in first)
    published = {f.facility_id: f for f in county.facilities}
    assert changes_to_publish(published, county.facilities) == []
    renamed = county.facilities[3].model_copy(update={"name": "改名卫生院"})
    changes = changes_to_publish(published, [renamed])
    assert [type(c.event()) for c in changes] == [FacilityUpdated]
