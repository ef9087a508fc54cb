"""Business days: a holiday calendar as a value, and due-date adjustment.

A `HolidayCalendar` is data, not a service: the public holidays, the
make-up working days (调休: a Saturday or Sunday declared a working day to
bridge a long holiday), the weekend days, and the years the data covers.
A date is a business day when

    (it is not a weekend day and not a holiday) or it is a make-up working day.

For a date in a year the calendar does not cover, the engine cannot know
the holidays: it falls back to "weekends only" and says so with a
``calendar_not_covered`` warning in the result -- it never crashes.  (The
`chinesecalendar` package, for instance, covers 2004-2026 only.)

Adjustment rules for a due date that is not a business day:

- ``none``: keep the date;
- ``following``: the next business day;
- ``modified_following``: the next business day, unless it falls in the
  next month, then the previous business day;
- ``preceding``: the previous business day;
- ``modified_preceding``: the previous business day, unless it falls in
  the previous month, then the next business day.

Worked example (Chinese calendar 2025): 2025-10-01 to 10-08 is the National
Day / Mid-Autumn holiday, so a due date of 2025-10-01 moves ``following`` to
Thursday 2025-10-09; Sunday 2025-09-28 is a make-up working day, so a due
date on it stays where it is.

Only the due date moves; interest is computed on the unadjusted period
(see `periods`), so a holiday never changes the amount due.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from microcredit.lending.diagnostics import EngineWarning

__all__ = [
    "WEEKENDS_ONLY",
    "AdjustedDate",
    "BusinessDayRule",
    "HolidayCalendar",
    "adjust",
    "is_business_day",
    "year_spans",
]

_ONE_DAY = timedelta(days=1)


class BusinessDayRule(StrEnum):
    """What to do with a due date that is not a business day."""

    NONE = "none"
    FOLLOWING = "following"
    MODIFIED_FOLLOWING = "modified_following"
    PRECEDING = "preceding"
    MODIFIED_PRECEDING = "modified_preceding"


@dataclass(frozen=True)
class HolidayCalendar:
    """Holidays, make-up working days, weekend days and the years the data covers.

    `covered_years` empty with `covers_all_years=True` describes a calendar
    without holidays (weekends only) that is valid for every year.
    """

    name: str
    holidays: frozenset[date] = field(default_factory=frozenset)
    working_days: frozenset[date] = field(default_factory=frozenset)
    covered_years: frozenset[int] = field(default_factory=frozenset)
    weekend: frozenset[int] = frozenset({5, 6})
    covers_all_years: bool = False

    def __post_init__(self) -> None:
        clash = self.holidays & self.working_days
        if clash:
            raise ValueError(f"dates both holiday and working day: {sorted(clash)[:3]}")
        if not self.weekend <= frozenset(range(7)):
            raise ValueError("weekend days are weekday numbers 0 (Monday) .. 6 (Sunday)")

    @classmethod
    def weekends_only(cls, name: str = "weekends") -> HolidayCalendar:
        """A calendar with no holidays, valid for every year."""
        return cls(name=name, covers_all_years=True)

    def covers(self, day: date) -> bool:
        """Whether the calendar has holiday data for the year of `day`."""
        return self.covers_all_years or day.year in self.covered_years


WEEKENDS_ONLY = HolidayCalendar.weekends_only()


def is_business_day(day: date, calendar: HolidayCalendar) -> bool:
    """Whether `day` is a business day (weekends only outside the covered years)."""
    if not calendar.covers(day):
        return day.weekday() not in calendar.weekend
    if day in calendar.working_days:
        return True
    return day.weekday() not in calendar.weekend and day not in calendar.holidays


@dataclass(frozen=True, slots=True)
class AdjustedDate:
    """A date after business-day adjustment, with the original and any warnings."""

    adjusted: date
    unadjusted: date
    warnings: tuple[EngineWarning, ...] = ()


def _step(day: date, calendar: HolidayCalendar, step: timedelta) -> date:
    candidate = day
    for _ in range(366):
        if is_business_day(candidate, calendar):
            return candidate
        try:
            candidate += step
        except OverflowError:
            raise ValueError(f"no business day from {day} to the end of the dates (0001-01-01 to 9999-12-31)") from None
    raise ValueError(f"no business day within a year of {day} in calendar {calendar.name}")


def adjust(day: date, rule: BusinessDayRule, calendar: HolidayCalendar) -> AdjustedDate:
    """Move `day` to a business day by `rule`; warn if the calendar lacks its year."""
    if rule is BusinessDayRule.NONE or is_business_day(day, calendar):
        adjusted = day
    elif rule is BusinessDayRule.FOLLOWING:
        adjusted = _step(day, calendar, _ONE_DAY)
    elif rule is BusinessDayRule.PRECEDING:
        adjusted = _step(day, calendar, -_ONE_DAY)
    elif rule is BusinessDayRule.MODIFIED_FOLLOWING:
        adjusted = _step(day, calendar, _ONE_DAY)
        if adjusted.month != day.month:
            adjusted = _step(day, calendar, -_ONE_DAY)
    else:
        adjusted = _step(day, calendar, -_ONE_DAY)
        if adjusted.month != day.month:
            adjusted = _step(day, calendar, _ONE_DAY)
    warnings: tuple[EngineWarning, ...] = ()
    if rule is not BusinessDayRule.NONE:
        uncovered = sorted({d.year for d in (day, adjusted) if not calendar.covers(d)})
        if uncovered:
            warnings = (calendar_warning(calendar, uncovered[0], day),)
    return AdjustedDate(adjusted=adjusted, unadjusted=day, warnings=warnings)


def year_spans(years: Iterable[int]) -> str:
    """Years as runs: {2004, ..., 2026, 2028} -> "2004-2026, 2028" (an institution may cover a later year first)."""
    spans: list[list[int]] = []
    for year in sorted(set(years)):
        if spans and year == spans[-1][1] + 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def calendar_warning(calendar: HolidayCalendar, year: int, day: date) -> EngineWarning:
    """The warning for a date whose year the calendar does not cover."""
    span = year_spans(calendar.covered_years) or "no years"
    return EngineWarning(
        code="calendar_not_covered",
        message=(f"holiday calendar '{calendar.name}' covers {span}; dates in {year} are adjusted for weekends only"),
        on=day,
    )
