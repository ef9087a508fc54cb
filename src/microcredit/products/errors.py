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


# --- loan products and the rate limits ---------------------------------------------------------

class ProductCodeTaken(ProductsError):
    """The institution already has a product with that code."""

    code = "product_code_taken"
    status = 409
    message_zh = "产品代码 {product_code} 已被使用"
    message_en = "The product code {product_code} is already used"

    def __init__(self, product_code: str) -> None:
        super().__init__(field="code", params={"product_code": product_code})


class VersionNotDraft(ProductsError):
    """A published, superseded or retired version is never changed: make a new version."""

    code = "version_not_draft"
    status = 409
    message_zh = "第 {number} 版已{status_zh}，不能修改；请新建版本"
    message_en = "Version {number} is {status} and cannot change; create a new version"

    def __init__(self, number: int, status: str) -> None:
        names = {"published": "发布", "superseded": "被取代", "retired": "停用"}
        super().__init__(params={"number": number, "status": status, "status_zh": names.get(status, status)})


class DraftExists(ProductsError):
    """A product has at most one draft at a time."""

    code = "draft_exists"
    status = 409
    message_zh = "该产品已有草稿（第 {number} 版），请先发布或修改它"
    message_en = "The product already has a draft (version {number}); publish or edit it first"

    def __init__(self, number: int) -> None:
        super().__init__(params={"number": number})


class VersionNotPublished(ProductsError):
    """Only the published version can be retired."""

    code = "version_not_published"
    status = 409
    message_zh = "只有已发布的版本可以停用"
    message_en = "Only a published version can be retired"


class AprAboveCap(ProductsError):
    """The APR by IRR of a loan (or of a product's worst sample loan) is above the hard cap."""

    code = "apr_above_cap"
    status = 422
    message_zh = "年化利率（IRR）{apr}% 超过上限 {cap}%"
    message_en = "The APR (IRR) of {apr} % is above the cap of {cap} %"

    def __init__(self, *, apr: str, cap: str, field: str) -> None:
        super().__init__(field=field, params={"apr": apr, "cap": cap}, extra={"apr_percent": apr, "cap_percent": cap})


class AprNeedsApproval(ProductsError):
    """Above the LPR multiple in force: a second administrator must approve the rate first."""

    code = "apr_needs_approval"
    status = 409
    message_zh = "年化利率（IRR）{apr}% 超过 {limit_text}，发布前须由另一位管理员审批并填写理由"
    message_en = "The APR (IRR) of {apr} % is above {limit_text_en}; another administrator must approve it, " \
                 "with a reason, before it is published"

    def __init__(self, *, apr: str, limit: str | None, field: str) -> None:
        limit_text = f"LPR 倍数上限 {limit}%" if limit else "LPR 倍数上限（LPR 表中没有当日适用的报价）"
        limit_text_en = f"the LPR multiple of {limit} %" if limit else "the LPR multiple (no LPR in force that day)"
        super().__init__(field=field, params={"apr": apr, "limit_text": limit_text, "limit_text_en": limit_text_en},
                         extra={"apr_percent": apr, "limit_percent": limit})


class RateApprovalNotNeeded(ProductsError):
    """The version's APR is within the LPR multiple: there is nothing to approve."""

    code = "rate_approval_not_needed"
    status = 409
    message_zh = "该版本的年化利率未超过 LPR 倍数上限，无需审批"
    message_en = "The version's APR is within the LPR multiple; nothing to approve"


class SelfApproval(ProductsError):
    """The administrator who last edited a draft cannot approve its rate."""

    code = "self_approval"
    status = 403
    message_zh = "不能审批自己编辑的产品版本，须由另一位管理员审批"
    message_en = "You cannot approve a version you edited; another administrator must"


class OutsideProductRange(ProductsError):
    """A quote asks for an amount, term or method the product does not offer."""

    code = "outside_product_range"
    status = 422
    message_zh = "超出产品范围：{allowed}"
    message_en = "Outside the product's range: {allowed}"

    def __init__(self, *, field: str, allowed: str) -> None:
        super().__init__(field=field, params={"allowed": allowed})


class LprDateTaken(ProductsError):
    """The LPR table already has a fixing taking effect that day."""

    code = "lpr_date_taken"
    status = 409
    message_zh = "{day} 已有 LPR 报价，请修改该记录"
    message_en = "There is already a fixing taking effect on {day}; edit that one"

    def __init__(self, day: date) -> None:
        super().__init__(field="effective_date", params={"day": day.isoformat()})


class RateCapDateTaken(ProductsError):
    """The caps of that kind of institution already change on that day."""

    code = "rate_cap_date_taken"
    status = 409
    message_zh = "该机构类型在 {day} 已有利率上限设置"
    message_en = "That kind of institution already has caps taking effect on {day}"

    def __init__(self, day: date) -> None:
        super().__init__(field="effective_from", params={"day": day.isoformat()})
