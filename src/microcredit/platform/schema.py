"""Shared pieces of API schemas: base classes, money as strings, pages.

Money crosses the API as a decimal *string* with the currency's places
("1234.56"), in requests and in responses alike: `MoneyStr` is the one type
for both.  It parses straight to `lending.money.Money` -- a service never
sees a float, a Decimal or text for an amount -- and serialises a `Money`
back to its string.  Anything else is refused with a field error and a
stable code, never rounded: a JSON number or boolean (``money_not_string``:
most clients read a JSON number as a float), text that is not plain ASCII
digits with an optional leading "-" and one "." such as "1e5" or "１２３"
(``money_invalid``), more decimals than the currency has
(``money_decimals``).  Bounds are `money_bounds(...)`, which compare Money
with Money.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from microcredit.lending.money import Money, currency

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


_DIGITS = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def _money_parser(code: str) -> Callable[[Any], Money]:
    places = currency(code).places

    def parse(value: Any) -> Money:
        if isinstance(value, Money):  # built in Python: a service's value on its way out
            if value.currency != code:
                raise field_error("money_currency", f"an amount in {code}", f"金额币种应为 {code}")
            return value
        if not isinstance(value, str):
            raise field_error(
                "money_not_string",
                'send amounts as decimal strings such as "1234.56", not JSON numbers',
                '金额请以字符串形式提交，例如 "1234.56"',
            )
        text = value.strip()
        if not _DIGITS.fullmatch(text):
            raise field_error("money_invalid", 'not a decimal amount such as "1234.56"', "不是有效的金额")
        try:
            return Money.parse(text, code)
        except ValueError:
            raise field_error(
                "money_decimals", f"at most {places} decimal places", f"金额最多{places}位小数"
            ) from None

    return parse


def money_str(code: str) -> Any:
    """The API string type of amounts in currency `code`; its pattern follows the currency's places."""
    places = currency(code).places
    fraction = rf"(\.\d{{1,{places}}})?" if places else ""
    example = "8000." + "0" * places if places else "8000"
    return Annotated[
        Money,
        PlainValidator(_money_parser(code), json_schema_input_type=str),
        PlainSerializer(str, return_type=str, when_used="json"),
        WithJsonSchema({"type": "string", "pattern": rf"^-?\d+{fraction}$", "examples": [example]}),
    ]


MoneyStr = money_str("CNY")
"""An amount in CNY: "8000.00" on the wire, `Money` in Python (the API's only currency today)."""


def money_bounds(*, gt: str | None = None, ge: str | None = None, le: str | None = None,
                 code: str = "CNY") -> AfterValidator:
    """Bounds on a `MoneyStr` field, given as amounts of `code`; errors use pydantic's own codes."""
    above = Money.parse(gt, code) if gt is not None else None
    at_least = Money.parse(ge, code) if ge is not None else None
    at_most = Money.parse(le, code) if le is not None else None

    def check(amount: Money) -> Money:
        if above is not None and not amount > above:
            raise PydanticCustomError("greater_than", "Input should be greater than {gt}",
                                      {"gt": gt, "zh": f"必须大于 {gt}"})
        if at_least is not None and not amount >= at_least:
            raise PydanticCustomError("greater_than_equal", "Input should be greater than or equal to {ge}",
                                      {"ge": ge, "zh": f"不能小于 {ge}"})
        if at_most is not None and not amount <= at_most:
            raise PydanticCustomError("less_than_equal", "Input should be less than or equal to {le}",
                                      {"le": le, "zh": f"不能大于 {le}"})
        return amount

    return AfterValidator(check)


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
