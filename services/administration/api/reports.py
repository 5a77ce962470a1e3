"""``/appraisals/{period}/report.*``: a half-year's newest revision as the committee, finance
and HR read and file it — a printable Chinese HTML page and an Excel workbook."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.administration.adapters.report_html import render_html
from services.administration.adapters.report_xlsx import XLSX_MEDIA_TYPE, render_xlsx
from services.administration.api.deps import (
    REFUSALS,
    AdministrationUow,
    Overseers,
    half_year,
    refusals,
)
from services.administration.service_layer.report import AppraisalReport, appraisal_report

router = APIRouter(prefix="/appraisals", tags=["appraisal report"], responses=REFUSALS)


def _report(period: str, uow: AdministrationUow) -> AppraisalReport:
    with refusals():
        return appraisal_report(uow, half_year(period))


@router.get(
    "/{period}/report.html",
    response_class=HTMLResponse,
    summary="The half-year's appraisal as a printable page (zh-CN)",
)
def report_html(period: str, _: Overseers, uow: AdministrationUow) -> HTMLResponse:
    return HTMLResponse(render_html(_report(period, uow)))


@router.get(
    "/{period}/report.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}},
    summary="The half-year's appraisal as an Excel workbook (汇总, 指标明细)",
)
def report_xlsx(period: str, _: Overseers, uow: AdministrationUow) -> Response:
    report = _report(period, uow)
    return Response(
        render_xlsx(report),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{report.file_stem}.xlsx"'},
    )
