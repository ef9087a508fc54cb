"""Every query of the products domain: calendar days and covered years, products and their versions,
the LPR table and the rate caps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from microcredit.products.models import CalendarDay, CalendarYear, LprRate, Product, ProductVersion, RateCap


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


# --- products and versions ---------------------------------------------------------------------

def add(session: Session, row: object) -> None:
    """Stage a new row and flush it (so it has its id)."""
    session.add(row)
    session.flush()


def product_by_code(session: Session, *, institution_id: int, code: str) -> Product | None:
    """The institution's product with this code."""
    return session.scalar(select(Product).where(Product.institution_id == institution_id, Product.code == code))


def products_of(session: Session, *, institution_id: int) -> list[Product]:
    """The institution's products, by code."""
    return list(session.scalars(select(Product).where(Product.institution_id == institution_id)
                                .order_by(Product.code)))


def versions_of(session: Session, *, product_id: int) -> list[ProductVersion]:
    """A product's versions, oldest first."""
    return list(session.scalars(select(ProductVersion).where(ProductVersion.product_id == product_id)
                                .order_by(ProductVersion.number)))


def versions_of_products(session: Session, *, product_ids: list[int]) -> list[ProductVersion]:
    """The versions of several products, by product then number."""
    if not product_ids:
        return []
    return list(session.scalars(select(ProductVersion).where(ProductVersion.product_id.in_(product_ids))
                                .order_by(ProductVersion.product_id, ProductVersion.number)))


def version(session: Session, *, product_id: int, number: int) -> ProductVersion | None:
    """Version `number` of a product."""
    return session.scalar(select(ProductVersion).where(ProductVersion.product_id == product_id,
                                                       ProductVersion.number == number))


def get_version(session: Session, version_id: int) -> ProductVersion | None:
    """The product version with this id."""
    return session.get(ProductVersion, version_id)


def last_version_number(session: Session, *, product_id: int) -> int:
    """The highest version number of a product (0: none yet)."""
    return int(session.scalar(select(func.max(ProductVersion.number))
                              .where(ProductVersion.product_id == product_id)) or 0)


def published_versions(session: Session, *, institution_id: int, on: date) -> list[tuple[Product, ProductVersion]]:
    """The institution's published versions active on `on` (one per product), by product code."""
    return [(p, v) for p, v in session.execute(
        select(Product, ProductVersion).join(ProductVersion, ProductVersion.product_id == Product.id)
        .where(ProductVersion.institution_id == institution_id, ProductVersion.status == "published",
               ProductVersion.active_from <= on,
               (ProductVersion.active_to.is_(None)) | (ProductVersion.active_to >= on))
        .order_by(Product.code))]


def all_published(session: Session, *, institution_id: int) -> list[tuple[str, ProductVersion]]:
    """The institution's published versions whatever their active dates (product code, version), by code."""
    return [(code, v) for code, v in session.execute(
        select(Product.code, ProductVersion).join(ProductVersion, ProductVersion.product_id == Product.id)
        .where(ProductVersion.institution_id == institution_id, ProductVersion.status == "published")
        .order_by(Product.code, ProductVersion.number))]


# --- the LPR table and the caps ----------------------------------------------------------------

def lpr_rates(session: Session) -> list[LprRate]:
    """Every LPR fixing, newest first."""
    return list(session.scalars(select(LprRate).order_by(LprRate.effective_date.desc())))


def get_lpr(session: Session, lpr_id: int) -> LprRate | None:
    """The LPR fixing with this id."""
    return session.get(LprRate, lpr_id)


def lpr_on_date(session: Session, effective_date: date) -> LprRate | None:
    """The fixing that takes effect on exactly this day."""
    return session.scalar(select(LprRate).where(LprRate.effective_date == effective_date))


def lpr_in_force(session: Session, on: date) -> LprRate | None:
    """The fixing in force on `on`: the latest one taking effect on or before it."""
    return session.scalar(select(LprRate).where(LprRate.effective_date <= on)
                          .order_by(LprRate.effective_date.desc()).limit(1))


def delete(session: Session, row: object) -> None:
    """Remove a row."""
    session.delete(row)
    session.flush()


def rate_caps(session: Session) -> list[RateCap]:
    """Every cap row, by kind of institution then date."""
    return list(session.scalars(select(RateCap).order_by(RateCap.institution_kind, RateCap.effective_from)))


def rate_cap_on_date(session: Session, *, institution_kind: str, effective_from: date) -> RateCap | None:
    """The cap row of a kind of institution taking effect on exactly this day."""
    return session.scalar(select(RateCap).where(RateCap.institution_kind == institution_kind,
                                                RateCap.effective_from == effective_from))


def rate_cap_in_force(session: Session, *, institution_kind: str, on: date) -> RateCap | None:
    """The caps of a kind of institution in force on `on`."""
    return session.scalar(select(RateCap).where(RateCap.institution_kind == institution_kind,
                                                RateCap.effective_from <= on)
                          .order_by(RateCap.effective_from.desc()).limit(1))
