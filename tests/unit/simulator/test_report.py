"""The county report is one self-contained page: inline SVG, no script, nothing fetched."""

from __future__ import annotations

from datetime import date

from simulator.report import Indicator, Series, bar_chart, line_chart, render_report


def data() -> dict:
    share = Indicator("tcm_prescription_share", "TCM share", "中医药处方占比", "%",
                      ["facility", "community", "county"], "TCM prescriptions", "All")  # fmt: skip
    series = [{"level": "county", "unit_id": "QS", "unit_name": "青山县", "points": [
        {"period": "2026-11-21", "value": "28.50"}, {"period": "2026-11-22", "value": None},
        {"period": "2026-11-23", "value": "31.00"}]}]  # fmt: skip
    bars = [
        {"unit_name": "东湖镇卫生院", "value": "25.00"},
        {"unit_name": "村卫生室", "value": None},
    ]
    return {
        "indicators": [share],
        "today": date(2026, 11, 23),
        "per": {"tcm_prescription_share": {"county": series, "communities": series,
                "month_county": [{"value": "29.75"}], "bars_level": "facility", "bars": bars}},
        "members": [{"community_id": "QS-MC1", "tier": "primary", "members": 10}],
    }  # fmt: skip


def test_the_report_is_html_with_inline_charts_and_no_script() -> None:
    page = render_report(data())
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 3  # county and communities over time, facilities as bars
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert "29.75 %" in page and "东湖镇卫生院" in page and "中医药处方占比" in page


def test_an_undefined_value_breaks_the_line_and_empty_data_says_so() -> None:
    chart = line_chart([Series("county", [("2026-11-21", 1.0), ("2026-11-22", None),
                                          ("2026-11-23", 2.0)])])  # fmt: skip
    assert chart.count("<circle") == 2 and "<polyline" not in chart
    assert "no data yet" in line_chart([]) and "no data yet" in bar_chart([("x", None)])
