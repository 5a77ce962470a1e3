"""The appraisal report as an Excel workbook (绩效考核报告.xlsx) for finance and HR.

Two sheets with Chinese headers: 「汇总」, a row per member, and 「指标明细」, a row per member
and indicator. Figures are written as numbers (finance sums and sorts them); a line without
a figure or a score leaves the cell empty and says why in 是否适用/计入.
"""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from services.administration.service_layer.report import AppraisalReport, ReportLine

__all__ = ["SUMMARY_HEADERS", "XLSX_MEDIA_TYPE", "render_xlsx"]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUMMARY_HEADERS = ("单位编码", "单位名称", "医共体", "单位类型")
SUMMARY_TOTALS = ("计算得分", "调整分", "调整原因", "最终得分")
DETAIL_HEADERS = (
    "单位编码",
    "单位名称",
    "维度",
    "指标",
    "数值",
    "分子",
    "分母",
    "权重",
    "得分",
    "是否适用/计入",
)


def _cell(value: Decimal | None) -> Decimal | None:
    # openpyxl writes a Decimal as a number cell, exactly as stored; None leaves it empty.
    return value


def _status(line: ReportLine) -> str:
    return "计入" if line.reason is None else line.reason


def _header(sheet: Any, headers: list[str]) -> None:
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"


def _summary(book: Workbook, report: AppraisalReport) -> None:
    sheet = book.active
    sheet.title = "汇总"
    dimensions = [name for _, name in report.dimensions]
    _header(sheet, [*SUMMARY_HEADERS, *dimensions, *SUMMARY_TOTALS])
    for m in report.members:
        sheet.append(
            [
                m.facility_id,
                m.name,
                m.community_name,
                m.facility_type_name,
                *(_cell(m.dimension_scores.get(code)) for code, _ in report.dimensions),
                _cell(m.computed),
                _cell(m.adjustment),
                m.adjustment_reason or "",
                _cell(m.total),
            ]
        )


def _details(book: Workbook, report: AppraisalReport) -> None:
    sheet = book.create_sheet("指标明细")
    _header(sheet, list(DETAIL_HEADERS))
    for m in report.members:
        for line in m.lines:
            sheet.append(
                [
                    m.facility_id,
                    m.name,
                    line.dimension_name,
                    line.name,
                    _cell(line.figure),
                    _cell(line.numerator),
                    _cell(line.denominator),
                    _cell(line.weight),
                    None if line.reason else _cell(line.score),
                    _status(line),
                ]
            )


def render_xlsx(report: AppraisalReport) -> bytes:
    """The report as the bytes of an .xlsx workbook."""
    book = Workbook()
    book.properties.title = report.title
    _summary(book, report)
    _details(book, report)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
