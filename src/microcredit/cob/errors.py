"""Refusals of the close of business (each names the field it is about)."""

from __future__ import annotations

from microcredit.errors import Conflict, DomainError, NotFound


class CobError(DomainError):
    """Base of the close of business's refusals."""

    code = "cob_error"
    status = 422


class RunInProgress(Conflict):
    """Another run of the institution is under way (its heartbeat is recent)."""

    code = "cob_run_in_progress"
    message_zh = "日终批处理正在运行（营业日 {business_date}），请等待其完成"
    message_en = "A close of business is running (business date {business_date}); wait for it to finish"


class DateNotAfterBusinessDate(CobError):
    """A run closes a date after the business date (or finishes the one an unfinished run opened)."""

    code = "cob_date_not_after_business_date"
    message_zh = "日终日期必须晚于当前营业日 {business_date}"
    message_en = "The date to close must be after the business date {business_date}"


class PreviousRunUnfinished(Conflict):
    """The run of an earlier date has not finished: it is resumed first."""

    code = "cob_previous_run_unfinished"
    message_zh = "营业日 {business_date} 的日终批处理尚未完成，请先完成它"
    message_en = "The close of business of {business_date} has not finished; finish it first"


class RetryNotLatest(Conflict):
    """Failed loans are re-run only on the latest run (a later date has moved the loans on)."""

    code = "cob_retry_not_latest"
    message_zh = "只能重试最近一次日终批处理的失败贷款"
    message_en = "Only the latest close of business's failed loans can be retried"


class RunNotFinished(Conflict):
    """A retry waits for the run to finish."""

    code = "cob_run_not_finished"
    message_zh = "该日终批处理尚未完成，不能重试"
    message_en = "The run has not finished; it cannot be retried yet"


class RunNotFound(NotFound):
    """No such run in the caller's institution."""

    code = "cob_run_not_found"
    message_zh = "日终批处理记录不存在"
    message_en = "No such close-of-business run"
