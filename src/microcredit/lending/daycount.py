"""Day counts: how many days a period has and what fraction of a year it is.

A convention is a pair (days in month, days in year), the way Apache
Fineract's loan products state it (``daysInMonthType`` / ``daysInYearType``):

| name          | days in month | days in year | year fraction of [d1, d2)               |
|---------------|---------------|--------------|-----------------------------------------|
| ACT/365F      | actual        | 365          | (d2 - d1) / 365                          |
| ACT/360       | actual        | 360          | (d2 - d1) / 360 (PBOC 1999 practice)     |
| ACT/364       | actual        | 364          | (d2 - d1) / 364                          |
| ACT/ACT ISDA  | actual        | actual       | days in leap years / 366 + others / 365  |
| 30/360        | 30            | 360          | 30/360 US "bond basis" (below) / 360     |
| 30/365        | 30            | 365          | bond-basis days / 365                    |

30/360 here is the US *bond basis* (ISDA 2006 §4.16(f)): with D1, D2 the
days of month, D1 = 31 becomes 30, and D2 = 31 becomes 30 when D1 (after
that change) is 30; days = 360 (Y2 - Y1) + 30 (M2 - M1) + (D2 - D1).
February is not treated specially.

Days are counted "算头不算尾" (first day in, last day out): a period from
2025-01-10 to 2025-02-10 has 31 actual days.  The fraction is returned as an
exact integer ratio so interest can be computed without any rounding before
the final one:

    interest = round(balance x rate x numerator / denominator)

Worked example: 10,000 at 12 % for 20 days on ACT/360 is
10,000 x 0.12 x 20 / 360 = 66.666... -> 66.67; on ACT/365F it is 65.75.
ACT/ACT ISDA from 2023-12-01 to 2024-01-31: 31 days in 2023 and 30 days in
2024, so 31/365 + 30/366 = (31 x 366 + 30 x 365) / (365 x 366).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import NamedTuple

from microcredit.lending.money import Money, RoundingPolicy

__all__ = [
    "ACT_360",
    "ACT_364",
    "ACT_365F",
    "ACT_ACT_ISDA",
    "THIRTY_360",
    "DayCount",
    "DaysInMonth",
    "DaysInYear",
    "YearFraction",
    "interest_for",
    "is_leap",
]


class DaysInMonth(StrEnum):
    """Whether a month counts its actual days or 30 (Fineract ``daysInMonthType``)."""

    ACTUAL = "actual"
    THIRTY = "30"


class DaysInYear(StrEnum):
    """The year's length in days (Fineract ``daysInYearType``)."""

    ACTUAL = "actual"
    D360 = "360"
    D364 = "364"
    D365 = "365"


class YearFraction(NamedTuple):
    """An exact fraction of a year: numerator / denominator, both integers."""

    numerator: int
    denominator: int


def interest_for(balance: Money, annual_rate: Decimal, fraction: YearFraction, rounding: RoundingPolicy) -> Money:
    """Interest on `balance` at `annual_rate` for a year fraction, rounded once by the policy."""
    return rounding.times(balance, Fraction(annual_rate) * Fraction(fraction.numerator, fraction.denominator))


def is_leap(year: int) -> bool:
    """Whether `year` is a leap year of the Gregorian calendar."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


_ACT_ACT_DENOMINATOR = 365 * 366
_BASIS = {DaysInYear.ACTUAL: 365, DaysInYear.D360: 360, DaysInYear.D364: 364, DaysInYear.D365: 365}


@dataclass(frozen=True, slots=True)
class DayCount:
    """A day-count convention: days in month (actual/30) and days in year."""

    days_in_month: DaysInMonth
    days_in_year: DaysInYear

    def __post_init__(self) -> None:
        if self.days_in_month is DaysInMonth.THIRTY and self.days_in_year is DaysInYear.ACTUAL:
            raise ValueError("30-day months need a fixed year (360, 364 or 365 days)")

    @property
    def name(self) -> str:
        """The usual market name, e.g. ``ACT/360`` or ``30/360``."""
        month = "30" if self.days_in_month is DaysInMonth.THIRTY else "ACT"
        if self.days_in_year is DaysInYear.ACTUAL:
            return "ACT/ACT ISDA"
        suffix = "F" if self.days_in_year is DaysInYear.D365 and month == "ACT" else ""
        return f"{month}/{self.days_in_year.value}{suffix}"

    @property
    def basis(self) -> int:
        """Days in a year for daily rates; 365 for ACT/ACT (leap days use 366)."""
        return _BASIS[self.days_in_year]

    def days(self, start: date, end: date) -> int:
        """Days from `start` (counted) to `end` (not counted) under this convention."""
        if self.days_in_month is DaysInMonth.THIRTY:
            return thirty_360_days(start, end)
        return (end - start).days

    def year_fraction(self, start: date, end: date) -> YearFraction:
        """The exact fraction of a year from `start` to `end`."""
        if self.days_in_year is DaysInYear.ACTUAL:
            return _act_act_isda(start, end)
        return YearFraction(self.days(start, end), int(self.days_in_year.value))

    def daily_fraction(self, day: date) -> YearFraction:
        """The year fraction of the single day `day` (1/basis, or 1/366 in a leap year)."""
        if self.days_in_year is DaysInYear.ACTUAL:
            return YearFraction(1, 366 if is_leap(day.year) else 365)
        return YearFraction(1, int(self.days_in_year.value))


def thirty_360_days(start: date, end: date) -> int:
    """Days between two dates on the 30/360 US bond basis (ISDA 2006 §4.16(f))."""
    d1 = 30 if start.day == 31 else start.day
    d2 = 30 if end.day == 31 and d1 == 30 else end.day
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def _act_act_isda(start: date, end: date) -> YearFraction:
    if end < start:
        negative = _act_act_isda(end, start)
        return YearFraction(-negative.numerator, negative.denominator)
    leap_days = 0
    other_days = 0
    cursor = start
    while cursor < end:
        year_end = date(cursor.year + 1, 1, 1)
        segment_end = min(year_end, end)
        days = (segment_end - cursor).days
        if is_leap(cursor.year):
            leap_days += days
        else:
            other_days += days
        cursor = segment_end
    return YearFraction(366 * other_days + 365 * leap_days, _ACT_ACT_DENOMINATOR)


ACT_365F = DayCount(DaysInMonth.ACTUAL, DaysInYear.D365)
ACT_360 = DayCount(DaysInMonth.ACTUAL, DaysInYear.D360)
ACT_364 = DayCount(DaysInMonth.ACTUAL, DaysInYear.D364)
ACT_ACT_ISDA = DayCount(DaysInMonth.ACTUAL, DaysInYear.ACTUAL)
THIRTY_360 = DayCount(DaysInMonth.THIRTY, DaysInYear.D360)
