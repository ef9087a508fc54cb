"""A group's meeting dates: every date returned is a meeting, in order, none skipped; the first meeting a
synced loan falls due on; which loan frequencies match which meetings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.meetings import (
    MeetingFrequency,
    first_meeting_after,
    frequency_matches,
    is_meeting,
    meetings_from,
)

FREQUENCIES = st.sampled_from(list(MeetingFrequency))
DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


def _first(frequency: MeetingFrequency, day: date) -> date:
    return day.replace(day=min(day.day, 28)) if frequency is MeetingFrequency.MONTHLY else day


def _brute(frequency: MeetingFrequency, first: date, since: date, until: date) -> list[date]:
    """Every meeting in [since, until] by walking day by day: the group meets on `first`'s weekday (every
    7 days, or every 14 days from it) or on its day of the month, from `first` on."""
    out, day = [], max(since, first)
    while day <= until:
        if frequency is MeetingFrequency.MONTHLY:
            hit = day.day == first.day
        else:
            hit = (day - first).days % (7 if frequency is MeetingFrequency.WEEKLY else 14) == 0
        if hit:
            out.append(day)
        day += timedelta(days=1)
    return out


@given(frequency=FREQUENCIES, first=DAYS, since=DAYS, count=st.integers(min_value=1, max_value=8))
def test_meetings_are_meetings_in_order_none_skipped(frequency, first, since, count):
    first = _first(frequency, first)
    got = meetings_from(frequency, first, since, count)
    assert len(got) == count
    assert got[0] >= since
    assert got[0] >= first
    # Exactly the meetings a day-by-day walk finds from `since` to the last one returned: none skipped.
    assert got == _brute(frequency, first, since, got[-1])
    assert all(is_meeting(frequency, first, d) for d in got)


@given(frequency=FREQUENCIES, first=DAYS, payout=DAYS, min_days=st.integers(min_value=0, max_value=40))
def test_the_first_due_meeting_is_the_first_far_enough_after_the_payout(frequency, first, payout, min_days):
    first = _first(frequency, first)
    due = first_meeting_after(frequency, first, payout, min_days)
    earliest = payout + timedelta(days=max(min_days, 1))
    assert due >= earliest
    assert is_meeting(frequency, first, due)
    # No meeting between the earliest allowed day and it.
    assert _brute(frequency, first, earliest, due) == [due]


def test_worked_examples():
    # Monthly on the 3rd: paid out 11-28 with a week's minimum, 12-03 is too soon.
    assert first_meeting_after(MeetingFrequency.MONTHLY, date(2026, 12, 3), date(2026, 11, 28), 7) == \
        date(2027, 1, 3)
    assert meetings_from(MeetingFrequency.MONTHLY, date(2026, 1, 28), date(2026, 2, 1), 3) == [
        date(2026, 2, 28), date(2026, 3, 28), date(2026, 4, 28)]
    # Fortnightly from Friday 2026-11-20: 12-04 is one, 11-27 is not.
    assert meetings_from(MeetingFrequency.FORTNIGHTLY, date(2026, 11, 20), date(2026, 11, 21), 2) == [
        date(2026, 12, 4), date(2026, 12, 18)]
    # Never before the first meeting.
    assert meetings_from(MeetingFrequency.WEEKLY, date(2026, 11, 20), date(2026, 1, 1), 1) == [date(2026, 11, 20)]


def test_a_monthly_meeting_after_the_28th_is_refused():
    with pytest.raises(ValueError, match="1-28"):
        meetings_from(MeetingFrequency.MONTHLY, date(2026, 1, 29), date(2026, 1, 1), 1)


@pytest.mark.parametrize(("frequency", "unit", "every", "matches"), [
    (MeetingFrequency.MONTHLY, "month", 1, True), (MeetingFrequency.MONTHLY, "month", 3, False),
    (MeetingFrequency.MONTHLY, "week", 4, False), (MeetingFrequency.WEEKLY, "week", 1, True),
    (MeetingFrequency.WEEKLY, "week", 2, False), (MeetingFrequency.FORTNIGHTLY, "week", 2, True),
    (MeetingFrequency.FORTNIGHTLY, "day", 14, False)])
def test_which_loan_frequencies_match(frequency, unit, every, matches):
    assert frequency_matches(frequency, unit, every) is matches
