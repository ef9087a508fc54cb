"""Fixed-window rate limits, in Redis when configured, in the database otherwise.

A limit is "at most `limit` hits of `bucket` per `window` seconds". `hit()`
counts one hit and raises `RateLimited` (HTTP 429 with `Retry-After`) when the
count passes the limit. Buckets name what is limited and by what, for example
`login:ip:203.0.113.7` or `sms:phone:<blind index>`; personal data never
appears in a bucket name in clear.

The database counter lives in the caller's transaction, so a refused request
that rolls back also forgets its hit; the refusals that must be remembered
(failed logins) are errors that keep their changes (see `microcredit.errors`).
"""

from __future__ import annotations

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


def hit(limiter: RateLimiter, bucket: str, limit: Limit, *, session: Session,
        field: str | None = None) -> None:
    """Count a hit and refuse with `RateLimited` once the window's limit is passed."""
    hits, retry_after = limiter.count(bucket, limit, session=session)
    if hits > limit.limit:
        raise RateLimited(retry_after, field=field)


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
        if session.execute(stmt).rowcount == 0:  # type: ignore[attr-defined]
            try:
                with session.begin_nested():
                    session.add(RateLimitCounter(
                        bucket=bucket, window_start=start, hits=1,
                        expires_at=self.clock.now() + timedelta(seconds=remaining + 1),
                    ))
            except IntegrityError:  # a concurrent request created the row first
                session.execute(stmt)
        hits = session.scalar(
            select(RateLimitCounter.hits).where(
                RateLimitCounter.bucket == bucket, RateLimitCounter.window_start == start
            )
        )
        return int(hits or 0), remaining

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

    def purge_expired(self, *, session: Session) -> int:
        """Delete the counters of windows that have ended."""
        result = session.execute(
            delete(RateLimitCounter).where(RateLimitCounter.expires_at < self.clock.now())
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class RedisRateLimiter:
    """Counters in Redis: INCR on a per-window key that expires with the window."""

    def __init__(self, redis: object, clock: Clock, prefix: str = "mc:rl:") -> None:
        self.redis = redis
        self.clock = clock
        self.prefix = prefix

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
