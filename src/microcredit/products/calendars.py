"""Holiday calendars for the lending core, built from maintained data.

`china_calendar()` turns the `chinesecalendar` package (holidays and make-up
working days 调休 as published by the State Council) into the core's
`HolidayCalendar` value, for the years the package covers (2004-2026 in
v1.11).  Dates beyond them fall back to weekends only, and every result
that relies on them carries a ``calendar_not_covered`` warning: the core
never asks the package about a year it does not know (it would raise).

Institutions maintain their own calendar data later (a table edited by
administrators, seeded from this); `calendar_for` is the seam where that
source plugs in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import chinese_calendar

from microcredit.lending.calendar import WEEKENDS_ONLY, HolidayCalendar
from microcredit.products.errors import UnknownCalendar

__all__ = ["CALENDARS", "calendar_for", "china_calendar"]


@functools.lru_cache(maxsize=1)
def china_calendar() -> HolidayCalendar:
    """Mainland China's public holidays and make-up working days, for the covered years."""
    holidays = frozenset(chinese_calendar.holidays)
    working_days = frozenset(chinese_calendar.workdays)
    first = min(min(holidays), min(working_days)).year
    last = max(max(holidays), max(working_days)).year
    return HolidayCalendar(
        name="cn",
        holidays=holidays,
        working_days=working_days,
        covered_years=frozenset(range(first, last + 1)),
    )


def _weekends() -> HolidayCalendar:
    return WEEKENDS_ONLY


CALENDARS: dict[str, Callable[[], HolidayCalendar]] = {"cn": china_calendar, "none": _weekends}


def calendar_for(name: str) -> HolidayCalendar:
    """The holiday calendar called `name` ("cn" or "none")."""
    try:
        return CALENDARS[name]()
    except KeyError:
        raise UnknownCalendar(name) from None
