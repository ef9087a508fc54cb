"""The database rate limiter on committed data: exact under concurrency, and (PostgreSQL, MariaDB) a hit
committed on its own, so the counter's row is never held to the caller's commit."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select

from microcredit.clock import FrozenClock
from microcredit.db.engine import Database, side_engine
from microcredit.errors import RateLimited
from microcredit.platform.models import RateLimitCounter
from microcredit.platform.ratelimit import DatabaseRateLimiter, Limit, hit
from tests.conftest import START, migrated_engine


@pytest.fixture
def engine(backend: str, worker_tmp: Path) -> Iterator[Engine]:
    """The worker's migrated database, used through real transactions (no outer one to roll back)."""
    engine = migrated_engine(backend, worker_tmp)
    yield engine
    if backend != "sqlite":
        side_engine(engine).dispose()


@pytest.fixture
def bucket(engine: Engine) -> Iterator[str]:
    """A bucket of this test alone, its counters deleted afterwards."""
    name = f"test:{uuid.uuid4().hex}"
    yield name
    with engine.begin() as conn:
        conn.execute(delete(RateLimitCounter).where(RateLimitCounter.bucket == name))


def _hits(engine: Engine, bucket: str) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(RateLimitCounter.hits).where(RateLimitCounter.bucket == bucket)) or 0)


def test_concurrent_hits_allow_exactly_the_limit(engine, bucket):
    db = Database(engine=engine)
    limiter = DatabaseRateLimiter(FrozenClock(START))
    limit = Limit(7, 3600)
    start = threading.Barrier(12)

    def one() -> bool:
        start.wait()
        try:
            with db.unit_of_work() as session:
                hit(limiter, bucket, limit, session=session)
        except RateLimited:
            return False
        return True

    with ThreadPoolExecutor(12) as pool:
        allowed = [f.result() for f in [pool.submit(one) for _ in range(12)]]
    assert allowed.count(True) == 7
    # None lost to a race; the refused hits count too, except on SQLite, where they roll back with their request.
    assert _hits(engine, bucket) == (7 if engine.dialect.name == "sqlite" else 12)


@pytest.mark.parametrize("backend", ["postgresql", "mysql"], indirect=True)
def test_a_hit_commits_at_once_and_leaves_the_counter_free(engine, bucket):
    db = Database(engine=engine)
    limiter = DatabaseRateLimiter(FrozenClock(START))
    limit = Limit(2, 3600)

    def another_request() -> int:
        with db.unit_of_work() as second:
            return limiter.count(bucket, limit, session=second)[0]

    def a_request_that_fails(pool: ThreadPoolExecutor) -> None:
        with db.unit_of_work() as first:
            limiter.count(bucket, limit, session=first)
            assert _hits(engine, bucket) == 1  # committed already: another connection sees it
            # A second request counts the same bucket while the first is still open: not held up by it.
            assert pool.submit(another_request).result(timeout=5) == 2
            with pytest.raises(RateLimited):  # the third hit passes the limit ...
                hit(limiter, bucket, limit, session=first)
            raise RuntimeError("the request fails and rolls back")

    # (The pool outside: were the second request held up, the first rolls back before the pool waits for it.)
    with ThreadPoolExecutor(1) as pool, pytest.raises(RuntimeError):
        a_request_that_fails(pool)
    assert _hits(engine, bucket) == 3  # ... and a request that rolled back keeps its hits, as in Redis


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_on_sqlite_a_hit_lives_in_the_callers_transaction(engine, bucket):
    db = Database(engine=engine)
    limiter = DatabaseRateLimiter(FrozenClock(START))

    def a_request_that_fails() -> None:
        with db.unit_of_work() as session:
            assert limiter.count(bucket, Limit(2, 3600), session=session)[0] == 1
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        a_request_that_fails()
    assert _hits(engine, bucket) == 0
    with db.unit_of_work() as session:
        assert limiter.count(bucket, Limit(2, 3600), session=session)[0] == 1
    assert _hits(engine, bucket) == 1
