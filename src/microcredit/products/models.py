"""Tables of products: the institution's holiday calendar.

`calendar_days` holds the days that break the weekly rhythm for one
institution: public holidays (`holiday`, including the Saturdays and
Sundays inside a holiday period, so that a holiday is named whole) and
make-up working days (`working_day`, 调休: a Saturday or Sunday worked to
bridge a long holiday). Every other day is a business day from Monday to
Friday. `calendar_years` records which years an institution's data is
complete for: a year is covered only when the seed or an administrator
says so; a year without that record falls back to weekends only, and the
results that rely on it say so (see docs/calendar.md).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, UTCDateTime

DAY_KINDS = ("holiday", "working_day")
SOURCES = ("seeded", "manual")


class CalendarDay(Base):
    """A holiday or a make-up working day of one institution's calendar."""

    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("institution_id", "day"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # holiday | working_day
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # seeded: copied from the chinesecalendar package; manual: entered or edited by an administrator.
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CalendarYear(Base):
    """Whether an institution's calendar data for one year is complete (covered)."""

    __tablename__ = "calendar_years"
    __table_args__ = (UniqueConstraint("institution_id", "year"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    year: Mapped[int] = mapped_column(Integer)
    covered: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(16))  # seeded | manual: who last said so
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
