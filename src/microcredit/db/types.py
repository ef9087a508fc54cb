"""Column types shared by every domain.

* `Money` — a `Decimal` in code, an integer count of minor units (fen) in the
  database (BIGINT). Storing a value with more decimals than the currency has
  is a bug and raises instead of rounding silently.
* `ExactDecimal` — rates and other exact decimals, stored as canonical text so
  that SQLite, PostgreSQL and MySQL all give back exactly what was written.
* `UTCDateTime` — timestamps stored as naive UTC, returned timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# Primary keys: BIGINT on servers, INTEGER on SQLite (its rowid alias autoincrements).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Money(TypeDecorator[Decimal]):
    """Decimal amount persisted as integer minor units."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, minor_digits: int = 2) -> None:
        super().__init__()
        self.minor_digits = minor_digits
        self._scale = Decimal(10) ** minor_digits

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must not be a float")
        amount = value if isinstance(value, Decimal) else Decimal(value)
        minor = amount * self._scale
        if minor != minor.to_integral_value():
            raise ValueError(f"{amount} has more than {self.minor_digits} decimal places")
        return int(minor)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / self._scale).quantize(Decimal(1).scaleb(-self.minor_digits))


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
