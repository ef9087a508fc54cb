"""Repayment periods: due dates, month ends, broken first periods.

A loan's term is cut into periods.  Period k runs from its start (counted)
to its end (not counted); its due date is the end moved to a business day
by the product's rule (`calendar.adjust`).  Interest always accrues over
the *unadjusted* period, so a holiday moves the payment, not the amount.

Frequencies: every N days, weeks, months (monthly, quarterly = 3 months) or
years.  Dates are always derived from one anchor, never chained:

    end_k = anchor + k x (N units)

so 31 Jan + 1 month = 28 Feb (29 in a leap year), + 2 months = 31 Mar --
chaining would wrongly give 28 Mar.  With the ``end_of_month`` rule an
anchor on a month's last day keeps every due date on a month end (28 Feb ->
31 Mar -> 30 Apr).

Broken first period: when a first due date is given and it is not one
period after the start (e.g. disbursed 2025-01-10, first due 2025-02-20),
period 1 runs 2025-01-10 -> 2025-02-20 (41 days) and is marked irregular;
its interest is computed on actual days.  Later due dates derive from the
first due date (2025-03-20, 2025-04-20, ...).

Due-date rules:

- ``anniversary``: due dates fall on the start date's day of month (or the
  first due date's);
- ``twentieth_of_period_end``: the PBOC 1999 settlement rule -- the 20th of
  each month (monthly) or of the last month of each quarter (3/20, 6/20,
  9/20, 12/20); the loan still matures on its anniversary, so the first and
  last periods are usually broken.  Example: start 2025-01-10, quarterly,
  one year: 01-10 -> 03-20 -> 06-20 -> 09-20 -> 12-20 -> 2026-01-10.
"""

from __future__ import annotations

import calendar as _calendar
import functools
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import repeat
from typing import NamedTuple

from microcredit.lending.calendar import (
    BusinessDayRule,
    HolidayCalendar,
    adjust,
)
from microcredit.lending.daycount import YearFraction
from microcredit.lending.diagnostics import EngineWarning

__all__ = [
    "DueDateRule",
    "Frequency",
    "MonthEndRule",
    "Period",
    "PeriodPlan",
    "PeriodSpec",
    "PeriodUnit",
    "add_units",
    "generate_periods",
]


class PeriodUnit(StrEnum):
    """The unit a repayment frequency counts in (Fineract ``repaymentFrequencyType``)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class Frequency:
    """Repayment every `every` `unit`s (Fineract ``repaymentEvery``)."""

    unit: PeriodUnit
    every: int = 1

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError("a frequency repeats every 1 or more units")

    @classmethod
    def monthly(cls) -> Frequency:
        """Every month."""
        return cls(PeriodUnit.MONTH, 1)

    @classmethod
    def quarterly(cls) -> Frequency:
        """Every three months."""
        return cls(PeriodUnit.MONTH, 3)

    @classmethod
    def weekly(cls) -> Frequency:
        """Every week."""
        return cls(PeriodUnit.WEEK, 1)

    @classmethod
    def biweekly(cls) -> Frequency:
        """Every two weeks."""
        return cls(PeriodUnit.WEEK, 2)

    @classmethod
    def daily(cls) -> Frequency:
        """Every day."""
        return cls(PeriodUnit.DAY, 1)

    def year_fraction(self, day_basis: int) -> YearFraction:
        """One regular period as a fraction of a year: N/12, N/52, N/basis or N/1."""
        unit = self.unit
        if unit is PeriodUnit.MONTH:
            return YearFraction(self.every, 12)
        if unit is PeriodUnit.WEEK:
            return YearFraction(self.every, 52)
        return YearFraction(self.every, day_basis if unit is PeriodUnit.DAY else 1)


class DueDateRule(StrEnum):
    """Where due dates fall."""

    ANNIVERSARY = "anniversary"
    TWENTIETH_OF_PERIOD_END = "twentieth_of_period_end"


class MonthEndRule(StrEnum):
    """Month-end handling: clamp the anchor's day, or stick to month ends."""

    SAME_DAY = "same_day"
    END_OF_MONTH = "end_of_month"


_new_period = tuple.__new__
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and _calendar.isleap(year):
        return 29
    return _MONTH_DAYS[month - 1]


def add_units(
    anchor: date,
    unit: PeriodUnit,
    count: int,
    month_end: MonthEndRule = MonthEndRule.SAME_DAY,
) -> date:
    """`anchor` plus `count` units, derived from the anchor (31 Jan + 1 month = 28/29 Feb)."""
    if unit is PeriodUnit.DAY or unit is PeriodUnit.WEEK:
        try:
            return anchor + timedelta(days=count * (7 if unit is PeriodUnit.WEEK else 1))
        except OverflowError:
            raise ValueError(f"{anchor} + {count} {unit.value}s is beyond 9999-12-31") from None
    months = count * (12 if unit is PeriodUnit.YEAR else 1)
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = _days_in_month(year, month)
    if month_end is MonthEndRule.END_OF_MONTH and anchor.day == _days_in_month(anchor.year, anchor.month):
        return date(year, month, last)
    return date(year, month, anchor.day if anchor.day < last else last)


class Period(NamedTuple):
    """One repayment period: accrual start (in) to end (out), and its due date.

    A named tuple rather than a frozen dataclass: one is built per period of
    every loan, and a tuple is several times cheaper to build.
    """

    number: int
    start: date
    end: date
    due_date: date
    days: int
    regular: bool


@dataclass(frozen=True, slots=True)
class PeriodSpec:
    """What the periods of a loan look like: start, frequency, count, date rules."""

    start: date
    frequency: Frequency
    count: int
    first_due_date: date | None = None
    due_date_rule: DueDateRule = DueDateRule.ANNIVERSARY
    month_end: MonthEndRule = MonthEndRule.SAME_DAY
    business_day_rule: BusinessDayRule = BusinessDayRule.NONE

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("a loan has at least one period")
        if self.first_due_date is not None and self.first_due_date <= self.start:
            raise ValueError("the first due date must be after the start date")
        if self.due_date_rule is DueDateRule.TWENTIETH_OF_PERIOD_END and self.frequency.unit is not PeriodUnit.MONTH:
            raise ValueError("the 20th-of-period-end rule needs a monthly or quarterly frequency")
        if self.due_date_rule is DueDateRule.TWENTIETH_OF_PERIOD_END and self.first_due_date:
            raise ValueError("the 20th-of-period-end rule fixes the first due date itself")

    @property
    def maturity(self) -> date:
        """The contractual end of the term (unadjusted)."""
        if self.first_due_date is not None:
            return self.at(self.first_due_date, self.count - 1)
        return self.at(self.start, self.count)

    def at(self, anchor: date, steps: int) -> date:
        """`anchor` plus `steps` periods of the spec's frequency."""
        unit, every = self.frequency.unit, self.frequency.every
        return add_units(anchor, unit, steps * every, self.month_end)


@dataclass(frozen=True)
class PeriodPlan:
    """The dates of a loan's periods as columns, and any warnings met while dating them.

    Columns keep a memoised plan small; `periods` builds the `Period` rows on
    first use (and `count`, `regular` are computed once per plan).
    """

    due_dates: tuple[date, ...]
    starts: tuple[date, ...]
    ends: tuple[date, ...]
    days: tuple[int, ...]
    regular_flags: tuple[bool, ...]
    warnings: tuple[EngineWarning, ...] = ()

    @functools.cached_property
    def count(self) -> int:
        """The number of periods."""
        return len(self.ends)

    @functools.cached_property
    def regular(self) -> bool:
        """Whether every period is a regular one (no broken period)."""
        return all(self.regular_flags)

    @functools.cached_property
    def periods(self) -> tuple[Period, ...]:
        """The periods as rows."""
        count = len(self.ends)
        columns = zip(
            range(1, count + 1),
            self.starts,
            self.ends,
            self.due_dates,
            self.days,
            self.regular_flags,
            strict=True,
        )
        return tuple(map(_new_period, repeat(Period, count), columns))

    @classmethod
    def of(cls, periods: tuple[Period, ...], warnings: tuple[EngineWarning, ...] = ()) -> PeriodPlan:
        """A plan holding `periods` (renumbering is the caller's business)."""
        return cls(
            due_dates=tuple(p.due_date for p in periods),
            starts=tuple(p.start for p in periods),
            ends=tuple(p.end for p in periods),
            days=tuple(p.days for p in periods),
            regular_flags=tuple(p.regular for p in periods),
            warnings=warnings,
        )


def _period_ends(spec: PeriodSpec) -> list[tuple[date, bool]]:
    """Unadjusted period ends with a flag saying whether the period is regular."""
    if spec.due_date_rule is DueDateRule.TWENTIETH_OF_PERIOD_END:
        return _twentieth_ends(spec)
    ends: list[tuple[date, bool]] = []
    if spec.first_due_date is None:
        return [(end, True) for end in _series(spec, spec.start, 1, spec.count)]
    first = spec.first_due_date
    first_regular = spec.at(spec.start, 1) == first or spec.at(first, -1) == spec.start
    ends.append((first, first_regular))
    ends.extend((end, True) for end in _series(spec, first, 1, spec.count - 1))
    return ends


def _series(spec: PeriodSpec, anchor: date, first: int, count: int) -> list[date]:
    """anchor + k periods for k = first .. first + count - 1, each derived from the anchor."""
    unit = spec.frequency.unit
    if unit is not PeriodUnit.MONTH or spec.month_end is MonthEndRule.END_OF_MONTH:
        return [spec.at(anchor, k) for k in range(first, first + count)]
    every = spec.frequency.every
    base = anchor.year * 12 + anchor.month - 1
    day = anchor.day
    out: list[date] = []
    for index in range(base + first * every, base + (first + count) * every, every):
        year, month0 = divmod(index, 12)
        if day > 28:  # every month has a 28th; only later days may need the clamp
            last = _days_in_month(year, month0 + 1)
            out.append(date(year, month0 + 1, day if day < last else last))
        else:
            out.append(date(year, month0 + 1, day))
    return out


def _twentieth_ends(spec: PeriodSpec) -> list[tuple[date, bool]]:
    every = spec.frequency.every
    maturity = spec.at(spec.start, spec.count)
    ends: list[tuple[date, bool]] = []
    cursor = date(spec.start.year, spec.start.month, 20)
    previous = spec.start
    while True:
        if cursor > previous and cursor.month % every == 0:
            if cursor >= maturity:
                break
            regular = previous.day == 20 and add_units(previous, PeriodUnit.MONTH, every) == cursor
            ends.append((cursor, regular))
            previous = cursor
        cursor = add_units(cursor, PeriodUnit.MONTH, 1)
    regular = previous.day == 20 and add_units(previous, PeriodUnit.MONTH, every) == maturity
    ends.append((maturity, regular))
    return ends


@functools.lru_cache(maxsize=16384)
def generate_periods(spec: PeriodSpec, calendar: HolidayCalendar) -> PeriodPlan:
    """Cut the term into periods and date them (pure; memoised on its arguments).

    Loans disbursed on the same day with the same term share their dates, so
    a portfolio's schedules reuse a few thousand plans (about 1.5 kB each).
    """
    pairs = _period_ends(spec)
    ends = [end for end, _ in pairs]
    starts = [spec.start, *ends[:-1]]
    warnings: list[EngineWarning] = []
    rule = spec.business_day_rule
    if rule is BusinessDayRule.NONE:
        dues = ends
    else:
        dues = []
        warned_years: set[int] = set()
        for end in ends:
            adjusted = adjust(end, rule, calendar)
            dues.append(adjusted.adjusted)
            for warning in adjusted.warnings:
                year = warning.on.year if warning.on else 0
                if year not in warned_years:
                    warned_years.add(year)
                    warnings.append(warning)
    return PeriodPlan(
        due_dates=tuple(dues),
        starts=tuple(starts),
        ends=tuple(ends),
        days=tuple((end - start).days for start, end in zip(starts, ends, strict=True)),
        regular_flags=tuple(flag for _, flag in pairs),
        warnings=tuple(warnings),
    )
