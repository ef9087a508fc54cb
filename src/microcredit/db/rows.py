"""Reading one row by its primary key, optionally locked for the transaction — what every repository's
`get(..., for_update=...)` does the same way; writing a row's changes, a new row, or many rows' columns at once
(`update_from_columns`) by Core statements."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    Select,
    Table,
    Update,
    bindparam,
    cast,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import mysql as mysql_dialect
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import ColumnProperty, Session, make_transient_to_detached
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.exc import StaleDataError

__all__ = ["as_written", "columns_by_id", "forget_row", "id_chunks", "insert_from_columns", "insert_missing",
           "insert_written", "row_by_id", "table_of", "update_from_columns", "watch_flushes", "write_changes"]

# The most ids one `IN (...)` list carries (`id_chunks`). PostgreSQL binds at most 65,535 parameters per statement;
# a read of 83,333 ids failed there (tests/integration/db/test_id_chunks.py).
IN_LIST_MAX = 10_000

# Tables whose changes a listener of the ORM's flush must hear (the reference caches, the principals' cache: they
# forget what a flush changed). `write_changes` and `insert_written` write their rows by the flush, never past it.
_HEARD_AT_FLUSH: set[str] = set()


def watch_flushes(*tables: str) -> None:
    """Say that a flush listener watches these tables: their rows are written by the flush (not as statements)."""
    _HEARD_AT_FLUSH.update(tables)

T = TypeVar("T")


def id_chunks(ids: Iterable[int], size: int = IN_LIST_MAX) -> Iterator[list[int]]:
    """The distinct `ids` ascending, `size` at a time: a query of "the rows with these ids, by id" made once per
    chunk returns the same rows in the same order as one query, whatever the number of ids (`IN_LIST_MAX`)."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]


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


@functools.cache
def _columns_by_key(table: Table, names: tuple[str, ...]) -> Select[Any]:
    """`SELECT <names> FROM table WHERE key = :key`, built once per table and names (one compiled form)."""
    (key,) = table.primary_key.columns
    return select(*(table.c[name] for name in names)).where(key == bindparam("key"))


def columns_by_id(session: Session, model: type[Any], key: Any, names: tuple[str, ...]) -> Any | None:
    """Some columns of the row of `model` with this primary key, read as a Core row (attributes by column name)
    through the session's connection, without building the ORM object: for a caller that reads a few columns
    and keeps nothing. Where the session holds the row's object already, the object itself (its changes not
    yet flushed included, as `session.get` would give). None when there is no such row."""
    known = session.identity_map.get(session.identity_key(model, key))
    if known is not None:
        return known
    return session.connection().execute(_columns_by_key(table_of(model), names), {"key": key}).one_or_none()


def write_changes(session: Session, row: Any) -> None:
    """Write the changed columns of a row the session holds now, as one Core UPDATE on the session's connection
    (its transaction), not through the unit of work's flush: what a hot path does with the one row it changed.

    The same as the flush would write, with the same optimistic check: where the model has a version column the
    UPDATE is `… SET version = version + 1 WHERE id = ? AND version = ?`, and no row matched raises
    `StaleDataError`, which the unit of work retries (`db.retry`). The object is then as after a flush: its
    values committed, its version the new one, nothing pending. A row the ORM must write itself (new, deleted, or
    with a change that is not one plain column, or of a table a flush listener watches: `watch_flushes`) is
    flushed the ordinary way."""
    state = inspect(row)
    changed = list(state.committed_state)
    if not changed:
        return
    mapper = state.mapper
    plain = state.key is not None and not state.deleted and mapper.local_table.name not in _HEARD_AT_FLUSH and all(
        isinstance(prop := mapper.get_property(key), ColumnProperty) and len(prop.columns) == 1 for key in changed)
    if not plain:
        session.flush()
        return
    # Columns set to what they held are left out, as the flush leaves them (a value changed in place was marked
    # with no previous value: written).
    values = {mapper.get_property(key).columns[0].key: state.dict[key] for key in changed
              if key in state.dict and (state.committed_state[key] is NO_VALUE
                                        or state.committed_state[key] != state.dict[key])}
    if not values:  # nothing changed after all: no UPDATE, the version kept (as the flush does)
        state._commit_all(state.dict, session.identity_map)
        return
    table = mapper.local_table
    params = {f"set_{name}": value for name, value in values.items()}
    params.update({f"key_{i}": value for i, value in enumerate(state.key[1])})
    version = mapper.version_id_col
    if version is not None:
        version_key = mapper.get_property_by_column(version).key
        before = state.dict[version_key]
        after = mapper.version_id_generator(before)
        params["set_" + version.key], params["was_version"] = after, before
    stmt = _update_of(table, tuple(column.key for column in mapper.primary_key), tuple(sorted(values)),
                      None if version is None else version.key)
    result = session.connection().execute(stmt, params)
    if version is not None:
        if result.rowcount != 1:
            raise StaleDataError(f"UPDATE statement on table '{table.name}' expected to update 1 row(s); "
                                 f"{result.rowcount} were matched.")
        state.dict[version_key] = after
    state._commit_all(state.dict, session.identity_map)


@functools.lru_cache(maxsize=512)
def _update_of(table: Table, keys: tuple[str, ...], names: tuple[str, ...], version: str | None) -> Update:
    """`UPDATE table SET <names> (and version) WHERE key = ? (AND version = ?)` with bound parameters
    (`set_<name>`, `key_<i>`, `was_version`), built once per table and set of columns: one cache key, one compiled
    form, instead of a statement built (and its cache key computed) at every write."""
    where = [table.c[key] == bindparam(f"key_{i}", type_=table.c[key].type) for i, key in enumerate(keys)]
    columns = [*names, version] if version is not None else list(names)
    if version is not None:
        where.append(table.c[version] == bindparam("was_version", type_=table.c[version].type))
    return update(table).where(*where).values(
        {table.c[name]: bindparam(f"set_{name}", type_=table.c[name].type) for name in columns})


def as_written(row: T) -> T:
    """An object built with every column of a row a statement has just written (its key included): the row as
    read and let go (detached), to read its columns, not pending in any session."""
    make_transient_to_detached(row)
    return row


@functools.cache
def _insert_returning_key(table: Table) -> Insert:
    """A table's `INSERT … RETURNING` of its key, built once (one cache key, one compiled form)."""
    return insert(table).returning(*table.primary_key.columns)


def insert_written(session: Session, row: T) -> T:
    """Write a new object now as a Core `INSERT … RETURNING` of its key on the session's connection (no flush of
    the unit of work) and give it as the row written (`as_written`, outside the session). Every column but the
    generated key must be set on the object (None where NULL): it is then exactly the row. An object missing
    one (a column default to fill in), or of a table a flush listener watches (`watch_flushes`), is added and
    flushed the ordinary way."""
    state = inspect(row)
    mapper = state.mapper
    if mapper.local_table.name in _HEARD_AT_FLUSH:
        session.add(row)
        session.flush()
        return row
    key_columns = set(mapper.primary_key)
    values: dict[str, Any] = {}
    for column in mapper.local_table.columns:
        prop = mapper.get_property_by_column(column)
        if prop.key in state.dict:
            values[column.key] = state.dict[prop.key]
        elif column not in key_columns:
            session.add(row)
            session.flush()
            return row
    written = session.connection().execute(_insert_returning_key(mapper.local_table), values).one()
    for column, value in zip(mapper.primary_key, written, strict=True):
        state.dict[mapper.get_property_by_column(column).key] = value
    return as_written(row)


# What `update_from_columns` sets a column to besides the rows' values: a value (the same for every row), an SQL
# expression (of the row as it was: `table.c.version + 1`), or a function of the row's given values (`v[name]`,
# a column of `v` on PostgreSQL, a bound parameter elsewhere) to such an expression: `lambda v: table.c.x + v["x"]`.
SetTo = Any | ColumnElement[Any] | Callable[[Mapping[str, ColumnElement[Any]]], ColumnElement[Any]]


def update_from_columns(bind: Session | Connection, table: Table, key: str, columns: Mapping[str, Sequence[Any]], *,
                        also: Mapping[str, SetTo] | None = None) -> int:
    """Update many rows of a Core `table` at once, by their `key` column: `columns` gives, by column name, one
    value a row (the key's among them, all of the same length; the keys distinct); each row whose key is given gets
    the other columns' values (and `also`'s); the rest are untouched. How many rows matched is returned.

    On PostgreSQL it is one statement, whatever the number of rows: `UPDATE t SET c = v.c, … FROM unnest(CAST(:c
    AS <type>[]), …) AS v(key, c, …) WHERE t.key = v.key`, the arrays' types those of the table's columns; elsewhere
    one executemany `UPDATE t SET c = ? … WHERE key = ?`. On the bind's connection (the session's transaction), no
    ORM objects and no flush: a session's copy of an updated row is not refreshed (forget it: `forget_row`).

    `also` sets more columns the same way for every row (`SetTo`; a column of `columns` named there takes `also`'s
    form: `x = x + v.x`). The statement is built once per table, columns and `also` (`_update_from`): give an
    expression or a function made once (at import), not anew at every call."""
    names = list(columns)
    if key not in columns:
        raise ValueError(f"the key column {key!r} has no values")
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    if not lengths or not lengths.pop():
        return 0
    connection = bind.connection() if isinstance(bind, Session) else bind
    postgresql = connection.dialect.name == "postgresql"
    plain = {name: to for name, to in (also or {}).items() if not callable(to) and not isinstance(to, ColumnElement)}
    shape = tuple((name, None if name in plain else to) for name, to in (also or {}).items())
    stmt = _update_from(table, key, tuple(columns), shape, postgresql)
    params = {f"s_{name}": value for name, value in plain.items()}
    if postgresql:
        params.update({f"a_{name}": list(values) for name, values in columns.items()})
        return connection.execute(stmt, params).rowcount
    rows = [dict(params, **{f"b_{name}": value for name, value in zip(names, row, strict=True)})
            for row in zip(*columns.values(), strict=True)]
    return connection.execute(stmt, rows).rowcount


@functools.lru_cache(maxsize=256)
def _update_from(table: Table, key: str, names: tuple[str, ...], also: tuple[tuple[str, Any], ...],
                 postgresql: bool) -> Update:
    """`update_from_columns`'s statement, built once per table, columns and `also` (a value's column named with
    None, bound as `s_<name>`; an expression or a function of the row's values as given, by identity): one cache
    key, one compiled form. An expression made anew at every call is a new entry: make it once (at import)."""
    if postgresql:
        v = func.unnest(*(cast(bindparam(f"a_{name}"), ARRAY(table.c[name].type)) for name in names)).table_valued(
            *names).render_derived(name="v")
        given: Mapping[str, ColumnElement[Any]] = {name: v.c[name] for name in names}
    else:
        given = {name: bindparam(f"b_{name}", type_=table.c[name].type) for name in names}
    values: dict[str, Any] = {name: given[name] for name in names if name != key}
    for name, to in also:
        if to is None:
            values[name] = bindparam(f"s_{name}", type_=table.c[name].type)
        else:
            values[name] = to(given) if callable(to) else to
    return update(table).where(table.c[key] == given[key]).values({table.c[name]: value
                                                                    for name, value in values.items()})


def insert_from_columns(bind: Session | Connection, table: Table, columns: Mapping[str, Sequence[Any]], *,
                        also: Mapping[str, Any] | None = None) -> int:
    """Insert many rows into a Core `table` at once: `columns` gives, by column name, one value a row (all of the
    same length), `also` the values every row takes (the columns not named get their defaults: a generated key).
    Returns how many rows were written (all of them, or an error is raised); nothing is read back (no keys).

    On PostgreSQL it is one statement, whatever the number of rows: `INSERT INTO t (a, …, c, …) SELECT :s_a, …,
    v.c, … FROM unnest(CAST(:a_c AS <type>[]), …) AS v(c, …)`, one array a column (psycopg sends a list of N values
    as one parameter; a multi-row INSERT or an executemany has N × columns parameters, each rendered, sent and, for
    a long statement, parsed again by the driver at every call — docs/performance.md "Early warning's partition
    by columns"); elsewhere one executemany INSERT. On the bind's connection (the session's transaction), no ORM
    objects and no flush. The statement is built once per table, columns and `also`'s names (`_insert_from`)."""
    names = list(columns)
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    count = lengths.pop() if lengths else 0
    if not count:
        return 0
    connection = bind.connection() if isinstance(bind, Session) else bind
    postgresql = connection.dialect.name == "postgresql"
    constants = dict(also or {})
    stmt = _insert_from(table, tuple(names), tuple(constants), postgresql)
    if postgresql:
        params = {f"s_{name}": value for name, value in constants.items()}
        params.update({f"a_{name}": list(values) for name, values in columns.items()})
        connection.execute(stmt, params)
    else:
        connection.execute(stmt, [{**constants, **dict(zip(names, row, strict=True))}
                                  for row in zip(*columns.values(), strict=True)])
    return count


@functools.lru_cache(maxsize=256)
def _insert_from(table: Table, names: tuple[str, ...], also: tuple[str, ...], postgresql: bool) -> Insert:
    """`insert_from_columns`'s statement, built once per table, columns and constant columns."""
    if not postgresql:
        return insert(table)
    v = func.unnest(*(cast(bindparam(f"a_{name}"), ARRAY(table.c[name].type)) for name in names)).table_valued(
        *names).render_derived(name="v")
    values = [*(bindparam(f"s_{name}", type_=table.c[name].type) for name in also), *(v.c[name] for name in names)]
    return insert(table).from_select([*also, *names], select(*values).select_from(v))


def insert_missing(bind: Session | Connection, table: Table, rows: Sequence[Mapping[str, Any]], *,
                   unique: tuple[str, ...]) -> None:
    """Insert each of `rows` whose `unique` columns (a unique constraint of `table`) no row has yet; a row whose key
    is already there — written by another transaction, perhaps at this moment — is left as it is, without an error
    (the caller reads back what the table holds). The rows are written in the order of their keys, so two
    transactions inserting overlapping keys take the keys' locks in one order (no deadlock between them).

    For a fact that concurrent workers may both find missing and both make, each the same (a borrower's credit
    report re-read on a day, by two close-of-business workers whose partitions hold loans of the same borrower):
    on PostgreSQL and SQLite `INSERT … ON CONFLICT (unique) DO NOTHING` (PostgreSQL waits for a transaction that
    inserted the same key and, once it commits, inserts nothing), on MariaDB `INSERT … ON DUPLICATE KEY UPDATE` of
    one key column to itself (no change)."""
    if not rows:
        return
    connection = bind.connection() if isinstance(bind, Session) else bind
    ordered = sorted(rows, key=lambda row: tuple(row[name] for name in unique))
    dialect = connection.dialect.name
    stmt: Any
    if dialect in ("postgresql", "sqlite"):
        module: Any = postgresql_dialect if dialect == "postgresql" else sqlite_dialect
        stmt = module.insert(table).on_conflict_do_nothing(index_elements=[table.c[name] for name in unique])
    elif dialect in ("mysql", "mariadb"):
        stmt = mysql_dialect.insert(table)
        stmt = stmt.on_duplicate_key_update({unique[0]: stmt.inserted[unique[0]]})
    else:
        raise NotImplementedError(f"insert_missing on {dialect}")
    connection.execute(stmt, [dict(row) for row in ordered])
