"""Which dates the nightly close of business closes at a given local time (pure)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from microcredit.cob.service.schedule import due_dates

TWO = time(2, 0)


def test_yesterday_is_closed_at_the_close_time_not_a_minute_before():
    # 01:59 on the 3rd: the 2nd is closed tonight at 02:00, not yet; the 1st is the business date already
    assert due_dates(business_date=date(2026, 12, 1), local_now=datetime(2026, 12, 3, 1, 59), close_at=TWO) == []
    assert due_dates(business_date=date(2026, 12, 1), local_now=datetime(2026, 12, 3, 2, 0), close_at=TWO) == [
        date(2026, 12, 2)]


def test_missed_nights_are_closed_in_order_and_nothing_is_closed_twice():
    assert due_dates(business_date=date(2026, 11, 27), local_now=datetime(2026, 12, 1, 23, 0), close_at=TWO) == [
        date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)]
    assert due_dates(business_date=date(2026, 11, 30), local_now=datetime(2026, 12, 1, 23, 0), close_at=TWO) == []
    # a business date set ahead by hand (a test installation) is left alone
    assert due_dates(business_date=date(2026, 12, 5), local_now=datetime(2026, 12, 1, 23, 0), close_at=TWO) == []


@given(business=st.dates(date(2020, 1, 1), date(2030, 1, 1)), ahead=st.integers(-5, 40),
       minute=st.integers(0, 24 * 60 - 1), close=st.times())
def test_the_dates_run_on_from_the_business_date_through_the_last_closable_day(business, ahead, minute, close):
    now = datetime.combine(business + timedelta(days=ahead), time()) + timedelta(minutes=minute)
    days = due_dates(business_date=business, local_now=now, close_at=close)
    last = now.date() - timedelta(days=1 if now.time() >= close else 2)
    assert days == [business + timedelta(days=n + 1) for n in range(len(days))]  # contiguous, after the date
    assert (days[-1] == last) if days else (last <= business)  # up to the last closable day, never past it
