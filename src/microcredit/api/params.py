"""Shared path and query parameter types: ids and paging, bounded so no number reaches SQL unchecked.

An id is 1 … 2^63−1 (what a BIGINT holds); a larger or smaller one is a 422
`validation_failed` naming the parameter (`less_than_equal` / `greater_than_equal`),
the same answer as any other malformed parameter — never an overflow in the
database driver. Pages are 1 … `MAX_PAGE`, page sizes 1 … `MAX_PAGE_SIZE`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from microcredit.platform.paging import MAX_PAGE, MAX_PAGE_SIZE
from microcredit.platform.schema import MAX_INT

Id = Annotated[int, Path(ge=1, le=MAX_INT, description="An id (1 … 2^63−1)")]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_INT, description="An id (1 … 2^63−1)")]
Year = Annotated[int, Path(ge=1, le=9999, description="A year (1 … 9999)")]
PageNo = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page number, 1 … {MAX_PAGE}")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Rows per page, 1 … {MAX_PAGE_SIZE}")]
