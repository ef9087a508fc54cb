"""Server-side paging and sorting with allow-listed sort keys (no SQL from clients).

Clients ask for `page`, `page_size` and `sort=field` or `sort=-field`; the
field must be one of the list's declared sort keys, mapped to a column here —
never interpolated into SQL (the lesson of Fineract's `orderBy` CVEs).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import Session

from microcredit.errors import FieldProblem, ValidationFailed
from microcredit.platform import refcache

T = TypeVar("T")
MAX_PAGE_SIZE = 100
MAX_PAGE = 100_000  # with MAX_PAGE_SIZE, offsets stay far inside every database's range
MAX_EXPORT_ROWS = 50_000
MAX_LISTINGS = 4_096  # statement shapes kept per process (a list has a few dozen: filters present x sort)


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


# -- lists whose statements are built once per shape -------------------------------------------------

_LIMIT = bindparam("paging_limit", type_=Integer)
_OFFSET = bindparam("paging_offset", type_=Integer)


@dataclass(frozen=True, slots=True)
class Listing:
    """A list's two statements for one shape of its filters, built once and reused by every request.

    The filters' values are bound parameters (named by the builder), the page's bounds too
    (`paging_limit`, `paging_offset`), so the statement objects never change: SQLAlchemy
    computes their cache key once (it is memoised on the object) and finds their compiled form
    in the engine's compiled cache -- no statement construction, coercion or cache-key walk per
    request (docs/performance.md, "Sixth pass").
    """

    key: Hashable
    page: Select[Any]
    count: Select[Any]


_listings: dict[Hashable, Listing] = {}
_listings_lock = threading.Lock()


def listing(key: Hashable, build: Callable[[], Select[Any]]) -> Listing:
    """The statements of the list shape `key` (`build()` the first time: a statement over bound parameters).

    `key` must name everything `build` decides by -- which filters are present, the sort, the
    shape of the caller's scope -- and never a value: values go in `page_of`'s `params`. The scope's
    limits are filters like any other: a builder that leaves them out of the statement leaves them out
    of every request of that shape, so builders take them as bound parameters, never as branches.
    """
    found = _listings.get(key)
    if found is not None:
        return found
    stmt = build()
    found = Listing(key=key, page=stmt.limit(_LIMIT).offset(_OFFSET),
                    count=select(func.count()).select_from(stmt.order_by(None).subquery()))
    with _listings_lock:
        if len(_listings) >= MAX_LISTINGS:
            _listings.clear()
        _listings[key] = found
    return found


def page_of(session: Session, listing: Listing, params: Mapping[str, Any], request: PageRequest, *,
            keep_count: type | None = None) -> PageResult[Any]:
    """One page of a `Listing` as plain rows, and the total: `paginate` without building anything.

    The statements run on the session's connection (SQLAlchemy Core), not through
    `Session.execute`: a list reads table columns into rows, so the ORM's execution (compile
    state, loading, the `do_orm_execute` hooks -- all of which look only at writes) has nothing
    to do. The session's transaction is the same one (`Session.connection()`), so the read sees
    what the unit of work wrote; and what it holds but has not yet flushed is flushed first, as
    autoflush would have (a GET never has any; a search inside a writing unit of work may).

    `keep_count`: the model whose table the list reads. A full page's total (a second statement)
    is then kept in the database's reference cache (`platform.refcache`, `reference_cache_seconds`)
    by shape and values -- the values include the caller's scope, so two callers share a total
    only when they would count the same rows. Any change to a row of that table in this process
    forgets every kept total at once (flush and commit; a bulk UPDATE or DELETE too); other worker
    processes see it within `reference_cache_seconds`. A session that changed rows of the table
    counts them itself. Leave it None for a list whose filters reach other tables.
    """
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    size = max(1, min(request.page_size, MAX_PAGE_SIZE))
    page = max(1, request.page)
    connection = session.connection()
    items = connection.execute(listing.page, {**params, "paging_limit": size,
                                              "paging_offset": (page - 1) * size}).all()
    if 0 < len(items) < size or (page == 1 and not items):
        total = (page - 1) * size + len(items)
    else:
        def count() -> int:
            return connection.execute(listing.count, params).scalar() or 0

        if keep_count is None:
            total = count()
        else:
            key = (listing.key, tuple(sorted(params.items())))
            total = refcache.cached(session, f"paging.count.{getattr(keep_count, '__tablename__', keep_count)}",
                                    key, count, model=keep_count, key_of=refcache.every_key)
    return PageResult(items=items, total=total, page=page, page_size=size)


def all_listed(session: Session, listing: Listing, params: Mapping[str, Any], limit: int = MAX_EXPORT_ROWS
               ) -> list[Any]:
    """Every row of a `Listing` (for exports), up to `limit`, as `page_of` reads them."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    return list(session.connection().execute(listing.page, {**params, "paging_limit": limit, "paging_offset": 0}))


