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
