"""A joint-liability group's meeting dates, and the first of them a loan's repayments can start on.

A group (小组联保, Grameen style) meets at a fixed place and time; its members repay there and the
loan officer collects. A schedule is a frequency and a first meeting:

- ``weekly``: every 7 days from the first meeting (its weekday);
- ``fortnightly``: every 14 days from it;
- ``monthly``: the first meeting's day of the month, every month. Days after the 28th are refused, so
  every month has the day and no meeting is ever clamped or skipped.

Meeting k is derived from the first meeting (``first + k × period``), never chained from the one
before.

A loan synced to the meetings (Apache Fineract's ``syncRepaymentsWithMeeting``) has its first due date
on the first meeting at least `min_days` days after the payout (Fineract's
``minimumDaysBetweenDisbursalAndFirstRepayment``: ``LoanScheduleAssembler.deriveFirstRepaymentDate``
takes the first meeting after the disbursement, ``CalendarUtils.getFirstRepaymentMeetingDate``, and
moves on a meeting while it is too close; its check of a date given by hand,
``validateMinimumDaysBetweenDisbursalAndFirstRepayment``, accepts exactly the minimum, as we do), never
on the payout day itself.
Only a loan repaid once per meeting period can be synced: monthly meetings ↔ every month, weekly ↔
every week, fortnightly ↔ every two weeks.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from microcredit.lending.periods import PeriodUnit, add_units

__all__ = [
    "LAST_MONTH_DAY",
    "MeetingFrequency",
    "first_meeting_after",
    "frequency_matches",
    "is_meeting",
    "meeting_at",
    "meetings_from",
]

LAST_MONTH_DAY = 28  # the last day of the month a monthly meeting may fall on: every month has it


class MeetingFrequency(StrEnum):
    """How often a group meets."""

    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"


_DAYS = {MeetingFrequency.WEEKLY: 7, MeetingFrequency.FORTNIGHTLY: 14}
# The loan frequency (unit, every) each meeting frequency serves.
_LOAN_FREQUENCY = {MeetingFrequency.WEEKLY: (PeriodUnit.WEEK, 1), MeetingFrequency.FORTNIGHTLY: (PeriodUnit.WEEK, 2),
                   MeetingFrequency.MONTHLY: (PeriodUnit.MONTH, 1)}


def _check(frequency: MeetingFrequency, first: date) -> None:
    if frequency is MeetingFrequency.MONTHLY and first.day > LAST_MONTH_DAY:
        raise ValueError(f"a monthly meeting falls on day 1-{LAST_MONTH_DAY}")


def meeting_at(frequency: MeetingFrequency, first: date, k: int) -> date:
    """Meeting number `k` (0: the first)."""
    _check(frequency, first)
    if frequency is MeetingFrequency.MONTHLY:
        return add_units(first, PeriodUnit.MONTH, k)
    return first + timedelta(days=_DAYS[frequency] * k)


def _index_on_or_after(frequency: MeetingFrequency, first: date, day: date) -> int:
    """The number of the first meeting on or after `day`."""
    if day <= first:
        return 0
    if frequency is MeetingFrequency.MONTHLY:
        k = (day.year - first.year) * 12 + day.month - first.month
        return k if day.day <= first.day else k + 1
    return -(-(day - first).days // _DAYS[frequency])


def meetings_from(frequency: MeetingFrequency, first: date, day: date, count: int) -> list[date]:
    """The `count` meetings on or after `day`, in order (none before the first meeting)."""
    _check(frequency, first)
    k = _index_on_or_after(frequency, first, day)
    return [meeting_at(frequency, first, k + i) for i in range(count)]


def is_meeting(frequency: MeetingFrequency, first: date, day: date) -> bool:
    """Whether the group meets on `day`."""
    return meetings_from(frequency, first, day, 1)[0] == day


def first_meeting_after(frequency: MeetingFrequency, first: date, payout: date, min_days: int) -> date:
    """The first meeting at least `min_days` days (and at least one day) after the payout."""
    return meetings_from(frequency, first, payout + timedelta(days=max(min_days, 1)), 1)[0]


def frequency_matches(frequency: MeetingFrequency, unit: str, every: int) -> bool:
    """Whether a loan repaid every `every` `unit`s has one installment per meeting."""
    return _LOAN_FREQUENCY[frequency] == (PeriodUnit(unit), every)
