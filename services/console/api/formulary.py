"""药事 · 药品目录: the county's unified formulary (统一目录) as the pharmacy service keeps it,
searched by code or name and filtered by kind, a page at a time; exported whole. Everyone
who opens 药事 reads it; changing it stays the central pharmacy's API."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.adapters.exports import Table
from services.console.api.deps import ConsoleUowDep, bench, calls_as, frame
from services.console.api.exports import exported
from services.console.domain import pharmacy_board as board
from services.console.service_layer.sessions import SignedIn

router = APIRouter(
    prefix="/pharmacy/formulary", tags=["console formulary"], include_in_schema=False
)

Pharmacist = Annotated[SignedIn, bench("pharmacy")]
Search = Annotated[str, Query(max_length=100)]
Kind = Annotated[str, Query(max_length=20, pattern=r"^(|essential|tcm|delisted)$")]
#: Entries per page on the screen (an export takes the whole list).
PER_PAGE = 50
#: The most an export gathers.
MOST_EXPORTED = 10_000


def _wanted(q: str, kind: str) -> dict[str, Any]:
    """The page's search as the pharmacy service's query."""
    return {"q": q.strip() or None, **board.KINDS[kind][1]}


@router.get("")
def formulary_page(
    person: Pharmacist,
    uow: ConsoleUowDep,
    q: Search = "",
    kind: Kind = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    found = calls_as(uow.config, person).get(
        "pharmacy", "/formulary/drugs", limit=PER_PAGE, offset=(page - 1) * PER_PAGE,
        **_wanted(q, kind),
    )  # fmt: skip
    drugs, total = found["items"], int(found["total"])
    return uow.config.pages.render(
        "formulary.html",
        **frame(uow, person, "pharmacy"),
        drugs=drugs,
        total=total,
        q=q,
        kind=kind,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        board=board,
    )


@router.get("/export.{fmt}")
def export_formulary(
    person: Pharmacist, uow: ConsoleUowDep, fmt: str, q: Search = "", kind: Kind = ""
) -> Response:
    drugs = calls_as(uow.config, person).every(
        "pharmacy", "/formulary/drugs", most=MOST_EXPORTED, **_wanted(q, kind)
    )
    rows = [
        (d["drug_code"], d["name"], d.get("generic_name") or "", d["dosage_form"], d["strength"],
         d["pack_size"], d["unit"], Decimal(str(d["unit_price"])), "是" if d["essential"] else "否",
         "是" if d["tcm"] else "否", board.CATEGORIES.get(d["category"], d["category"]),
         "、".join(board.TIERS.get(t, t) for t in d["allowed_tiers"]),
         "在用" if d["listed"] else "已停用")
        for d in drugs
    ]  # fmt: skip
    headers = ("药品编码", "名称", "通用名", "剂型", "规格", "包装数量", "单位", "统一价格（元）",
               "基本药物", "中药", "类别", "可配备层级", "状态")  # fmt: skip
    return exported(Table("药品目录", headers, rows), fmt, "formulary")
