"""The clock: the only source of wall-clock time in the code.

Two kinds of time matter in lending and they must not be confused:

* **wall-clock time** — when something happened, as a UTC timestamp (logins,
  audit records, session expiry). It comes from `Clock.now()`.
* **the business date** — the date close of business (COB) has reached for an
  institution. Interest, due dates and days past due are computed against it,
  never against the calendar on the wall. It is persisted per institution
  (see `parties.service.business_date`) and moves only when COB advances it,
  or, in demo and test installations, when an administrator sets it.

Code receives a `Clock` by injection. Tests use `FrozenClock` and move it.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Gives the current UTC time."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until told to move (tests, simulations)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._at = at.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The frozen time."""
        with self._lock:
            return self._at

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by `delta`."""
        with self._lock:
            self._at += delta

    def set(self, at: datetime) -> None:
        """Put the clock at `at`."""
        with self._lock:
            self._at = at.astimezone(UTC)


def local_date(clock: Clock, zone: str | tzinfo = "Asia/Shanghai") -> date:
    """The calendar date on the wall in `zone` (not the business date)."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return clock.now().astimezone(tz).date()
