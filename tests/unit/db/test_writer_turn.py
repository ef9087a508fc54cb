"""SQLite's writers of one process take turns (`db.engine._WriterTurn`) instead of sleeping in the busy handler."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from microcredit.db.engine import Database


def _database(tmp_path: Path, busy_ms: int = 10_000) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'turns.sqlite3'}", sqlite_busy_timeout_ms=busy_ms)
    assert db.engine is not None
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (writer INTEGER, n INTEGER)"))
    return db


def _writes_at_once(db: Database) -> bool:
    """Whether a writer begins without waiting for a turn. The pool would hand the last writer's connection back
    (and a connection that kept the turn would go on with it): a read holds that one first, so the writer
    gets another connection and has to take the turn."""
    with db.unit_of_work(write=False) as reader:
        reader.execute(text("SELECT count(*) FROM t")).scalar()
        took = time.monotonic()
        with db.unit_of_work() as writer:
            writer.execute(text("INSERT INTO t VALUES (9, 1)"))
        return time.monotonic() - took < 0.25


def test_concurrent_writers_in_threads_all_commit_one_after_another(tmp_path: Path) -> None:
    # 12 writers started together, each holding the write lock 30 ms: they wait for their turns and all commit.
    db = _database(tmp_path, busy_ms=2_000)
    errors: list[BaseException] = []
    start = threading.Barrier(12)

    def write(writer: int) -> None:
        start.wait()
        try:
            with db.unit_of_work() as session:
                session.execute(text("INSERT INTO t VALUES (:w, 1)"), {"w": writer})
                time.sleep(0.03)
        except BaseException as exc:  # the test collects every failure
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.unit_of_work(write=False) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 12


def test_a_unit_of_work_begun_in_one_thread_and_ended_in_another_gives_its_turn_back(tmp_path: Path) -> None:
    # The API opens the request's unit of work, runs the route in the thread pool and commits in another of its
    # threads: the turn must pass back from whichever thread ends it, or the next writer would wait forever.
    db = _database(tmp_path, busy_ms=300)
    work = db.unit_of_work()
    session = work.__enter__()
    began = threading.Thread(target=lambda: session.execute(text("INSERT INTO t VALUES (1, 1)")))
    began.start()
    began.join()
    ended = threading.Thread(target=lambda: work.__exit__(None, None, None))
    ended.start()
    ended.join()
    assert _writes_at_once(db)  # the turn is free: no wait for the timeout
    with db.unit_of_work(write=False) as reader:
        assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_a_rolled_back_or_failed_writer_gives_its_turn_back(tmp_path: Path) -> None:
    db = _database(tmp_path, busy_ms=300)
    for _ in range(3):
        # The failure is the point (the unit of work rolls back); what follows checks the turn.
        with contextlib.suppress(OperationalError), db.unit_of_work() as session:
            session.execute(text("INSERT INTO t VALUES (1, 1)"))
            session.execute(text("INSERT INTO nowhere VALUES (1)"))
    assert _writes_at_once(db)
    with db.unit_of_work(write=False) as session:
        assert session.execute(text("SELECT writer FROM t")).scalars().all() == [9]
