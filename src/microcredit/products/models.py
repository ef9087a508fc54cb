"""Tables of products: the institution's holiday calendar, loan products and their versions, and
the rate limits (the one-year LPR table and the caps per kind of institution).

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
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, ExactDecimal, UTCDateTime

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


# --- loan products, versioned; rate limits as dated configuration ------------------------------

PRODUCT_STATUSES = ("draft", "published", "superseded", "retired")


class Product(Base):
    """A loan product of one institution (its code is unique there); its terms live in versions."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("institution_id", "code"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    code: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ProductVersion(Base):
    """One version of a product's terms: a draft until published, then never changed.

    `terms` is the validated `ProductTerms` document (JSON); the names and active dates are
    repeated in columns for lists and for finding what is on offer. A loan keeps the version it
    was made under (`id`). Publishing supersedes the product's previously published version.
    """

    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product_id", "number"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # draft | published | superseded | retired
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    active_from: Mapped[date] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retired_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The cap check recorded at publication (samples, worst APR, caps and LPR in force).
    cap_check: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # A second administrator's approval of a rate above the LPR multiple (cleared by an edit).
    rate_approved_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    rate_approval_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    rate_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class LprRate(Base):
    """A one-year Loan Prime Rate fixing (贷款市场报价利率) and the day it takes effect.

    One national figure, so one table per deployment: the fixing in force on a day is the row
    with the latest `effective_date` on or before it.
    """

    __tablename__ = "lpr_rates"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    effective_date: Mapped[date] = mapped_column(Date, unique=True)
    one_year_percent: Mapped[Decimal] = mapped_column(ExactDecimal)
    source: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(16))  # seeded | manual
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class RateCap(Base):
    """The rate caps of one kind of institution from a date on (the latest row on or before a day holds)."""

    __tablename__ = "rate_caps"
    __table_args__ = (UniqueConstraint("institution_kind", "effective_from"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_kind: Mapped[str] = mapped_column(String(32))
    effective_from: Mapped[date] = mapped_column(Date)
    hard_cap_percent: Mapped[Decimal] = mapped_column(ExactDecimal)
    approval_lpr_multiple: Mapped[Decimal] = mapped_column(ExactDecimal)
    origin: Mapped[str] = mapped_column(String(16))  # seeded | manual
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
