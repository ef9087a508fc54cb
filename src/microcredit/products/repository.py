"""Every query of the products domain: the institutions' calendar days and covered years."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from microcredit.products.models import CalendarDay, CalendarYear


def get_day(session: Session, day_id: int) -> CalendarDay | None:
    """The calendar day with this id."""
    return session.get(CalendarDay, day_id)


def day_on(session: Session, *, institution_id: int, day: date) -> CalendarDay | None:
    """The institution's calendar entry for `day`, if it has one."""
    return session.scalar(select(CalendarDay).where(CalendarDay.institution_id == institution_id,
                                                    CalendarDay.day == day))


def days_between(session: Session, *, institution_id: int, first: date, last: date) -> list[CalendarDay]:
    """The institution's calendar entries from `first` to `last` (inclusive), by date."""
    return list(session.scalars(
        select(CalendarDay)
        .where(CalendarDay.institution_id == institution_id, CalendarDay.day >= first, CalendarDay.day <= last)
        .order_by(CalendarDay.day)))


def day_dates(session: Session, *, institution_id: int) -> set[date]:
    """Every date the institution's calendar has an entry for."""
    return set(session.scalars(select(CalendarDay.day).where(CalendarDay.institution_id == institution_id)))


def add_days(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert calendar days in one statement per batch; returns how many."""
    values = list(rows)
    if values:
        session.execute(insert(CalendarDay), values)
    return len(values)


def get_year(session: Session, *, institution_id: int, year: int) -> CalendarYear | None:
    """The institution's coverage record of `year`, if it has one."""
    return session.scalar(select(CalendarYear).where(CalendarYear.institution_id == institution_id,
                                                     CalendarYear.year == year))


def years_between(session: Session, *, institution_id: int, first: int, last: int) -> list[CalendarYear]:
    """The institution's coverage records from year `first` to `last`, by year."""
    return list(session.scalars(
        select(CalendarYear)
        .where(CalendarYear.institution_id == institution_id, CalendarYear.year >= first,
               CalendarYear.year <= last)
        .order_by(CalendarYear.year)))


def year_numbers(session: Session, *, institution_id: int) -> set[int]:
    """Every year the institution has a coverage record for (covered or not)."""
    return set(session.scalars(select(CalendarYear.year).where(CalendarYear.institution_id == institution_id)))


def covered_years(session: Session, *, institution_id: int) -> list[int]:
    """The years the institution's calendar is complete for, in order."""
    return list(session.scalars(
        select(CalendarYear.year)
        .where(CalendarYear.institution_id == institution_id, CalendarYear.covered == True)  # noqa: E712
        .order_by(CalendarYear.year)))


def add_years(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert coverage records; returns how many."""
    values = list(rows)
    if values:
        session.execute(insert(CalendarYear), values)
    return len(values)
