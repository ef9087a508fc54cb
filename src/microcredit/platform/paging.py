"""Server-side paging and sorting with allow-listed sort keys (no SQL from clients).

Clients ask for `page`, `page_size` and `sort=field` or `sort=-field`; the
field must be one of the list's declared sort keys, mapped to a column here —
never interpolated into SQL (the lesson of Fineract's `orderBy` CVEs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from microcredit.errors import FieldProblem, ValidationFailed

T = TypeVar("T")
MAX_PAGE_SIZE = 100
MAX_PAGE = 100_000  # with MAX_PAGE_SIZE, offsets stay far inside every database's range
MAX_EXPORT_ROWS = 50_000


@dataclass(frozen=True)
class PageRequest:
    """Which page, how big, in what order."""

    page: int = 1
    page_size: int = 20
    sort: str | None = None


@dataclass(frozen=True)
class PageResult(Generic[T]):
    """One page of results and the total count."""

    items: Sequence[T]
    total: int
    page: int
    page_size: int


def order_by(stmt: Select[Any], sort: str | None, columns: Mapping[str, Any], default: Sequence[Any]) -> Select[Any]:
    """Apply `sort` ('field' or '-field') if it names an allowed column; refuse anything else."""
    if not sort:
        return stmt.order_by(*default)
    desc = sort.startswith("-")
    key = sort[1:] if desc else sort
    column = columns.get(key)
    if column is None:
        raise ValidationFailed([FieldProblem(
            "sort", "sort_not_allowed", f"sort by one of: {', '.join(sorted(columns))}",
            f"只能按以下字段排序：{', '.join(sorted(columns))}")])
    return stmt.order_by(column.desc() if desc else column.asc(), *default)


def paginate(session: Session, stmt: Select[Any], request: PageRequest) -> PageResult[Any]:
    """Run `stmt` for one page and count all rows.

    A page that is not full and not past the end is the last one, so it tells the total
    itself; only a full page (or one past the end) costs the count query.
    """
    size = max(1, min(request.page_size, MAX_PAGE_SIZE))
    page = max(1, request.page)
    items = session.execute(stmt.limit(size).offset((page - 1) * size)).all()
    if 0 < len(items) < size or (page == 1 and not items):
        total = (page - 1) * size + len(items)
    else:
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return PageResult(items=[row[0] if len(row) == 1 else row for row in items], total=total, page=page,
                      page_size=size)


def all_rows(session: Session, stmt: Select[Any], limit: int = MAX_EXPORT_ROWS) -> list[Any]:
    """Every row of `stmt` (for exports), up to `limit`."""
    return [row[0] if len(row) == 1 else row for row in session.execute(stmt.limit(limit)).all()]
