"""The institution's holiday calendar: data administrators maintain, seeded from a package.

Each institution keeps its own public holidays and make-up working days
(调休) in `calendar_days`, and in `calendar_years` which years that data is
complete for. A business day is

    (a weekday that is not a holiday) or a make-up working day,

in a covered year; in a year nobody marked covered, only weekends count
(the fallback), and results that rely on such a year carry a
``calendar_not_covered`` warning naming it. Never a crash: the
chinesecalendar package raises for any date after its last year, this table
does not.

- `seed` copies the package's data into an institution, for every year the
  package covers and the institution has no coverage record of yet. Run
  again it does nothing; a year an administrator has touched (or the seed
  already filled) is never re-seeded, so manual edits and deletions stand.
- `add_day`, `update_day`, `delete_day`, `set_year` are the administrator's
  edits, each audited.
- `holiday_calendar` builds the lending core's `HolidayCalendar` value from
  the rows for a span of years; `calendars_of` hands it to a quote. The core
  stays pure: it never reads the table.

Example: an institution seeded from chinesecalendar 1.11 covers 2004-2026.
A loan falling due on Monday 2027-02-08 (inside 2027's Spring Festival)
keeps that date under the ``following`` rule, with a warning naming 2027,
until an administrator enters 2027's holidays (published by the State
Council in November or December 2026) and marks 2027 covered; then the due
date moves to the first working day after the holiday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.errors import NotFound
from microcredit.lending.calendar import WEEKENDS_ONLY, HolidayCalendar
from microcredit.platform.actor import Actor
from microcredit.products import repository as repo
from microcredit.products.calendars import PackageData, package_data
from microcredit.products.errors import (
    CalendarDateOutOfRange,
    CalendarDayExists,
    CalendarNothingToChange,
    UnknownCalendar,
    WorkingDayNotOnWeekend,
)
from microcredit.products.models import CalendarDay, CalendarYear
from microcredit.products.service.quotes import CalendarProvider

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "SeedReport",
    "YearView",
    "add_day",
    "calendars_of",
    "delete_day",
    "holiday_calendar",
    "seed",
    "set_year",
    "update_day",
    "year_view",
]

# The years the calendar keeps: the package starts in 2004, and loans run for decades.
FIRST_YEAR = 2000
LAST_YEAR = 2100
WEEKEND = frozenset({5, 6})  # Saturday, Sunday


@dataclass(frozen=True)
class SeedReport:
    """What a seed did: the years it filled and marked covered, the days it added, the years it left."""

    package_version: str
    years_seeded: tuple[int, ...]
    days_added: int
    years_skipped: tuple[int, ...]


@dataclass(frozen=True)
class YearView:
    """One year of an institution's calendar: its coverage record (if any) and its special days."""

    year: int
    record: CalendarYear | None
    days: list[CalendarDay]

    @property
    def covered(self) -> bool:
        """Whether the year's data is complete."""
        return self.record is not None and self.record.covered


def _check_year(year: int, field: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CalendarDateOutOfRange(field, FIRST_YEAR, LAST_YEAR)


def _check_day(day: date, kind: str) -> None:
    _check_year(day.year, "day")
    if kind == "working_day" and day.weekday() not in WEEKEND:
        raise WorkingDayNotOnWeekend(day, field="kind")


def _as_dict(row: CalendarDay) -> dict[str, Any]:
    return {"day": row.day, "kind": row.kind, "name_zh": row.name_zh, "name_en": row.name_en, "source": row.source}


# --- seeding -------------------------------------------------------------------------------


def seed(*, session: Session, clock: Clock, actor: Actor, institution_id: int,
         data: PackageData | None = None) -> SeedReport:
    """Copy the chinesecalendar package's holidays into the institution's calendar (idempotent).

    Only years the institution has no coverage record for are seeded; within them, a date the
    institution already has an entry for keeps it. Each seeded year is marked covered.
    """
    data = data or package_data()
    known_years = repo.year_numbers(session, institution_id=institution_id)
    years = sorted(y for y in data.years if y not in known_years and FIRST_YEAR <= y <= LAST_YEAR)
    skipped = tuple(sorted(y for y in data.years if y in known_years))
    if not years:
        return SeedReport(data.version, (), 0, skipped)
    wanted = set(years)
    taken = repo.day_dates(session, institution_id=institution_id)
    now = clock.now()
    added = repo.add_days(session, (
        {"institution_id": institution_id, "day": d.day, "kind": d.kind, "name_zh": d.name_zh,
         "name_en": d.name_en, "source": "seeded", "created_at": now, "created_by_user_id": actor.user_id,
         "updated_at": now, "updated_by_user_id": actor.user_id, "version": 1}
        for d in data.days if d.day.year in wanted and d.day not in taken))
    repo.add_years(session, (
        {"institution_id": institution_id, "year": y, "covered": True, "source": "seeded", "updated_at": now,
         "updated_by_user_id": actor.user_id, "version": 1} for y in years))
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="calendar.seeded", entity_type="calendar",
                 entity_id=institution_id, institution_id=institution_id,
                 after={"package": f"chinesecalendar {data.version}", "years": years, "days": added})
    return SeedReport(data.version, tuple(years), added, skipped)


# --- reading -------------------------------------------------------------------------------


def year_view(*, session: Session, institution_id: int, year: int) -> YearView:
    """The institution's calendar for `year`."""
    _check_year(year, "year")
    return YearView(
        year=year,
        record=repo.get_year(session, institution_id=institution_id, year=year),
        days=repo.days_between(session, institution_id=institution_id, first=date(year, 1, 1),
                               last=date(year, 12, 31)),
    )


def holiday_calendar(*, session: Session, institution_id: int, first: date, last: date) -> HolidayCalendar:
    """The lending core's calendar value for the years from `first` to `last`, from the institution's rows.

    Only covered years count as covered; the core falls back to weekends only (and warns) in the
    others, and for any year outside the span.
    """
    first_year, last_year = max(first.year, FIRST_YEAR), min(last.year, LAST_YEAR)
    if first_year > last_year:
        return HolidayCalendar(name=f"institution {institution_id}")
    rows = repo.days_between(session, institution_id=institution_id, first=date(first_year, 1, 1),
                             last=date(last_year, 12, 31))
    covered = [y.year for y in repo.years_between(session, institution_id=institution_id, first=first_year,
                                                  last=last_year) if y.covered]
    return HolidayCalendar(
        name=f"institution {institution_id}",
        holidays=frozenset(r.day for r in rows if r.kind == "holiday"),
        working_days=frozenset(r.day for r in rows if r.kind == "working_day"),
        covered_years=frozenset(covered),
        weekend=WEEKEND,
    )


def calendars_of(*, session: Session, institution_id: int) -> CalendarProvider:
    """The calendars a quote for the institution uses: its own ("cn") or weekends only ("none")."""

    def provide(name: str, first: date, last: date) -> HolidayCalendar:
        if name == "none":
            return WEEKENDS_ONLY
        if name == "cn":
            return holiday_calendar(session=session, institution_id=institution_id, first=first, last=last)
        raise UnknownCalendar(name)

    return provide


# --- administrators' edits -------------------------------------------------------------------


def _day_of(session: Session, institution_id: int, day_id: int) -> CalendarDay:
    row = repo.get_day(session, day_id)
    if row is None or row.institution_id != institution_id:
        raise NotFound()
    return row


def _save(session: Session, day: date, new: CalendarDay | None = None) -> None:
    """Flush (adding `new`), turning a concurrent entry for the same date into the refusal a visible one gets."""
    try:
        with session.begin_nested():
            if new is not None:
                session.add(new)
    except IntegrityError:
        raise CalendarDayExists(day) from None


def add_day(*, session: Session, clock: Clock, actor: Actor, institution_id: int, day: date, kind: str,
            name_zh: str, name_en: str | None = None) -> CalendarDay:
    """Add a holiday or a make-up working day (audited); the year's coverage is not changed."""
    _check_day(day, kind)
    if repo.day_on(session, institution_id=institution_id, day=day) is not None:
        raise CalendarDayExists(day)
    now = clock.now()
    row = CalendarDay(institution_id=institution_id, day=day, kind=kind, name_zh=name_zh, name_en=name_en,
                      source="manual", created_at=now, created_by_user_id=actor.user_id, updated_at=now,
                      updated_by_user_id=actor.user_id)
    _save(session, day, row)
    audit.record(session=session, clock=clock, actor=actor, action="calendar.day_added", entity_type="calendar_day",
                 entity_id=row.id, institution_id=institution_id, after=_as_dict(row))
    return row


def update_day(*, session: Session, clock: Clock, actor: Actor, institution_id: int, day_id: int,
               **values: Any) -> CalendarDay:
    """Change a day's date, kind or names (audited); an edited seeded day becomes manual."""
    row = _day_of(session, institution_id, day_id)
    changes = {k: v for k, v in values.items() if k in ("day", "kind", "name_zh", "name_en") and getattr(row, k) != v}
    if not changes:
        raise CalendarNothingToChange()
    new_day, new_kind = changes.get("day", row.day), changes.get("kind", row.kind)
    _check_day(new_day, new_kind)
    if "day" in changes:
        other = repo.day_on(session, institution_id=institution_id, day=new_day)
        if other is not None and other.id != row.id:
            raise CalendarDayExists(new_day)
    before = {k: getattr(row, k) for k in changes}
    if row.source != "manual":
        before["source"], changes["source"] = row.source, "manual"
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at, row.updated_by_user_id = clock.now(), actor.user_id
    _save(session, new_day)
    audit.record(session=session, clock=clock, actor=actor, action="calendar.day_updated",
                 entity_type="calendar_day", entity_id=row.id, institution_id=institution_id,
                 before=before, after=changes)
    return row


def delete_day(*, session: Session, clock: Clock, actor: Actor, institution_id: int, day_id: int) -> None:
    """Remove a day from the calendar (audited): the date becomes an ordinary day."""
    row = _day_of(session, institution_id, day_id)
    before = _as_dict(row)
    session.delete(row)
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="calendar.day_deleted",
                 entity_type="calendar_day", entity_id=day_id, institution_id=institution_id, before=before)


def set_year(*, session: Session, clock: Clock, actor: Actor, institution_id: int, year: int,
             covered: bool) -> YearView:
    """Mark the institution's data for `year` complete or not (audited; a repeat changes nothing)."""
    _check_year(year, "year")
    record = repo.get_year(session, institution_id=institution_id, year=year)
    if record is None or record.covered != covered:
        before = None if record is None else {"covered": record.covered, "source": record.source}
        now = clock.now()
        if record is None:
            record = CalendarYear(institution_id=institution_id, year=year, covered=covered, source="manual",
                                  updated_at=now, updated_by_user_id=actor.user_id)
            session.add(record)
        else:
            record.covered, record.source = covered, "manual"
            record.updated_at, record.updated_by_user_id = now, actor.user_id
        session.flush()
        audit.record(session=session, clock=clock, actor=actor, action="calendar.year_set",
                     entity_type="calendar_year", entity_id=year, institution_id=institution_id,
                     before=before, after={"year": year, "covered": covered, "source": "manual"})
    return year_view(session=session, institution_id=institution_id, year=year)
