"""Reading one row by its primary key, optionally locked for the transaction — what every repository's
`get(..., for_update=...)` does the same way."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.orm import Session

__all__ = ["forget_row", "row_by_id", "table_of"]

T = TypeVar("T")


def forget_row(session: Session, model: type[Any], key: Any) -> None:
    """Forget the session's copy of the row, if it holds one: the next read takes the row as it stands.

    A copy read earlier in the transaction (by a route's scope check, say) may be older than the row a
    lock returns; kept, SQLAlchemy's version check would take the difference for a lost update."""
    known = session.identity_map.get(session.identity_key(model, key))
    if known is not None:
        session.expire(known)


def table_of(model: type[Any]) -> Table:
    """The table of a mapped class, typed as one: what a Core statement of its rows is built on (through the
    session's connection: no ORM objects, no flush)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def row_by_id(session: Session, model: type[T], key: Any, *, for_update: bool = False) -> T | None:
    """The row of `model` with this primary key; `for_update`: row-locked for the transaction and read
    again from the row, not from the session (`forget_row`), so that what a transaction holding the lock
    before changed is seen."""
    if for_update:
        forget_row(session, model, key)
        return session.get(model, key, with_for_update=True)
    return session.get(model, key)
