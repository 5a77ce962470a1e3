"""An export's HTTP answer: the file, named for the download, in the format asked for."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response

from services.console.adapters.exports import Table, as_csv, as_xlsx
from services.console.api.deps import Forbidden

__all__ = ["exported"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def exported(table: Table, fmt: str, stem: str) -> Response:
    if fmt == "xlsx":
        content, media = as_xlsx(table), XLSX
    elif fmt == "csv":
        content, media = as_csv(table), "text/csv; charset=utf-8"
    else:
        raise Forbidden("只能导出 xlsx 或 csv")
    filename = quote(f"{table.title}.{fmt}")
    disposition = f"attachment; filename={stem}.{fmt}; filename*=UTF-8''{filename}"
    return Response(content, media_type=media, headers={"Content-Disposition": disposition})
