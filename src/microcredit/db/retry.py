"""Transient database errors, and how a unit of work is retried after one.

Two requests that write at the same moment must both succeed (or fail for a
reason of their own), never because of each other's timing.  Each database
reports "someone else got there first" its own way:

- SQLite: ``database is locked`` / ``busy`` -- the single writer lock stayed
  taken past the busy timeout;
- PostgreSQL: SQLSTATE 40001, 40P01, 55P03 -- serialization failure,
  deadlock, lock not available;
- MariaDB / MySQL: errors 1213, 1205 -- deadlock, lock wait timeout;
- all: a unique violation (23505, 1062, ``UNIQUE constraint failed``) --
  two units inserted the same key (a sign-in throttle row, a rate-limit
  counter); run again, the loser finds the winner's row;
- all: `StaleDataError` -- an optimistic version check failed: another unit
  changed the row after this one read it.

The remedy is the same for all of them: roll back and run the *whole* unit of
work again, from a fresh session, after a short random pause (full jitter, so
that the units that collided do not collide again in step).  Retries are
bounded (`RetryPolicy.attempts`); when they run out the error goes to the
caller (the API answers 503 `database_busy` for a lock, 409 for a conflict
that persists, which is then the request's own doing).

Nothing outside the transaction may happen inside a retried unit: messages go
to the outbox table (sent after the commit), audit records are rows, and the
API dispatches the outbox only once its unit has committed.  The one mechanism
serves the API (`platform.routing.UnitOfWorkRoute`), commands and workers
(`Database.run`).
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

__all__ = ["DEFAULT_POLICY", "RetryPolicy", "is_busy", "is_transient"]

_PG_TRANSIENT = {"40001", "40P01", "55P03", "23505"}
_MYSQL_TRANSIENT = {1213, 1205, 1062}
_MYSQL_BUSY = {1213, 1205}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most `attempts` runs of a unit; between two, a random pause of up to
    `base_delay` x 2^(attempt - 1) seconds, never more than `max_delay`."""

    attempts: int = 8
    base_delay: float = 0.02
    max_delay: float = 0.5

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError("a retry policy makes at least one attempt and waits a non-negative, bounded time")

    def pause(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based): full jitter."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return (rng or random).uniform(0, ceiling)


DEFAULT_POLICY = RetryPolicy()


def _driver_error(exc: BaseException) -> BaseException | None:
    return exc.orig if isinstance(exc, DBAPIError) else None


def _mysql_code(orig: BaseException) -> int | None:
    args = getattr(orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def is_busy(exc: BaseException) -> bool:
    """A lock held by another unit of work (as opposed to a conflict of data)."""
    orig = _driver_error(exc)
    if orig is None:
        return False
    if isinstance(orig, sqlite3.OperationalError):
        message = str(orig).lower()
        return "locked" in message or "busy" in message
    if getattr(orig, "sqlstate", None) in {"40001", "40P01", "55P03"}:
        return True
    return _mysql_code(orig) in _MYSQL_BUSY


def is_transient(exc: BaseException) -> bool:
    """Whether running the whole unit of work again may succeed (see the table above)."""
    if isinstance(exc, StaleDataError) or is_busy(exc):
        return True
    orig = _driver_error(exc)
    if orig is None:
        return False
    if isinstance(orig, sqlite3.IntegrityError):
        return "unique" in str(orig).lower()
    if getattr(orig, "sqlstate", None) in _PG_TRANSIENT:
        return True
    return _mysql_code(orig) in _MYSQL_TRANSIENT
