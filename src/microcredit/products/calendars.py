"""The chinesecalendar package as seed data for the institutions' calendars.

The package (``chinesecalendar`` on PyPI, imported as `chinese_calendar`)
carries mainland China's public holidays and make-up working days (调休)
as the State Council publishes them each November or December, for the
years its release covers (2004-2026 in v1.11; a date beyond them raises
`NotImplementedError`). Institutions keep their own copy in a table that
administrators maintain (`products.service.calendar`); this module only
reads the package:

- `package_data()` — every holiday and make-up working day, with its name
  in Chinese and English, and the years covered; what `calendar seed`
  copies into an institution's calendar;
- `package_calendar()` — the same data as the core's `HolidayCalendar`,
  for the offline `microcredit schedule` command, which has no database.

Quotes made through the API use the institution's table, never this module.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import chinese_calendar
from chinese_calendar.constants import Holiday

from microcredit.lending.calendar import HolidayCalendar

__all__ = ["PackageData", "SeedDay", "package_calendar", "package_data"]


@dataclass(frozen=True, slots=True)
class SeedDay:
    """One holiday or make-up working day as the package has it."""

    day: date
    kind: str  # holiday | working_day
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class PackageData:
    """The package's days and the years it covers."""

    version: str
    days: tuple[SeedDay, ...]
    years: frozenset[int]


def _names(english: str) -> tuple[str, str]:
    """Chinese and English names of a holiday the package names in English."""
    try:
        return Holiday(english).chinese, english
    except ValueError:  # a name a later release adds before we know its Chinese
        return english, english


@functools.lru_cache(maxsize=1)
def package_data() -> PackageData:
    """Every holiday and make-up working day of the installed chinesecalendar release."""
    days: list[SeedDay] = []
    for source, kind in ((chinese_calendar.holidays, "holiday"), (chinese_calendar.workdays, "working_day")):
        for day, english in source.items():
            zh, en = _names(str(english))
            days.append(SeedDay(day=day, kind=kind, name_zh=zh, name_en=en))
    days.sort(key=lambda d: d.day)
    years = frozenset(d.day.year for d in days if d.kind == "holiday")
    return PackageData(version=getattr(chinese_calendar, "__version__", "?"), days=tuple(days), years=years)


@functools.lru_cache(maxsize=1)
def package_calendar() -> HolidayCalendar:
    """The package's data as a `HolidayCalendar` (offline use; the API reads the institution's table)."""
    data = package_data()
    return HolidayCalendar(
        name="chinesecalendar",
        holidays=frozenset(d.day for d in data.days if d.kind == "holiday"),
        working_days=frozenset(d.day for d in data.days if d.kind == "working_day"),
        covered_years=data.years,
    )
