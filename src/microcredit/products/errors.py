"""Refusals of the products domain."""

from __future__ import annotations

from datetime import date

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


class CalendarDayExists(ProductsError):
    """The institution's calendar already has an entry for that date."""

    code = "calendar_day_exists"
    status = 409
    message_zh = "日历中已有 {day} 的记录，请修改该记录"
    message_en = "The calendar already has an entry for {day}; edit that one instead"

    def __init__(self, day: date) -> None:
        super().__init__(field="day", params={"day": day.isoformat()})


class CalendarDateOutOfRange(ProductsError):
    """A calendar date or year outside the years the calendar keeps."""

    code = "calendar_date_out_of_range"
    status = 422
    message_zh = "日历只维护 {first} 年至 {last} 年的日期"
    message_en = "The calendar keeps the years {first} to {last} only"

    def __init__(self, field: str, first: int, last: int) -> None:
        super().__init__(field=field, params={"first": first, "last": last})


class WorkingDayNotOnWeekend(ProductsError):
    """A make-up working day (调休) on a weekday: every weekday is a working day already."""

    code = "working_day_not_on_weekend"
    status = 422
    message_zh = "调休上班日只能是周六或周日：{day} 本来就是工作日"
    message_en = "A make-up working day must be a Saturday or a Sunday: {day} is a working day anyway"

    def __init__(self, day: date, *, field: str = "day") -> None:
        super().__init__(field=field, params={"day": day.isoformat()})


class CalendarNothingToChange(ProductsError):
    """An edit that changes nothing."""

    code = "nothing_to_change"
    status = 422
    message_zh = "没有需要修改的内容"
    message_en = "Nothing to change"


class LoanEventRefused(ProductsError):
    """An event of a replayed loan that the loan cannot take (the engine's code in `reason`)."""

    code = "loan_event_refused"
    status = 422
    message_zh = "第 {index} 个事件（{event_id}）无法执行：{reason}"
    message_en = "Event {index} ({event_id}) cannot be applied: {reason}"

    def __init__(self, index: int, event_id: str, reason_code: str, reason: str) -> None:
        super().__init__(
            field=f"events.{index}",
            params={"index": index, "event_id": event_id, "reason": reason},
            extra={"reason": reason_code},
        )


class FineractInputInvalid(ProductsError):
    """A Fineract parameter or step the `fineract` profile cannot take (the field is named)."""

    code = "fineract_input_invalid"
    status = 422
    message_zh = "fineract 配置无法处理 {field}：{reason}"
    message_en = "The fineract profile cannot take {field}: {reason}"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field=field, params={"field": field, "reason": reason})
