"""The seed staff list: a few dozen specialists of the two lead hospitals, and clinic GPs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from libs.events.catalogue.values import StaffTitle
from services.administration.domain.organisation import parse_county
from services.staffing.domain.registry import TITLE_RANK, parse_staff_seed

ROOT = Path(__file__).resolve().parents[3]
SEED = ROOT / "infra" / "staffing" / "seed-staff.yaml"
COUNTY = ROOT / "infra" / "county" / "seed-county.yaml"


def seed_doc() -> dict:
    return yaml.safe_load(SEED.read_text(encoding="utf-8"))


def test_the_seed_staff_fit_the_seed_county() -> None:
    seed = parse_staff_seed(seed_doc())
    county = parse_county(yaml.safe_load(COUNTY.read_text(encoding="utf-8")))
    facilities = {f.facility_id: f for f in county.facilities}
    homes = Counter(s.home_facility_id for s in seed.staff)
    assert homes["QS-H01"] + homes["QS-H02"] >= 30  # a few dozen specialists
    for person in seed.staff:
        home = facilities[person.home_facility_id]
        if person.department_id is not None:
            department = {d.department_id: d for d in home.departments}[person.department_id]
            assert department.specialty == person.specialty  # referral matches on it
    titles = Counter(s.title for s in seed.staff if s.home_facility_id.startswith("QS-H"))
    assert titles[StaffTitle.CHIEF] >= 6 and titles[StaffTitle.ASSOCIATE_CHIEF] >= 6
    held = set(seed.holders.values())
    assert {p.position_id for p in seed.positions} - held  # some posts are vacant
    assert TITLE_RANK[StaffTitle.CHIEF] > TITLE_RANK[StaffTitle.ASSOCIATE_CHIEF]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["staff"].append(dict(d["staff"][0])), "appears twice"),
        (lambda d: d["staff"][1].update(position_id="P-NOPE"), "unknown position"),
        (lambda d: d["staff"][1].update(position_id="P-H01-CARD-01"), "held twice"),
        (lambda d: d["staff"][-1].update(position_id="P-H01-ENDO-02"), "another facility"),
        (lambda d: d["staff"][0].update(title="professor"), "title"),
    ],
)
def test_an_inconsistent_seed_is_refused(mutate, message: str) -> None:
    doc = seed_doc()
    mutate(doc)
    with pytest.raises(ValueError, match=message):
        parse_staff_seed(doc)
