"""Many rows written at once: PostgreSQL's `COPY … FROM STDIN` for a large batch, a Core multi-row INSERT otherwise.

A multi-row INSERT of a few hundred rows costs its driver more than the server: psycopg sends an executemany
row by row through its pipeline (a dump and a message per row), and a single statement of N rows' placeholders
is parsed again by psycopg on every call (its query cache holds short statements only). COPY streams the rows
with no statement to parse (docs/performance.md, "The ledger's post_many per entry (task led24)"). The values go
through each column type's own bind processing first (a `UTCDateTime` made naive UTC, a JSON column serialised
by the dialect's serializer), so COPY writes what the INSERT would have. A failure is raised as SQLAlchemy's
exception of the same kind (`IntegrityError` for a unique constraint), as the INSERT's would be.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

__all__ = ["COPY_MIN_ROWS", "insert_many", "next_ids", "uses_copy"]

COPY_MIN_ROWS = 50
"""From how many rows a batch is written by COPY on PostgreSQL (below it the INSERT costs no more)."""


def uses_copy(session: Session, count: int) -> bool:
    """Whether `count` rows on this session's database are written by COPY."""
    return count >= COPY_MIN_ROWS and session.get_bind().dialect.name == "postgresql"


def _processors(table: Table, names: Sequence[str], dialect: Any) -> list[Callable[[Any], Any] | None]:
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]


def insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write rows (all with the same keys) nobody reads back in this statement, in the session's transaction:
    COPY on PostgreSQL from `COPY_MIN_ROWS` rows, else one Core INSERT with the rows' parameters."""
    if not rows:
        return
    connection = session.connection()
    if not uses_copy(session, len(rows)):
        connection.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    processors = _processors(table, names, connection.dialect)
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    import psycopg  # the PostgreSQL driver: imported where it is used

    raw = connection.connection.driver_connection
    assert raw is not None
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([value if process is None else process(value)
                                for value, process in zip((row[n] for n in names), processors, strict=True)])
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


def next_ids(session: Session, table: Table, count: int) -> list[int]:
    """`count` new values of the table's key sequence (PostgreSQL), ascending: the ids of rows about to be copied."""
    (key,) = table.primary_key.columns
    result = session.connection().execute(_NEXT_IDS, {"table": table.name, "key": key.name, "count": count})
    return sorted(int(v) for (v,) in result)


_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence(:table, :key)) FROM generate_series(1, :count)")
