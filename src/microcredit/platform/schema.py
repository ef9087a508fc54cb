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
(``money_decimals``), beyond a 64-bit count of minor units
(``money_out_of_range``).  Bounds are `money_bounds(...)`, which compare Money
with Money.

Every request body is an `InputSchema`, which holds the edge to the types
docs/api.md promises, whatever pydantic's lax mode would take: integers are
JSON integers (not `true`, not `"12"`, not `1.0`) within a signed 64-bit
range (`int_type`, `int_out_of_range`); booleans are `true`/`false` only
(`bool_type`); dates are `"YYYY-MM-DD"` strings only (`date_invalid`: not
`0`, not a timestamp); and every text field is NFC with no control
character (`control_character`; see `platform.text`; a field annotated
`MultiLine` may hold line feeds; one marked `ExactText`, a password, is kept
as typed). Query and path parameters arrive as text and are bounded by their
own types (`api.params`) and the request guard (`api.guard`).
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Generic, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from microcredit.lending.money import Money, currency
from microcredit.platform.text import ControlCharacter, check_encodable, clean_text

T = TypeVar("T")
MAX_INT = 2**63 - 1  # what every database's BIGINT holds
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class MultiLine:
    """Marks a text field that may hold line feeds (`Annotated[str, MultiLine()]`)."""


class ExactText:
    """Marks a text field kept exactly as typed (a password): not normalised, only lone surrogates refused."""


def _kind(annotation: Any) -> str | None:
    """What the edge checks for a field of this type: int, bool, date, datetime, str, list:<kind>, or None."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            return None
        annotation = args[0]
    if get_origin(annotation) is list:
        inner = _kind(get_args(annotation)[0]) if get_args(annotation) else None
        return f"list:{inner}" if inner in ("int", "str") else None
    for t, name in ((bool, "bool"), (int, "int"), (datetime, "datetime"), (date, "date"), (str, "str")):
        if annotation is t:
            return name
    return None


def _check_int(value: Any) -> Any:
    if value is None:
        return value
    if type(value) is not int:
        raise field_error("int_type", "an integer (a JSON number without a fraction)", "请输入整数")
    if not -MAX_INT - 1 <= value <= MAX_INT:
        raise field_error("int_out_of_range", "the number is out of range", "数值超出范围")
    return value


def _check_text(value: Any, *, multiline: bool, exact: bool) -> Any:
    if not isinstance(value, str):
        return value  # pydantic refuses it with its own code
    try:
        return check_encodable(value) if exact else clean_text(value, multiline=multiline)
    except ControlCharacter as exc:
        raise field_error("control_character", f"must not contain control characters ({exc})",
                          "不能包含控制字符") from None


def _edge(value: Any, kind: str, *, multiline: bool, exact: bool) -> Any:
    if kind == "int":
        return _check_int(value)
    if kind == "bool":
        if value is not None and type(value) is not bool:
            raise field_error("bool_type", "true or false", "请输入 true 或 false")
    elif kind == "date":
        if value is not None and not (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
            raise field_error("date_invalid", "a date as a string YYYY-MM-DD", "日期格式应为 YYYY-MM-DD")
    elif kind == "datetime":
        if value is not None and not isinstance(value, str):
            raise field_error("datetime_invalid", "an ISO 8601 timestamp string", "时间格式应为 ISO 8601 字符串")
    elif kind == "str":
        return _check_text(value, multiline=multiline, exact=exact)
    elif kind.startswith("list:") and isinstance(value, list):
        return [_edge(v, kind[5:], multiline=multiline, exact=exact) for v in value]
    return value


def _edge_of(info: FieldInfo) -> tuple[str | None, bool, bool]:
    """The field's kind, whether it is multi-line, whether it is kept exactly as typed."""
    return (_kind(info.annotation), any(isinstance(m, MultiLine) for m in info.metadata),
            any(isinstance(m, ExactText) for m in info.metadata))


_EDGES: dict[tuple[type, str], tuple[str | None, bool, bool]] = {}
"""`_edge_of` by input model and field name, worked out on the field's first validation (the model is complete
by then): it was worked out again on every field of every validation, ~40 times a loan's terms read
(`servicing.loans.core_terms`: 290 -> ~80 µs a loan's terms validated) and on every request body."""


class InputSchema(BaseModel):
    """Request bodies: unknown fields are refused (no mass assignment); strict types and clean text at the edge."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    # True for inputs compared exactly as typed (passwords): text is not normalised.
    exact_text: ClassVar[bool] = False

    @field_validator("*", mode="before")
    @classmethod
    def _at_the_edge(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name
        if name is None:
            return value
        edge = _EDGES.get((cls, name))
        if edge is None:
            field = cls.model_fields.get(name)
            if field is None:
                return value
            edge = _EDGES[(cls, name)] = _edge_of(field)
        kind, multiline, exact = edge
        if kind is None:
            return value
        return _edge(value, kind, multiline=multiline, exact=exact or cls.exact_text)


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
            amount = Money.parse(text, code)
        except ValueError:
            raise field_error(
                "money_decimals", f"at most {places} decimal places", f"金额最多{places}位小数"
            ) from None
        if abs(amount.minor) > MAX_INT:  # beyond what a BIGINT column holds
            raise field_error("money_out_of_range", "the amount is out of range", "金额超出范围")
        return amount

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


def type_tag(value: Any) -> str | None:
    """The `type` of a tagged-union member, read before validation: the discriminator of a
    union whose members are `InputSchema`s (their shared text checks run on every field, which
    a plain discriminated union does not allow on its discriminator)."""
    found = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return found if isinstance(found, str) else None
