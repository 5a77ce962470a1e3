"""运维's order of dead letters, 人事's week grid, the county report's charts and a clinic's
transfer request form, the month's prescription audit and the finance centre's months."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.console.domain import (
    audit_board,
    finance_board,
    operations_board,
    pharmacy_board,
    staffing_board,
)
from services.console.domain.months import ended_months, month_name
from services.console.domain.report_chart import chart_of


def letter(service: str, time: str, outcome: str | None = None) -> operations_board.Letter:
    """A letter as its service lists it (which says whether its last replay resolved it)."""
    replay = {"outcome": outcome} if outcome else None
    resolved = outcome in ("applied", "duplicate", "ignored")
    summary = {"position": f"ingestion.visit.dlt/0/{time}", "time": time, "replay": replay}
    return operations_board.Letter(service, {**summary, "resolved": resolved})


def test_letters_still_to_deal_with_come_first_then_the_newest() -> None:
    arranged = operations_board.arrange(
        [
            letter("finance", "2026-12-01T08:00:00Z", "applied"),
            letter("finance", "2026-12-01T09:00:00Z"),
            letter("quality", "2026-12-02T08:00:00Z", "dead_lettered"),
            letter("quality", "2026-12-03T08:00:00Z", "duplicate"),
        ]
    )
    assert [(x.service, x.summary["time"][:10]) for x in arranged] == [
        ("quality", "2026-12-02"),  # replayed but refused again: still to deal with
        ("finance", "2026-12-01"),
        ("quality", "2026-12-03"),
        ("finance", "2026-12-01"),
    ]
    assert arranged[0].topic == "ingestion.visit.dlt"
    assert arranged[0].path == "quality/ingestion.visit.dlt/0/2026-12-02T08:00:00Z"


def test_the_week_grid_puts_each_session_in_its_day_and_half_day() -> None:
    sessions = [
        {"date": "2026-12-09", "half_day": "afternoon", "status": "planned", "session_id": "A"},
        {"date": "2026-12-09", "half_day": "afternoon", "status": "cancelled", "session_id": "B"},
        {"date": "2026-12-13", "half_day": "morning", "status": "checked_in", "session_id": "C"},
    ]
    monday = staffing_board.monday_of(date(2026, 12, 10))
    days = staffing_board.grid(monday, sessions)
    assert monday == date(2026, 12, 7) and len(days) == 7
    assert [s["session_id"] for s in days[2].sessions["afternoon"]] == ["A"]
    assert days[2].weekday == "周三" and days[2].sessions["morning"] == []
    assert [s["session_id"] for s in days[6].sessions["morning"]] == ["C"]


def test_a_chart_scales_to_its_highest_value_and_skips_empty_periods() -> None:
    points: list[dict[str, Any]] = [
        {"period": "2026-10", "value": "10.0"},
        {"period": "2026-11", "value": None},
        {"period": "2026-12", "value": "5"},
    ]
    chart = chart_of(points)
    (x1, y1, p1, v1), (x2, y2, p2, v2) = chart.dots
    assert (p1, v1, p2, v2) == ("2026-10", "10", "2026-12", "5")
    assert y1 < y2 < chart.axis_x  # higher values are drawn higher
    assert x1 == chart.axis_y and x2 > x1
    assert chart.top_label == "10" and chart.latest == "5"
    assert chart.first == "2026-10" and chart.last == "2026-12"


def test_a_chart_without_figures_says_so() -> None:
    chart = chart_of([{"period": "2026-12", "value": None}])
    assert chart.dots == [] and chart.latest is None and chart.top_label == ""
    assert chart_of([]).first == ""
    assert chart_of([{"period": "2026-12", "value": Decimal("0.25")}]).latest == "0.25"


def test_a_clinics_request_form_becomes_the_pharmacys_lines() -> None:
    lines = pharmacy_board.request_lines(["QSY-W011", "", "QSY-W003"], ["15", "", " 2 "])
    assert lines == [
        {"drug_code": "QSY-W011", "quantity": 15},
        {"drug_code": "QSY-W003", "quantity": 2},
    ]
    for codes, amounts in (
        (["", ""], ["", ""]),  # nothing asked
        (["QSY-W011"], ["0"]),
        (["QSY-W011"], ["1.5"]),
        (["QSY-W011"], ["20000"]),
        ([""], ["3"]),  # a quantity without a drug
        (["QSY-W011", "QSY-W011"], ["1", "2"]),
    ):
        with pytest.raises(pharmacy_board.RequestRefused):
            pharmacy_board.request_lines(codes, amounts)


def test_the_audit_offers_the_ended_months_and_names_the_standard_verdicts() -> None:
    assert ended_months(date(2026, 1, 15), 3) == ["2025-12", "2025-11", "2025-10"]
    assert month_name("2026-03") == "2026年3月"
    standard = {"categories": [
        {"code": "non_standard", "label": "不规范处方",
         "reasons": [{"code": "diagnosis_missing", "label": "未写临床诊断"}]},
    ]}  # fmt: skip
    names, reasons = audit_board.verdicts(standard)
    assert list(names) == ["rational", "non_standard"] and names["rational"] == "合理处方"
    assert reasons == {"diagnosis_missing": "未写临床诊断"}
    assert audit_board.irrational_rate({"reviewed": 0, "irrational": 0}) == "—"
    assert audit_board.irrational_rate({"reviewed": 3, "irrational": 1}) == "33.3%"


def test_finance_offers_the_ended_months_not_closed_and_names_the_runs() -> None:
    assert finance_board.closable(date(2026, 3, 2), {"2026-01"}, 3) == ["2026-02", "2025-12"]
    assert finance_board.run_kind("appraisal_fund:r0002") == "考核奖惩资金（第 2 版）"
    assert finance_board.run_kind("internal") == "成员单位内部结算"
    assert finance_board.run_kind("something_new") == "something_new"
