"""Excel downloads of lists."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Response

from microcredit.platform.export import XLSX_MEDIA_TYPE, Column, to_xlsx


def xlsx_response(name: str, columns: Sequence[Column], rows: Iterable[dict[str, Any]], language: str) -> Response:
    """An .xlsx attachment named `<name>.xlsx`."""
    data = to_xlsx(title=name, columns=columns, rows=rows, language=language)
    return Response(data, media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"',
                             "Cache-Control": "no-store"})


XLSX_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {XLSX_MEDIA_TYPE: {}},
                                                         "description": "An Excel workbook"}}
