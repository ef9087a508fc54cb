"""Shared pieces of API schemas: base classes, money as strings, pages.

Money crosses the API as a decimal *string* ("1234.56"), never a JSON number:
a JSON number is a float to most clients. Input amounts given as numbers are
refused with a field error rather than silently rounded.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

T = TypeVar("T")


class InputSchema(BaseModel):
    """Request bodies: unknown fields are refused (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputSchema(BaseModel):
    """Response bodies, built from ORM objects or dicts."""

    model_config = ConfigDict(from_attributes=True)


def field_error(code: str, en: str, zh: str) -> PydanticCustomError:
    """A validation error with a stable code and both languages (the API picks one)."""
    return PydanticCustomError(code, en, {"zh": zh})


def _money_in(value: Any) -> Any:
    if isinstance(value, float):
        raise field_error("money_not_string", 'send amounts as decimal strings such as "1234.56", not JSON numbers',
                          "金额请以字符串形式提交，例如 \"1234.56\"")
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise field_error("money_invalid", "not a decimal amount", "不是有效的金额") from None
        if not amount.is_finite():
            raise field_error("money_invalid", "not a finite amount", "不是有效的金额")
        if amount.as_tuple().exponent < -2:  # type: ignore[operator]
            raise field_error("money_decimals", "at most 2 decimal places", "金额最多两位小数")
        return amount
    return value


MoneyStr = Annotated[
    Decimal,
    BeforeValidator(_money_in),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$", "examples": ["8000.00"]}),
]


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int = Field(description="Rows matching the filters, over all pages")
    page: int
    page_size: int


class Message(BaseModel):
    """A plain acknowledgement."""

    ok: bool = True
    message: str | None = None


UTCDateTime = Annotated[datetime, Field(description="UTC timestamp, ISO 8601")]
