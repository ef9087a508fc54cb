"""Working time (an SLA in business hours): `due` and `cutoff` against a reference that counts the
working seconds of each day one by one, over a calendar with weekends, the 2026 Spring Festival
holidays and a make-up working Sunday."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.calendar import HolidayCalendar, is_business_day
from microcredit.lending.working_time import WorkingDay, cutoff, due

CALENDAR = HolidayCalendar(
    name="test", covered_years=frozenset({2026}),
    holidays=frozenset(date(2026, 2, 15) + timedelta(days=n) for n in range(9)),  # 2-15 .. 2-23
    working_days=frozenset({date(2026, 2, 14), date(2026, 2, 28)}))
DAY = WorkingDay(time(9), time(17, 30))
ORIGIN = datetime(2026, 1, 1)


def worked(t: datetime) -> timedelta:
    """Working time from ORIGIN to `t`, day by day (the reference)."""
    total, day = timedelta(0), ORIGIN.date()
    while day <= t.date():
        if is_business_day(day, CALENDAR):
            opens, closes = datetime.combine(day, DAY.opens), datetime.combine(day, DAY.closes)
            total += max(timedelta(0), min(t, closes) - opens)
        day += timedelta(days=1)
    return total


instants = st.datetimes(min_value=datetime(2026, 1, 20), max_value=datetime(2026, 3, 20)).map(
    lambda t: t.replace(microsecond=0, second=0))
hours = st.integers(1, 60)
SECOND = timedelta(seconds=1)


@given(instants, hours)
def test_due_is_the_last_instant_before_the_hours_are_exceeded(entered: datetime, h: int) -> None:
    end = due(entered, h, calendar=CALENDAR, day=DAY)
    assert worked(end) - worked(entered) == timedelta(hours=h)
    assert worked(end + SECOND) - worked(entered) > timedelta(hours=h)


@given(instants, hours)
def test_cutoff_is_the_first_instant_the_hours_reach_back_to(now: datetime, h: int) -> None:
    start = cutoff(now, h, calendar=CALENDAR, day=DAY)
    assert worked(now) - worked(start) == timedelta(hours=h)
    assert worked(now) - worked(start - SECOND) > timedelta(hours=h)


@given(instants, instants, hours)
def test_breached_by_the_due_time_exactly_when_entered_before_the_cutoff(entered: datetime, now: datetime,
                                                                          h: int) -> None:
    breached = worked(now) - worked(entered) > timedelta(hours=h)
    assert (now > due(entered, h, calendar=CALENDAR, day=DAY)) is breached
    assert (entered < cutoff(now, h, calendar=CALENDAR, day=DAY)) is breached


def test_friday_afternoon_runs_over_the_weekend_and_a_close_runs_to_the_next_opening() -> None:
    friday = datetime(2026, 3, 6, 16, 0)
    assert due(friday, 8, calendar=CALENDAR, day=DAY) == datetime(2026, 3, 9, 15, 30)
    assert due(friday, 1.5, calendar=CALENDAR, day=DAY) == datetime(2026, 3, 9, 9, 0)
    # Entered on a Saturday night: the clock starts at Monday's opening.
    assert due(datetime(2026, 3, 7, 22, 0), 2, calendar=CALENDAR, day=DAY) == datetime(2026, 3, 9, 11, 0)
    # Over the Spring Festival (2-15 .. 2-23 off) from the make-up working Saturday 2-14.
    assert due(datetime(2026, 2, 14, 17, 0), 1, calendar=CALENDAR, day=DAY) == datetime(2026, 2, 24, 9, 30)
    assert cutoff(datetime(2026, 2, 24, 10, 0), 1, calendar=CALENDAR, day=DAY) == datetime(2026, 2, 14, 17, 30)


def test_a_working_day_opens_before_it_closes() -> None:
    with pytest.raises(ValueError, match="opens before it closes"):
        WorkingDay(time(18), time(9))
