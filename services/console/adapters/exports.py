"""Every table a page shows, as Excel (xlsx, Chinese headers, numbers as numbers) or as CSV
with a byte-order mark, which Excel on a Chinese Windows needs to read UTF-8 (without it the
characters come out garbled)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

__all__ = ["Table", "as_csv", "as_xlsx"]

BOM = "\ufeff"


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def as_csv(table: Table) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows([_plain(value) for value in row] for row in table.rows)
    return out.getvalue().encode("utf-8")


def as_xlsx(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.title[:31]
    sheet.append(list(table.headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_cell(value) for value in row])
    for column, header in zip(sheet.columns, table.headers, strict=False):
        width = max([len(str(header)) * 2, *(len(str(c.value or "")) for c in column)])
        sheet.column_dimensions[column[0].column_letter].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, int | float | str):
        return value
    return str(value)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    # A cell that starts like a formula is a spreadsheet injection when opened in Excel.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
