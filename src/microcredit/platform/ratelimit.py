"""Fixed-window rate limits, in Redis when configured, in the database otherwise.

A limit is "at most `limit` hits of `bucket` per `window` seconds". `hit()`
counts one hit and raises `RateLimited` (HTTP 429 with `Retry-After`) when the
count passes the limit. Buckets name what is limited and by what, for example
`login:ip:203.0.113.7` or `sms:phone:<blind index>`; personal data never
appears in a bucket name in clear.

A fixed window does not bound the time *between* two hits (one at 0:59 and one
at 1:01 fall in different windows), so an interval such as "one SMS per 60 s"
is a `cooldown()` instead: the bucket is taken for `seconds` from the hit that
was allowed.

The database counts a hit in a transaction of its own on PostgreSQL and
MariaDB: one `INSERT … ON CONFLICT DO UPDATE … RETURNING` (MariaDB: `ON
DUPLICATE KEY UPDATE … RETURNING`), committed at once on a connection of the
side pool (`db.engine.side_engine`), so the counter's row is locked for that
one statement and not until the caller's commit. Counted so, a hit is
remembered whatever becomes of the request -- a refused request, one that
fails later, and each attempt of a unit of work run again after a transient
error all count -- as the Redis limiter has always done. (Until 5 December
2026 the counter lived in the caller's transaction, so a request that rolled
back forgot its hit; but every request of one bucket -- all the submissions
of one loan officer -- then waited for the one before to commit: 30 of 31
active transactions on that row in `bench/decision.py`. A limit is a bound
on attempts, and an attempt that failed was still made.) On SQLite, whose
writers take turns on the file anyway, the hit is counted in the caller's
transaction, as before: a second connection would wait for the turn its own
request holds.

The cooldowns (`claim`: one SMS per phone and purpose per 60 s) stay in the
caller's transaction on every database: a request that rolls back gives its
hold back, and a held bucket refuses the others until then. The failed logins
count through `count` and are kept either way (`keeps_changes`, see
`microcredit.errors`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, bindparam, delete, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from microcredit.clock import Clock
from microcredit.db.engine import side_engine
from microcredit.db.rows import table_of
from microcredit.errors import RateLimited
from microcredit.platform.models import RateLimitCounter


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits per `window` seconds."""

    limit: int
    window: int


class RateLimiter(Protocol):
    """Counts hits per bucket and window."""

    def count(self, bucket: str, limit: Limit, *, session: Session) -> tuple[int, int]:
        """Add one hit; return (hits in the window so far, seconds until the window ends)."""
        ...

    def peek(self, bucket: str, limit: Limit, *, session: Session) -> tuple[int, int]:
        """Hits so far in the window without adding one."""
        ...

    def reset(self, bucket: str, limit: Limit, *, session: Session) -> None:
        """Forget the hits of the current window."""
        ...

    def claim(self, bucket: str, seconds: int, *, session: Session) -> int:
        """Take `bucket` for `seconds` from now unless it is held; return 0, or the seconds it stays held."""
        ...


def hit(limiter: RateLimiter, bucket: str, limit: Limit, *, session: Session,
        field: str | None = None) -> None:
    """Count a hit and refuse with `RateLimited` once the window's limit is passed."""
    hits, retry_after = limiter.count(bucket, limit, session=session)
    if hits > limit.limit:
        raise RateLimited(retry_after, field=field)


def cooldown(limiter: RateLimiter, bucket: str, seconds: int, *, session: Session,
             field: str | None = None) -> None:
    """At most one hit per `seconds`, counted from the last allowed hit; refuse with `RateLimited` otherwise."""
    wait = limiter.claim(bucket, seconds, session=session)
    if wait > 0:
        raise RateLimited(wait, field=field)


_COUNTERS = table_of(RateLimitCounter)


def _build_upsert(dialect: str) -> Insert:
    """One hit, the window's first or not: insert the row at 1 or add 1 to it, returning the new count."""
    c = _COUNTERS.c
    if dialect == "mysql":
        stmt: Any = mysql.insert(_COUNTERS).on_duplicate_key_update(hits=c.hits + 1)
    else:
        module = postgresql if dialect == "postgresql" else sqlite
        stmt = module.insert(_COUNTERS).on_conflict_do_update(
            index_elements=[c.bucket, c.window_start], set_={"hits": c.hits + 1})
    upsert: Insert = stmt
    return upsert


_UPSERTS = {name: _build_upsert(name) for name in ("postgresql", "sqlite", "mysql")}
_UPSERTS_RETURNING = {name: stmt.returning(_COUNTERS.c.hits) for name, stmt in _UPSERTS.items()}  # built once
_HITS = select(_COUNTERS.c.hits).where(_COUNTERS.c.bucket == bindparam("bucket"),
                                        _COUNTERS.c.window_start == bindparam("window_start"))


def _add_hit(conn: Connection, values: dict[str, Any]) -> int:
    """Count one hit on `conn` (in whatever transaction it is in); the window's count after it."""
    if conn.dialect.insert_returning:
        return int(conn.execute(_UPSERTS_RETURNING[conn.dialect.name], values).scalar_one())
    conn.execute(_UPSERTS[conn.dialect.name], values)  # MySQL: no RETURNING; read back in the same transaction
    return int(conn.execute(_HITS, values).scalar_one())


class DatabaseRateLimiter:
    """Counters in the `rate_limit_counters` table: hits committed on their own (PostgreSQL, MariaDB), or in
    the caller's transaction (SQLite, and tests' sessions joined to an outer transaction); holds always in the
    caller's transaction."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def _window(self, limit: Limit) -> tuple[int, int]:
        now = int(self.clock.now().timestamp())
        start = now - now % limit.window
        return start, start + limit.window - now

    def count(self, bucket: str, limit: Limit, *, session: Session) -> tuple[int, int]:
        start, remaining = self._window(limit)
        values = {"bucket": bucket, "window_start": start, "hits": 1,
                  "expires_at": self.clock.now() + timedelta(seconds=remaining + 1)}
        bind = session.get_bind()
        if isinstance(bind, Engine) and bind.dialect.name != "sqlite":
            side = side_engine(bind)
            if side.dialect.insert_returning:
                with side.connect() as conn:  # autocommit: the statement is its own transaction
                    return _add_hit(conn, values), remaining
            with side.connect().execution_options(isolation_level="READ COMMITTED") as conn, conn.begin():
                return _add_hit(conn, values), remaining
        return _add_hit(session.connection(), values), remaining

    def peek(self, bucket: str, limit: Limit, *, session: Session) -> tuple[int, int]:
        start, remaining = self._window(limit)
        hits = session.scalar(
            select(RateLimitCounter.hits).where(
                RateLimitCounter.bucket == bucket, RateLimitCounter.window_start == start
            )
        )
        return int(hits or 0), remaining

    def reset(self, bucket: str, limit: Limit, *, session: Session) -> None:
        session.execute(delete(RateLimitCounter).where(RateLimitCounter.bucket == bucket))

    def claim(self, bucket: str, seconds: int, *, session: Session) -> int:
        # One row per bucket (window_start 0) whose expires_at is the end of the hold.
        now = self.clock.now()
        row = session.scalar(select(RateLimitCounter).where(
            RateLimitCounter.bucket == bucket, RateLimitCounter.window_start == 0).with_for_update())
        if row is not None and row.expires_at > now:
            return max(1, math.ceil((row.expires_at - now).total_seconds()))
        until = now + timedelta(seconds=seconds)
        if row is not None:
            row.hits, row.expires_at = row.hits + 1, until
            session.flush()
            return 0
        try:
            with session.begin_nested():
                session.add(RateLimitCounter(bucket=bucket, window_start=0, hits=1, expires_at=until))
        except IntegrityError:  # a concurrent request took it first
            return seconds
        return 0

    def purge_expired(self, *, session: Session) -> int:
        """Delete the counters of windows that have ended."""
        result = session.execute(
            delete(RateLimitCounter).where(RateLimitCounter.expires_at < self.clock.now())
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


# KEYS[1] = hold key; ARGV = now, until, ttl. Returns 0 when taken, else the seconds it stays held.
_CLAIM_LUA = """
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
if held > now then return math.ceil(held - now) end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 0
"""


class RedisRateLimiter:
    """Counters in Redis: INCR on a per-window key that expires with the window."""

    def __init__(self, redis: object, clock: Clock, prefix: str = "mc:rl:") -> None:
        self.redis = redis
        self.clock = clock
        self.prefix = prefix
        self._claim = redis.register_script(_CLAIM_LUA)  # type: ignore[attr-defined]

    def _key(self, bucket: str, limit: Limit) -> tuple[str, int]:
        now = int(self.clock.now().timestamp())
        start = now - now % limit.window
        return f"{self.prefix}{bucket}:{limit.window}:{start}", start + limit.window - now

    def count(self, bucket: str, limit: Limit, *, session: Session) -> tuple[int, int]:
        key, remaining = self._key(bucket, limit)
        pipe = self.redis.pipeline()  # type: ignore[attr-defined]
        pipe.incr(key)
        pipe.expire(key, limit.window + 1)
        hits, _ = pipe.execute()
        return int(hits), remaining

    def peek(self, bucket: str, limit: Limit, *, session: Session) -> tuple[int, int]:
        key, remaining = self._key(bucket, limit)
        value = self.redis.get(key)  # type: ignore[attr-defined]
        return int(value or 0), remaining

    def reset(self, bucket: str, limit: Limit, *, session: Session) -> None:
        key, _ = self._key(bucket, limit)
        self.redis.delete(key)  # type: ignore[attr-defined]

    def claim(self, bucket: str, seconds: int, *, session: Session) -> int:
        # The hold's end is compared with our clock (not Redis's), so a test clock governs it too.
        now = self.clock.now().timestamp()
        wait = self._claim(keys=[f"{self.prefix}{bucket}:hold"], args=[repr(now), repr(now + seconds), seconds + 1])
        return int(wait)
