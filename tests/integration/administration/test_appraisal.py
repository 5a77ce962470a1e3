"""The half-year appraisal (绩效考核) on the real handlers and database: figures from what the
domains published, reviewed with comments and reasoned adjustments, approved only by the
management committee, announced once per revision, corrected by a new revision."""

from __future__ import annotations

from typing import Any

from libs.platform.auth import Role
from tests.integration.administration.conftest import Suite, as_


def line(card: dict[str, Any], code: str) -> dict[str, Any]:
    return next(item for item in card["lines"] if item["indicator"] == code)


def test_a_scorecard_s_figures_are_what_the_domains_published_over_the_half_year(
    drafted: Suite,
) -> None:
    process, _, client = drafted
    card = client.get(
        "/appraisals/2026-H1/scorecards/QS-T01", headers=as_(process, Role.FINANCE_CENTRE)
    ).json()
    antibiotic = line(card, "antibiotic_prescription_rate")
    assert (antibiotic["numerator"], antibiotic["denominator"]) == ("40.00", "300.00")
    assert antibiotic["figure"] == "13.3333" and antibiotic["score"] == "15.00"
    assert line(card, "primary_care_visit_share")["figure"] == "70.0000"  # its community's
    assert line(card, "irrational_prescription_rate")["figure"] == "4.0000"
    assert line(card, "expert_sessions_delivered")["figure"] == "30"
    assert line(card, "insurance_budget_pace")["figure"] == "110.0000"  # 220k of 200k
    hospital = client.get(
        "/appraisals/2026-H1/scorecards/QS-H01", headers=as_(process, Role.COUNTY_ADMIN)
    ).json()
    assert line(hospital, "expert_sessions_delivered")["applicable"] is False
    other = client.get(
        "/appraisals/2026-H1/scorecards/QS-T02", headers=as_(process, Role.COUNTY_ADMIN)
    ).json()
    assert line(other, "irrational_prescription_rate")["counted"] is False  # no audit
    assert line(other, "antibiotic_prescription_rate")["score"] == "0.00"  # 31 %: past every band


def test_a_member_s_staff_read_only_their_own_scorecard(drafted: Suite) -> None:
    process, _, client = drafted
    own = as_(process, Role.CLINIC_STAFF, "QS-T01")
    assert client.get("/appraisals/2026-H1/scorecards/QS-T01", headers=own).status_code == 200
    assert client.get("/appraisals/2026-H1/scorecards/QS-T02", headers=own).status_code == 403
    assert client.get("/appraisals/2026-H1", headers=own).status_code == 403
    assert client.get("/appraisals/2026-H1").status_code == 401


def test_review_approval_and_correction_each_announced_once(drafted: Suite) -> None:
    process, harness, client = drafted
    admin, hr = as_(process, Role.COUNTY_ADMIN), as_(process, Role.HR)
    path = "/appraisals/2026-H1/scorecards/QS-T02/adjustment"
    no_reason = {"points": "5", "reason": " "}
    assert client.put(path, json=no_reason, headers=admin).status_code == 422
    assert client.put(path, json={"points": "50", "reason": "x"}, headers=admin).status_code == 422
    adjusted = client.put(path, json={"points": "5", "reason": "停电两周"}, headers=admin)
    assert adjusted.status_code == 200, adjusted.text
    comment = {"text": "缺药登记偏多"}
    assert (
        client.post(
            "/appraisals/2026-H1/scorecards/QS-T02/comments",
            json=comment,
            headers=as_(process, Role.CLINIC_STAFF, "QS-T02"),
        ).status_code
        == 201
    )
    assert client.post("/appraisals/2026-H1/approve", headers=hr).status_code == 403
    approved = client.post("/appraisals/2026-H1/approve", headers=admin)
    assert approved.status_code == 200, approved.text
    assert (
        client.put(path, json={"points": "1", "reason": "late"}, headers=admin).status_code == 409
    )
    assert client.post("/appraisals/2026-H1/approve", headers=admin).status_code == 409
    correction = client.post(
        "/appraisals/2026-H1/corrections", json={"reason": "审方数据补报"}, headers=admin
    )
    assert correction.status_code == 201 and correction.json()["revision"] == 2
    assert client.post("/appraisals/2026-H1/approve", headers=admin).status_code == 200
    announced = harness.published("administration.appraisal.approved.v1")
    assert [e.data.revision for e in announced] == [1, 2]
    first = {m.facility_id: m.score for m in announced[0].data.members}
    second = {m.facility_id: m.score for m in announced[1].data.members}
    assert first["QS-T02"] == second["QS-T02"] + 5  # the correction starts afresh
    kinds = [n["kind"] for n in client.get("/appraisals/2026-H1/notes", headers=hr).json()]
    assert kinds == ["drafted", "adjusted", "comment", "approved", "drafted", "approved"]


def test_a_half_year_still_running_cannot_be_approved(administration: Suite) -> None:
    process, _, client = administration
    admin = as_(process, Role.COUNTY_ADMIN)
    assert client.post("/appraisals/2026-H2", headers=admin).status_code == 201
    refused = client.post("/appraisals/2026-H2/approve", headers=admin)
    assert refused.status_code == 409 and refused.json()["error"] == "period_not_ended"
    assert client.post("/appraisals/2026-H3", headers=admin).status_code == 422
