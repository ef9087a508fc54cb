"""Working time: hours counted only within the working day of business days (a service level in
business hours, e.g. "an application waits at most 8 working hours at a level").

Let W(t) be the working seconds from some origin up to the instant t: it grows by one a second
within [opens, closes) of a business day of `calendar` and stands still otherwise (nights,
weekends, holidays). Then, for an SLA of `hours` working hours:

- `due(entered)` is the LATEST instant t with W(t) <= W(entered) + hours: an SLA that ends at the
  close of a day runs out at the next opening, since nothing was owed in between;
- it is breached at `now` exactly when W(now) > W(entered) + hours, that is when now > due;
- `cutoff(now)` is the EARLIEST instant t with W(t) >= W(now) - hours, so that an application
  that entered at `entered` is breached at `now` exactly when entered < cutoff(now) -- one
  comparison a database can make for a whole queue.

Instants are naive local datetimes of the institution's time zone (the caller converts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from microcredit.lending.calendar import HolidayCalendar, is_business_day

__all__ = ["WorkingDay", "cutoff", "due"]

_MAX_DAYS = 3660  # ten years of walking: an SLA of at most 720 hours ends long before


@dataclass(frozen=True, slots=True)
class WorkingDay:
    """The working hours of a business day, [opens, closes)."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        if not self.opens < self.closes:
            raise ValueError("a working day opens before it closes")


def _bounds(day: date, hours: WorkingDay) -> tuple[datetime, datetime]:
    return datetime.combine(day, hours.opens), datetime.combine(day, hours.closes)


def _business_day(start: date, step: int, calendar: HolidayCalendar) -> date:
    """The first business day from `start` (itself included), going forward (1) or back (-1)."""
    day = start
    for _ in range(_MAX_DAYS):
        if is_business_day(day, calendar):
            return day
        day += timedelta(days=step)
    raise ValueError("no business day within ten years")


def due(entered: datetime, hours: float, *, calendar: HolidayCalendar, day: WorkingDay) -> datetime:
    """The latest instant by which `hours` working hours have not yet been exceeded since `entered`."""
    remaining = timedelta(hours=hours)
    current = entered.date()
    for _ in range(_MAX_DAYS):
        if is_business_day(current, calendar):
            opens, closes = _bounds(current, day)
            start = max(entered, opens)
            if start < closes:
                available = closes - start
                if remaining < available:
                    return start + remaining
                remaining -= available
        current += timedelta(days=1)
        if not remaining:  # ran out at a close: the next opening is still within it
            return _next_opening(current, calendar, day)
    raise ValueError("the working time does not end within ten years")


def _next_opening(start: date, calendar: HolidayCalendar, day: WorkingDay) -> datetime:
    return _bounds(_business_day(start, 1, calendar), day)[0]


def _previous_closing(start: date, calendar: HolidayCalendar, day: WorkingDay) -> datetime:
    return _bounds(_business_day(start, -1, calendar), day)[1]


def cutoff(now: datetime, hours: float, *, calendar: HolidayCalendar, day: WorkingDay) -> datetime:
    """The earliest instant from which fewer than `hours` working hours have passed by `now`: whatever
    entered before it is past its SLA at `now`."""
    remaining = timedelta(hours=hours)
    current = now.date()
    for _ in range(_MAX_DAYS):
        if is_business_day(current, calendar):
            opens, closes = _bounds(current, day)
            end = min(now, closes)
            if end > opens:
                available = end - opens
                if remaining < available:
                    return end - remaining
                remaining -= available
        current -= timedelta(days=1)
        if not remaining:  # ran out at an opening: back to the previous closing, nothing passed between
            return _previous_closing(current, calendar, day)
    raise ValueError("the working time does not reach back within ten years")
