"""Refusals of the products domain."""

from __future__ import annotations

from microcredit.errors import DomainError


class ProductsError(DomainError):
    """Base of the products domain's refusals."""

    code = "products_error"
    status = 422


class QuoteInvalid(ProductsError):
    """The loan description is well-formed but cannot be quoted (e.g. fees eat the principal)."""

    code = "quote_invalid"
    status = 422
    message_zh = "无法按此贷款条件试算：{reason}"
    message_en = "This loan cannot be quoted: {reason}"

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(field=field, params={"reason": reason})


class UnknownCalendar(ProductsError):
    """No holiday calendar of that name."""

    code = "unknown_calendar"
    status = 422
    message_zh = "未知的节假日日历：{name}"
    message_en = "Unknown holiday calendar: {name}"

    def __init__(self, name: str) -> None:
        super().__init__(field="calendar", params={"name": name})
