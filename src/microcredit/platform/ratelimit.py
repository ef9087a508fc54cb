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

The database counter lives in the caller's transaction, so a refused request
that rolls back also forgets its hit; the refusals that must be remembered
(failed logins) are errors that keep their changes (see `microcredit.errors`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microcredit.clock import Clock
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


class DatabaseRateLimiter:
    """Counters in the `rate_limit_counters` table, inside the caller's transaction."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def _window(self, limit: Limit) -> tuple[int, int]:
        now = int(self.clock.now().timestamp())
        start = now - now % limit.window
        return start, start + limit.window - now

    def count(self, bucket: str, limit: Limit, *, session: Session) -> tuple[int, int]:
        start, remaining = self._window(limit)
        stmt = (
            update(RateLimitCounter)
            .where(RateLimitCounter.bucket == bucket, RateLimitCounter.window_start == start)
            .values(hits=RateLimitCounter.hits + 1)
        )
        if session.get_bind().dialect.update_returning:  # the raised count from the same statement
            raised = session.execute(stmt.returning(RateLimitCounter.hits)).scalar_one_or_none()
            if raised is not None:
                return int(raised), remaining
        elif session.execute(stmt).rowcount:  # type: ignore[attr-defined]
            return self._hits(session, bucket, start), remaining
        try:  # the window's first hit
            with session.begin_nested():
                session.add(RateLimitCounter(
                    bucket=bucket, window_start=start, hits=1,
                    expires_at=self.clock.now() + timedelta(seconds=remaining + 1),
                ))
        except IntegrityError:  # a concurrent request created the row first
            session.execute(stmt)
        return self._hits(session, bucket, start), remaining

    @staticmethod
    def _hits(session: Session, bucket: str, start: int) -> int:
        return int(session.scalar(select(RateLimitCounter.hits).where(
            RateLimitCounter.bucket == bucket, RateLimitCounter.window_start == start)) or 0)

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
