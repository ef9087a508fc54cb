"""Exports of lists to Excel (.xlsx) with openpyxl: the filtered rows, localised headers.

Text is written as text (never a formula), and characters a workbook cannot hold (C0 controls
stored before input was cleaned at the edge) become U+FFFD, so an export never fails on stored data.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from microcredit.lending.money import Money
from microcredit.platform.text import printable_cell

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    """One exported column: its key in the row and its headers."""

    key: str
    zh: str
    en: str
    money: bool = False


def _cell(value: Any) -> Any:
    if isinstance(value, Money):
        return value.amount  # a number in the sheet (exact Decimal), formatted by the column
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones; values are UTC
    if isinstance(value, str):
        return printable_cell(value)
    if isinstance(value, Decimal | date | int | bool) or value is None:
        return value
    return printable_cell(str(value))


def to_xlsx(*, title: str, columns: Sequence[Column], rows: Iterable[dict[str, Any]], language: str) -> bytes:
    """An .xlsx workbook of `rows` with headers in `language`."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    zh = language.lower().startswith("zh")
    ws.append([c.zh if zh else c.en for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([_cell(row.get(c.key)) for c in columns])
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":  # text typed by users is never a formula (formula injection)
                cell.data_type = "s"
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(12, len(c.zh if zh else c.en) * 2)
        if c.money:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = "#,##0.00"
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
