"""A simulated half-year appraised end to end (issue 19): on the real cluster and databases,
six months of county activity make every member a scorecard whose figures are the
indicators reporting published for the same months; the committee's approval makes finance
pay the performance fund to the cent; a correction reverses and re-posts once."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import yaml

from libs.platform.auth import Role
from services.administration.domain.periods import HalfYear
from simulator.acts import Knobs
from simulator.clock import COUNTY_TZ
from tests.conftest import Suite
from tests.support.chaos import DurableSettler
from tests.support.county_runs import sent_records
from tests.support.kafka import wait_for
from tests.support.services import REPO_ROOT, ServiceHandle
from tests.support.simulation import all_pages, simulate

#: The review centre is left out: what it decides is dated when it decides (now), outside the
#: half-year, so it adds no figure to compare, only CI minutes.
SERVICES = ("administration", "staffing", "pharmacy", "finance", "referral", "reporting")
PERIOD = HalfYear(2026, 1)
#: Six months of the seed county at a small volume (about 500 visits and 340 prescriptions),
#: dated across the half-year: reporting's month cells, quality's reviews
#: and finance's claims all land in 2026-01 … 2026-06.
SCALE, FORMULARY, SEED = 0.0012, 60, 19
#: No pharmacy rounds during the half-year (each waits for the whole suite to settle: 540 of
#: them would take half an hour), only the closing one: the review centre's desk decides the
#: held prescriptions and the pharmacies dispense them then.
KNOBS = Knobs(pharmacy_round_hours=())


def reporting_figures(reporting: ServiceHandle, wanted: set[tuple[str, str]]) -> dict[Any, Any]:
    """Σ numerator and Σ denominator of reporting's month cells of the half-year, per
    (indicator, level, unit): what a scorecard's reporting lines must show."""
    months = PERIOD.months
    figures: dict[tuple[str, str, str], tuple[Decimal, Decimal]] = {}
    token = reporting.token(Role.COUNTY_ADMIN)
    with httpx.Client(base_url=reporting.url, headers={"Authorization": f"Bearer {token}"}) as c:
        for indicator, level in sorted(wanted):
            series = all_pages(
                c,
                f"/indicators/{indicator}/series",
                level=level,
                period_kind="month",
                **{"from": months[0], "to": months[-1]},
            )
            for unit in series:
                points = unit["points"]
                figures[(indicator, level, unit["unit_id"])] = (
                    sum((Decimal(str(p["numerator"])) for p in points), Decimal(0)),
                    sum((Decimal(str(p["denominator"])) for p in points), Decimal(0)),
                )
    return figures


def mismatches(
    appraisal: dict[str, Any], figures: dict[Any, Any], sources: dict[str, Any]
) -> list[str]:
    """Where a scorecard's reporting line differs from what reporting published."""
    found = []
    for card in appraisal["scorecards"]:
        for line in card["lines"]:
            source = sources.get(line["indicator"])
            if source is None:
                continue
            unit = card["facility_id"] if source["level"] == "facility" else card["community_id"]
            pair = figures.get((source["indicator"], source["level"], unit))
            shown = tuple(
                None if v is None else Decimal(v) for v in (line["numerator"], line["denominator"])
            )
            if pair is None:  # nothing published: a count is 0, a ratio has no figure
                expected: tuple[Decimal | None, ...] = (
                    (Decimal(0), None) if source.get("measure") == "count" else (None, None)
                )
            else:
                expected = pair
            if shown != expected:
                found.append(f"{card['facility_id']} {line['indicator']}: {shown} ≠ {expected}")
    return found


def reporting_sources() -> dict[str, Any]:
    doc = yaml.safe_load((REPO_ROOT / "infra/administration/appraisal.yaml").read_text("utf-8"))
    return {
        item["code"]: item["source"]
        for dimension in doc["dimensions"]
        for item in dimension["indicators"]
        if item["source"]["kind"] == "reporting"
    }


def funds() -> dict[str, Decimal]:
    doc = yaml.safe_load((REPO_ROOT / "infra/finance/policy.yaml").read_text("utf-8"))
    section = doc["member_appraisal"]
    share = Decimal(str(section["share_of_special_fund"]))
    return {
        community: (Decimal(str(amount)) * share).quantize(Decimal("0.01"))
        for community, amount in section["special_fund_per_half_year"].items()
    }


def allocated(finance: ServiceHandle, revision: int) -> list[dict[str, Any]]:
    def read() -> list[dict[str, Any]] | None:
        rows = finance.get_json(f"/appraisal-funds/{PERIOD}")
        return rows if rows and all(r["revision"] == revision for r in rows) else None

    return wait_for(read, timeout_s=60, what=f"finance's allocation of revision {revision}")


def check_paid_to_the_cent(rows: list[dict[str, Any]], scores: dict[str, str]) -> None:
    expected = funds()
    for row in rows:
        amounts = [Decimal(m["amount"]) for m in row["members"]]
        assert sum(amounts) == expected[row["community_id"]] == Decimal(row["fund"])
        for member in row["members"]:
            assert member["score"] == scores[member["facility_id"]]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("broker", ["kafka"], indirect=True)
def test_a_simulated_half_year_is_appraised_approved_paid_and_corrected(suite: Suite) -> None:
    running = suite.start(*SERVICES)
    settler = DurableSettler(suite, SERVICES, timeout_s=300)
    end = datetime(2026, 7, 1, tzinfo=COUNTY_TZ)
    day = simulate(
        running, suite.bootstrap, suite.data_dir, seed=SEED, run_id="halfyear", end=end,
        days=181, window=timedelta(days=181), scale=SCALE, formulary=FORMULARY, knobs=KNOBS,
        settler=settler,
    )  # fmt: skip
    try:
        assert settler.settle(sent_records(day), say=print), "the suite did not settle"
    finally:
        settler.close()
    administration, finance = running["administration"], running["finance"]
    sources = reporting_sources()
    wanted = {(s["indicator"], s["level"]) for s in sources.values()}
    figures = reporting_figures(running["reporting"], wanted)
    # The half-year's visits, prescriptions and referrals are dated in it.
    assert {key[0] for key in figures} >= {"primary_care_visit_share", "tcm_prescription_share"}

    with administration.client(Role.COUNTY_ADMIN) as committee:
        assert committee.post(f"/appraisals/{PERIOD}").status_code == 201

        def agreeing() -> dict[str, Any] | None:
            committee.post(f"/appraisals/{PERIOD}/recompute")
            view: dict[str, Any] = committee.get(f"/appraisals/{PERIOD}").json()
            return None if mismatches(view, figures, sources) else view

        drafted = wait_for(
            agreeing, timeout_s=60, what="the scorecards to show what reporting published"
        )
        assert not mismatches(drafted, figures, sources)
        members = {c["facility_id"] for c in drafted["scorecards"]}
        assert {"QS-H01", "QS-H02", "QS-T01"} <= members
        approved = committee.post(f"/appraisals/{PERIOD}/approve")
        assert approved.status_code == 200, approved.text
        first = {m["facility_id"]: m["score"] for m in approved.json()["members"]}
        check_paid_to_the_cent(allocated(finance, 1), first)

        correction = {"reason": "东湖镇卫生院审方数据补报"}
        assert (
            committee.post(f"/appraisals/{PERIOD}/corrections", json=correction).status_code == 201
        )
        adjusted = committee.put(
            f"/appraisals/{PERIOD}/scorecards/QS-T01/adjustment",
            json={"points": "-5", "reason": "补报后核减"},
        )
        assert adjusted.status_code == 200, adjusted.text
        second_event = committee.post(f"/appraisals/{PERIOD}/approve").json()
    second = {m["facility_id"]: m["score"] for m in second_event["members"]}
    assert second != first
    rows = allocated(finance, 2)
    check_paid_to_the_cent(rows, second)
    assert all(row["reversed_revisions"] == [1] for row in rows)
