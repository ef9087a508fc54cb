"""Refusals of fraud detection."""

from __future__ import annotations

from microcredit.errors import DomainError


class FraudCaseNotFound(DomainError):
    """No such case in the institution."""

    status = 404
    code = "fraud_case_not_found"
    message_zh = "找不到该欺诈案件"
    message_en = "No such fraud case"


class FraudCaseClosed(DomainError):
    """A case with a verdict takes no further verdict."""

    status = 409
    code = "fraud_case_closed"
    message_zh = "该案件已有结论，不能再次认定"
    message_en = "This case has a verdict already"


class FraudSampleTooSmall(DomainError):
    """Too few submitted applications to learn what is usual: the model in force stays."""

    status = 422
    code = "fraud_model_sample_too_small"
    message_zh = "已提交的申请只有 {found} 笔，至少需要 {needed} 笔才能训练异常模型；当前模型保持不变"
    message_en = ("Only {found} submitted applications: training the anomaly model needs at least {needed}; "
                  "the model in force is unchanged")


class ApplicationSourceMissing(DomainError):
    """The process has no read interface to the institution's applications (a script without the runtime)."""

    status = 409
    code = "fraud_model_no_applications_source"
    message_zh = "本进程无法读取申请数据，不能训练异常模型"
    message_en = "This process cannot read the institution's applications"
