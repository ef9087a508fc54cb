"""Engine and unit of work.

One unit of work per request or command: `Database.unit_of_work()` opens a
session and a transaction, commits when the block ends normally and rolls back
when it raises. Services only `flush()`; nothing but the boundary commits.

SQLite is the embedded default. It runs in WAL mode with foreign keys on, and
its driver's implicit transaction handling is replaced by explicit `BEGIN`
statements (the SQLAlchemy-documented recipe), so that a write unit of work can
take the write lock up front with `BEGIN IMMEDIATE` instead of failing to
upgrade a read snapshot half-way through.

SQLite has one writer at a time, and a writer that finds the lock taken waits in
the driver's busy handler: it sleeps (1, 2, 5, 10 … 100 ms) and tries again, so
under many concurrent writers the lock stands idle while they sleep and the last
of them waits seconds. Within one process the writers therefore take a lock of
the process first (`_WriterTurn`): the next writer starts the moment the last
one's connection is back in the pool. Writers in other processes still meet in
SQLite's busy handler, as before.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

from microcredit.db.retry import DEFAULT_POLICY, RetryPolicy, is_transient
from microcredit.errors import DomainError

WRITE_OPTION = "microcredit_write"
READ_ONLY = "microcredit_read"  # session.info: a read unit of work (GET, HEAD), see `end_read`
WROTE = "microcredit_wrote"  # session.info: something was flushed or a non-SELECT statement executed
WRITES = "microcredit_writes"  # Connection.info: how many statements other than a SELECT it has run, ever
_BEGAN_AT = "microcredit_began_at"  # session.info: its transaction's connection, and WRITES when it began
_COMMIT_ACTS_ON: set[str] = set()
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """Pick the drivers we ship: psycopg 3 for PostgreSQL, PyMySQL for MySQL/MariaDB."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    elif u.drivername in ("mysql", "mariadb"):
        u = u.set(drivername="mysql+pymysql")
    if u.get_backend_name() == "mysql" and "charset" not in u.query:
        u = u.update_query_dict({"charset": "utf8mb4"})
    return u.render_as_string(hide_password=False)


SQLITE_POOL_SIZE = 40
SERVER_POOL_SIZE = 20
SERVER_POOL_OVERFLOW = 20
"""Connections each process keeps (and may add, closed after use) -- see docs/operations.md."""

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for the write lock before `database is locked` (then retried)."""


_HOLDS_TURN = "microcredit_holds_writer_turn"  # the pool record's info: this connection holds the process's turn


class _WriterTurn:
    """The process's turn to write one SQLite database: taken when a write transaction begins, given back when its
    connection returns to the pool (the transaction committed or rolled back by then).

    A plain lock, not a re-entrant one: the API opens a unit of work in one thread and ends it in another, and a
    lock's owner must be free to give it back from any thread. A writer that waits longer than the busy timeout
    goes on without the turn, and SQLite's own busy handler decides as it did before (`database is locked`,
    retried by `db.retry`): a writer holding the turn and waiting for another is no worse off than without it."""

    def __init__(self, timeout_s: float) -> None:
        self._lock = threading.Lock()
        self._timeout_s = timeout_s

    def take(self, conn: Connection) -> None:
        if conn.info.get(_HOLDS_TURN):
            return  # a second transaction on a connection still out of the pool: it holds the turn already
        if self._lock.acquire(timeout=self._timeout_s):
            conn.info[_HOLDS_TURN] = True

    def give_back(self, record_info: dict[str, Any]) -> None:
        if record_info.pop(_HOLDS_TURN, False):
            self._lock.release()


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    turn = _WriterTurn(busy_timeout_ms / 1000)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            turn.take(conn)
            # Through SQLAlchemy: `database is locked` must arrive wrapped, as the retries know it.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            # A read's BEGIN takes no lock and cannot fail so: straight to the driver, since through
            # SQLAlchemy's statement machinery it cost as much as a query, on every read.
            conn.connection.driver_connection.execute("BEGIN")  # type: ignore[union-attr]

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        turn.give_back(record.info)

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_connection: Any, record: Any) -> None:
        turn.give_back(record.info)  # a connection closed (invalidated) instead of returned: the turn with it


def make_engine(url: str, *, echo: bool = False, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """Create an engine for `url` with the settings each database needs."""
    url = normalise_url(url)
    backend = make_url(url).get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if backend == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": sqlite_busy_timeout_ms / 1000}
        # A connection per thread of the pool that runs the routes (40), kept: a connection made past
        # the pool's size is closed after use, and making one costs its PRAGMAs on every request.
        kwargs.update(pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_SIZE)
    else:
        kwargs.update(pool_pre_ping=True, pool_size=SERVER_POOL_SIZE, max_overflow=SERVER_POOL_OVERFLOW,
                      pool_recycle=1800)
    if backend == "mysql":
        # REPEATABLE READ would let a retried read see a stale snapshot.
        kwargs["isolation_level"] = "READ COMMITTED"
    engine = create_engine(url, **kwargs)
    if backend == "sqlite":
        _configure_sqlite(engine, sqlite_busy_timeout_ms)
    return engine


SIDE_POOL_SIZE = 4
"""Connections each process keeps for statements that commit on their own (`side_engine`)."""

_SIDE_ENGINES: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_SIDE_LOCK = threading.Lock()


def side_engine(engine: Engine) -> Engine:
    """An engine on `engine`'s server database whose connections autocommit, in a small pool of its own: for a
    statement that must commit by itself while the caller's transaction stays open (a rate-limit counter).

    Its own pool, so that a request holding one of the main pool's connections never waits for a second one
    from the same pool (forty requests doing so at once would wait on each other until the pool's timeout);
    a side connection is held for one statement and waits for nothing else. Made once per engine. Not for
    SQLite, whose one writer at a time is the caller's own transaction (and the process's `_WriterTurn`)."""
    with _SIDE_LOCK:
        side = _SIDE_ENGINES.get(engine)
        if side is None:
            if engine.dialect.name == "sqlite":
                raise ValueError("SQLite has no side connections: write in the caller's transaction")
            side = create_engine(engine.url, future=True, pool_size=SIDE_POOL_SIZE, max_overflow=0,
                                 pool_pre_ping=True, pool_recycle=1800, isolation_level="AUTOCOMMIT")
            _SIDE_ENGINES[engine] = side
            # Disposing of the engine closes these too, however it is disposed of (`Database.dispose`, a test's
            # `engine.dispose()` before copying its database as a template, which needs no session left open).
            event.listen(engine, "engine_disposed", _dispose_side)
        return side


def _dispose_side(engine: Engine) -> None:
    with _SIDE_LOCK:
        side = _SIDE_ENGINES.pop(engine, None)
    if side is not None:
        side.dispose()


class Database:
    """An engine plus the session factory bound to it."""

    def __init__(self, url: str | None = None, *, echo: bool = False, engine: Engine | None = None,
                 bind: Connection | None = None, retry: RetryPolicy = DEFAULT_POLICY,
                 sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
        self.retry = retry
        """How a unit of work is run again after a transient error (`db.retry`)."""
        if engine is None and bind is None:
            if url is None:
                raise ValueError("Database needs a url, an engine or a connection")
            engine = make_engine(url, echo=echo, sqlite_busy_timeout_ms=sqlite_busy_timeout_ms)
        self.engine = engine
        self._bind: Engine | Connection = bind if bind is not None else engine  # type: ignore[assignment]
        self.backend = (bind.engine if bind is not None else engine).dialect.name  # type: ignore[union-attr]
        extra: dict[str, Any] = {}
        if bind is not None:
            # Tests: the session joins an outer transaction; commits become savepoints.
            extra["join_transaction_mode"] = "create_savepoint"
        self._factory = sessionmaker(bind=self._bind, expire_on_commit=False, autoflush=True, **extra)
        self._write_factory = self._factory
        if bind is None and self.backend == "sqlite":
            # The transaction still begins lazily (at the first statement), but as
            # BEGIN IMMEDIATE, so a writer never has to upgrade a stale read snapshot.
            assert engine is not None
            self._write_factory = sessionmaker(bind=engine.execution_options(**{WRITE_OPTION: True}),
                                               expire_on_commit=False, autoflush=True)

    def share(self, key: str, value: Any) -> None:
        """Put `value` in the `info` of every session made from now on (e.g. the database's reference
        caches, `platform.refcache`)."""
        for factory in {id(f): f for f in (self._factory, self._write_factory)}.values():
            factory.configure(info={**factory.kw.get("info", {}), key: value})

    def session(self) -> Session:
        """A new session (the caller owns its transaction)."""
        session: Session = self._factory()
        return session

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """A session whose transaction commits at the end of the block, or rolls back.

        A `DomainError` with `keeps_changes` still commits what was flushed
        (a failed login's trace) before propagating.
        """
        session: Session = (self._write_factory if write else self._factory)()
        if not write:
            session.info[READ_ONLY] = True
        try:
            yield session
            if session.in_transaction():  # (a read ended early by `end_read` has nothing left to commit)
                session.commit()
        except DomainError as exc:
            if exc.keeps_changes:
                session.commit()
            else:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def run(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """`work(session)` in a unit of work, run again from scratch after a transient error.

        For commands and workers; the API's routes get the same behaviour from
        `platform.routing.UnitOfWorkRoute`.  `work` must do nothing outside the transaction
        (see `db.retry`).
        """
        policy = self.retry
        for attempt in range(1, policy.attempts + 1):
            try:
                with self.unit_of_work(write=write) as session:
                    return work(session)
            except Exception as exc:
                if attempt == policy.attempts or not is_transient(exc):
                    raise
                time.sleep(policy.pause(attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def dispose(self) -> None:
        """Close the pooled connections (the side engine's too: `_dispose_side`)."""
        if self.engine is not None:
            self.engine.dispose()


# -- ending a read early ---------------------------------------------------------------------------


def staged_for_commit(key: str) -> str:
    """Declare `key` a `Session.info` key under which a unit of work stages what its commit acts on (the audit
    records waiting for their numbers, the folds waiting to be kept); returns `key`. A read holding any of
    them is committed by `end_read`, never merely closed."""
    _COMMIT_ACTS_ON.add(key)
    return key


def end_read(session: Session) -> bool:
    """End a read unit of work's transaction now, in the caller's thread, if it wrote nothing.

    The API runs a route and this in one trip to the thread pool, so that the end of a read's
    transaction (a round trip to the database) costs no second trip: the unit of work's own end
    then finds no transaction and does no I/O. A read that wrote something -- a flush, a bulk or
    textual statement, anything but a SELECT on its connection -- keeps its transaction for the
    unit of work to end as always. Returns whether it ended it.

    How it ends: a transaction that wrote nothing and staged nothing for its commit is *closed*
    (the driver's rollback), not committed. For such a transaction the two leave the database in
    the same state and release the same locks; what a commit adds is the session's commit
    machinery -- `before_commit` (the audit chain: no waiting record), the flush (nothing), the
    `after_commit` hooks (the principal and reference caches' invalidation and the outbox flag:
    set only by a write) -- which has nothing to act on. A transaction holding staged values (the
    audit records of a personal-data view, `staged_for_commit`) is committed, so that they are
    written. The session's objects stay attached and unexpired, as after a commit with
    `expire_on_commit=False`.
    """
    if not session.info.get(READ_ONLY) or session.info.get(WROTE) or not session.in_transaction():
        return False
    if session.new or session.dirty or session.deleted:
        return False
    began = session.info.get(_BEGAN_AT)
    if began is None or began[0].info.get(WRITES, 0) != began[1]:
        return False  # a statement on the session's connection wrote (Core: no ORM event saw it)
    if any(session.info.get(key) for key in _COMMIT_ACTS_ON):
        session.commit()
    else:
        session.get_transaction().close()  # type: ignore[union-attr]
    return True


def _statement_ran(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if statement.lstrip()[:6].upper() != "SELECT":
        conn.info[WRITES] = conn.info.get(WRITES, 0) + 1


def _session_began(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    if transaction.nested:
        return  # a savepoint: the transaction's writes so far still count
    # A count, not a flag: a session joining a connection's outer transaction (tests) or a savepoint must not
    # take the writes before it for its own, nor clear them for the transaction it is part of.
    session.info[_BEGAN_AT] = (connection, connection.info.get(WRITES, 0))


def _wrote(session: Session, *_args: Any) -> None:
    session.info[WROTE] = True


def _on_execute(state: ORMExecuteState) -> None:
    if not state.is_select:
        _wrote(state.session)


def _forget_write(session: Session, *_args: Any) -> None:
    session.info.pop(WROTE, None)


event.listen(Session, "after_flush", _wrote)
event.listen(Session, "do_orm_execute", _on_execute)
event.listen(Session, "after_commit", _forget_write)
event.listen(Session, "after_soft_rollback", _forget_write)
event.listen(Engine, "before_cursor_execute", _statement_ran)
event.listen(Session, "after_begin", _session_began)
