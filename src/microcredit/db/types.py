"""Column types shared by every domain.

* `MoneyColumn(currency)` — a `lending.money.Money` in code, its integer count
  of minor units in the database (BIGINT). The column's currency is stated
  by the type (a profile's income is CNY); writing an amount of another
  currency, or anything that is not Money, raises. It converts nothing
  itself: `Money.minor` in, the `Money` constructor out.
* `ExactDecimal` — rates and other exact decimals, stored as canonical text so
  that SQLite, PostgreSQL and MySQL all give back exactly what was written.
* `UTCDateTime` — timestamps stored as naive UTC, returned timezone-aware.
* `LongText`, `LongBinary` — text and bytes that may pass 64 KiB (a template's sources, a stored
  answer for replay): MEDIUMTEXT / MEDIUMBLOB (16 MiB) on MySQL and MariaDB, whose TEXT and BLOB
  stop at 64 KiB; the usual types elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from microcredit.lending.money import CurrencyMismatch, Money, currency

# Primary keys: BIGINT on servers, INTEGER on SQLite (its rowid alias autoincrements).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
# TEXT and BLOB hold 64 KiB on MySQL and MariaDB: what may be longer takes the medium types there.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
LongBinary = LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")


class MoneyColumn(TypeDecorator[Money]):
    """Money of one stated currency, persisted as its integer minor units (BIGINT)."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, currency_code: str) -> None:
        super().__init__()
        self.currency = currency(currency_code).code

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Money):
            raise TypeError(f"a money column stores Money, not {type(value).__name__}")
        if value.currency != self.currency:
            raise CurrencyMismatch(f"a {self.currency} column cannot store {value.currency}")
        return value.minor

    def process_result_value(self, value: Any, dialect: Dialect) -> Money | None:
        return None if value is None else Money(int(value), self.currency)

    def __repr__(self) -> str:
        return f"MoneyColumn({self.currency!r})"


class ExactDecimal(TypeDecorator[Decimal]):
    """Decimal persisted as its canonical string (exact on every database)."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("exact decimals must not be floats")
        return str(value if isinstance(value, Decimal) else Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes, stored naive UTC (portable across databases)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "mysql":
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: timestamps must be timezone-aware UTC")
        aware: datetime = value.astimezone(UTC)
        return aware.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        return stored.replace(tzinfo=UTC)
