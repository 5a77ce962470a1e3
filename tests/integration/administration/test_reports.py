"""The appraisal's reports and business metrics on the real handlers and database: the
printable Chinese page and the Excel workbook finance and HR file, for the overseers only,
and the members' scores as Grafana reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from libs.platform.auth import Role
from tests.integration.administration.conftest import Suite, as_
from tests.support.promql import dashboard_queries, exported_names, metric_names

#: test_appraisal's fixture: the seed county's half-year published, 2026-H1 drafted.

DASHBOARD = Path(__file__).resolve().parents[3] / "infra/grafana/dashboards/administration.json"
SCRIPT = "<script>alert('停电')</script>"
HEADERS = ["单位编码", "单位名称", "医共体", "单位类型"]
TOTALS = ["计算得分", "调整分", "调整原因", "最终得分"]
DETAIL = ["单位编码", "单位名称", "维度", "指标", "数值", "分子", "分母", "权重", "得分"]


def appraisal(suite: Suite) -> dict[str, Any]:
    process, _, client = suite
    found = client.get("/appraisals/2026-H1", headers=as_(process, Role.COUNTY_ADMIN))
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


def adjust_with_markup(suite: Suite) -> None:
    process, _, client = suite
    adjusted = client.put(
        "/appraisals/2026-H1/scorecards/QS-T02/adjustment",
        json={"points": "5", "reason": SCRIPT},
        headers=as_(process, Role.COUNTY_ADMIN),
    )
    assert adjusted.status_code == 200, adjusted.text


def county_time(text: str) -> str:
    instant = datetime.fromisoformat(text)
    instant = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    return f"{instant.astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}"


def test_the_page_shows_every_member_in_chinese_and_escapes_what_people_wrote(
    drafted: Suite,
) -> None:
    process, _, client = drafted
    adjust_with_markup(drafted)
    page = client.get("/appraisals/2026-H1/report.html", headers=as_(process, Role.HR))
    assert page.status_code == 200, page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    html = page.text
    assert '<html lang="zh-CN">' in html and '<meta charset="utf-8">' in html
    assert "2026年上半年 医共体成员单位绩效考核" in html and "草稿" in html
    assert all(f"<th>{h}</th>" in html for h in [*HEADERS, *TOTALS, "医疗质量"])
    for card in appraisal(drafted)["scorecards"]:
        assert card["name"] in html and card["facility_id"] in html
    assert SCRIPT not in html and "&lt;script&gt;alert(&#39;停电&#39;)&lt;/script&gt;" in html
    assert "不适用" in html and "无数据" in html  # the lines without a score say why
    assert "@media print" in html
    assert "<link" not in html and "src=" not in html and "http" not in html


def test_the_page_of_an_approved_revision_says_who_approved_it_on_the_county_s_clock(
    drafted: Suite,
) -> None:
    process, _, client = drafted
    admin = as_(process, Role.COUNTY_ADMIN)
    assert client.post("/appraisals/2026-H1/approve", headers=admin).status_code == 200
    approved_at = appraisal(drafted)["approved_at"]
    html = client.get("/appraisals/2026-H1/report.html", headers=admin).text
    assert "已批准" in html and f"ADM-001，{county_time(approved_at)}（Asia/Shanghai）" in html
    corrected = client.post(
        "/appraisals/2026-H1/corrections", json={"reason": SCRIPT}, headers=admin
    )
    assert corrected.status_code == 201, corrected.text
    html = client.get("/appraisals/2026-H1/report.html", headers=admin).text
    assert "第 2 版" in html and "草稿" in html and SCRIPT not in html


def test_the_workbook_has_a_summary_and_the_lines_as_numbers(drafted: Suite) -> None:
    process, _, client = drafted
    adjust_with_markup(drafted)
    got = client.get("/appraisals/2026-H1/report.xlsx", headers=as_(process, Role.FINANCE_CENTRE))
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert 'filename="appraisal-2026-H1-r1.xlsx"' in got.headers["content-disposition"]
    book = load_workbook(BytesIO(got.content))
    assert book.sheetnames == ["汇总", "指标明细"]
    summary = [list(row) for row in book["汇总"].iter_rows(values_only=True)]
    header = summary[0]
    assert header[:4] == HEADERS and header[-4:] == TOTALS and "医疗质量" in header
    cards = {c["facility_id"]: c for c in appraisal(drafted)["scorecards"]}
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in summary[1:]}
    assert rows.keys() == cards.keys()
    for facility, row in rows.items():
        assert isinstance(row["最终得分"], int | float)
        assert Decimal(str(row["最终得分"])) == Decimal(cards[facility]["total"])
    assert rows["QS-T02"]["调整原因"] == SCRIPT and rows["QS-T02"]["调整分"] == 5
    details = [list(row) for row in book["指标明细"].iter_rows(values_only=True)]
    assert details[0][:9] == DETAIL and details[0][9] == "是否适用/计入"
    assert len(details) - 1 == sum(len(c["lines"]) for c in cards.values())
    antibiotic = next(r for r in details if r[0] == "QS-T01" and r[3].startswith("抗菌药物"))
    assert antibiotic[4:9] == [13.3333, 40, 300, 15, 15]


def test_only_the_overseers_read_the_county_s_report(drafted: Suite) -> None:
    process, _, client = drafted
    staff = as_(process, Role.CLINIC_STAFF, "QS-T01")
    for kind in ("html", "xlsx"):
        path = f"/appraisals/2026-H1/report.{kind}"
        assert client.get(path, headers=staff).status_code == 403
        assert client.get(path).status_code == 401
        admin = as_(process, Role.COUNTY_ADMIN)
        missing = client.get(f"/appraisals/2026-H2/report.{kind}", headers=admin)
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"
        assert client.get(f"/appraisals/2026-H9/report.{kind}", headers=admin).status_code == 422


def test_a_scrape_shows_each_member_s_score_of_the_drafted_half_year(drafted: Suite) -> None:
    _, _, client = drafted
    metrics = client.get("/metrics").text
    for card in appraisal(drafted)["scorecards"]:
        series = (
            f'administration_member_score{{community_id="{card["community_id"]}",'
            f'facility_id="{card["facility_id"]}",period="2026-H1",revision="1",state="draft"}} '
            f"{float(card['total'])}"
        )
        assert series in metrics
    assert 'administration_appraisals{state="draft"} 1.0' in metrics
    assert 'administration_appraisals{state="approved"} 0.0' in metrics


def test_the_dashboard_queries_only_what_the_service_exports(drafted: Suite) -> None:
    _, _, client = drafted
    exported = exported_names(client.get("/metrics").text)
    used = {
        name for query in dashboard_queries(DASHBOARD) for name in metric_names(query.expr).names
    }
    assert used and used <= exported, used - exported
