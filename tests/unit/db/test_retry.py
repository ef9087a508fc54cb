"""The unit of work's retries: which database errors are transient, the pauses, `Database.run`."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from microcredit.db.engine import Database
from microcredit.db.retry import RetryPolicy, is_busy, is_transient


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _wrapped(orig: BaseException, kind: type[OperationalError] | type[IntegrityError] = OperationalError) -> Exception:
    return kind("UPDATE borrowers ...", {}, orig)


def test_a_real_sqlite_lock_is_busy_and_transient(tmp_path: Path) -> None:
    holder = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    waiter = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}", sqlite_busy_timeout_ms=1)
    with holder.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with holder.unit_of_work() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))  # BEGIN IMMEDIATE: the write lock is held
        with pytest.raises(OperationalError) as locked, waiter.unit_of_work() as other:
            other.execute(text("INSERT INTO t VALUES (2)"))
    assert "locked" in str(locked.value)
    assert is_busy(locked.value)
    assert is_transient(locked.value)


@pytest.mark.parametrize(
    ("error", "busy", "transient"),
    [
        (_wrapped(_PgError("40001")), True, True),  # serialization failure
        (_wrapped(_PgError("40P01")), True, True),  # deadlock
        (_wrapped(_PgError("23505"), IntegrityError), False, True),  # unique violation: a racing insert
        (_wrapped(_PgError("23503"), IntegrityError), False, False),  # foreign key: a bug, not timing
        (_wrapped(_PgError("42P01")), False, False),  # undefined table
        (_wrapped(Exception(1213, "Deadlock found")), True, True),  # MariaDB
        (_wrapped(Exception(1205, "Lock wait timeout exceeded")), True, True),
        (_wrapped(Exception(1062, "Duplicate entry"), IntegrityError), False, True),
        (_wrapped(Exception(1452, "foreign key constraint fails"), IntegrityError), False, False),
        (_wrapped(sqlite3.IntegrityError("UNIQUE constraint failed: t.x"), IntegrityError), False, True),
        (_wrapped(sqlite3.IntegrityError("NOT NULL constraint failed: t.x"), IntegrityError), False, False),
        (_wrapped(sqlite3.OperationalError("no such table: t")), False, False),
        (StaleDataError("UPDATE statement on table 'borrowers' expected to update 1 row(s); 0 were matched."),
         False, True),
        (ValueError("not a database error"), False, False),
    ],
)
def test_errors_are_classified_by_what_a_new_attempt_can_change(error: Exception, busy: bool, transient: bool) -> None:
    assert is_busy(error) is busy
    assert is_transient(error) is transient


def test_pauses_are_random_and_bounded() -> None:
    policy = RetryPolicy(attempts=6, base_delay=0.01, max_delay=0.05)
    rng = random.Random(7)
    for attempt in range(1, 6):
        pauses = [policy.pause(attempt, rng) for _ in range(200)]
        assert min(pauses) >= 0
        assert max(pauses) <= min(0.05, 0.01 * 2 ** (attempt - 1))
        assert len(set(pauses)) > 100  # jitter: colliding units do not retry in step
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)


def test_run_repeats_the_whole_unit_after_a_transient_error_only(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'run.sqlite3'}", retry=RetryPolicy(attempts=3, base_delay=0.0,
                                                                                     max_delay=0.0))
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    calls: list[int] = []

    def work(session) -> int:  # type: ignore[no-untyped-def]
        calls.append(1)
        session.execute(text("INSERT INTO t VALUES (:n)"), {"n": len(calls)})
        if len(calls) == 1:
            raise StaleDataError("another unit changed the row")
        return len(calls)

    assert database.run(work) == 2
    with database.session() as session:  # the failed attempt's insert was rolled back
        assert session.execute(text("SELECT x FROM t")).scalars().all() == [2]

    def broken(session) -> None:  # type: ignore[no-untyped-def]
        calls.append(1)
        raise ValueError("a bug is not retried")

    calls.clear()
    with pytest.raises(ValueError, match="a bug"):
        database.run(broken)
    assert len(calls) == 1

    def always_stale(session) -> None:  # type: ignore[no-untyped-def]
        calls.append(1)
        raise StaleDataError("lost every time")

    calls.clear()
    with pytest.raises(StaleDataError):
        database.run(always_stale)
    assert len(calls) == 3
