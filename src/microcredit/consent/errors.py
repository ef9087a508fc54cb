"""Refusals of the consent domain."""

from __future__ import annotations

from microcredit.errors import DomainError, FieldProblem, ValidationFailed


class _ConsentProblems(ValidationFailed):
    """Registration without the consents it needs: the field is `consents`, each kind named in `errors`."""

    def __init__(self, problems: list[FieldProblem], field: str = "consents") -> None:
        super().__init__(problems)
        self.field = field


class ConsentRequired(_ConsentProblems):
    """A document was not accepted (or the registration names no consents at all)."""

    code = "consent_required"
    message_zh = "请阅读并同意用户协议、隐私政策和敏感个人信息处理规则"
    message_en = "Read and accept the user agreement, the privacy policy and the rules on sensitive personal " \
                 "information"


class ConsentVersionStale(_ConsentProblems):
    """The version accepted is not the one in effect (the page was open while a new one was published)."""

    code = "consent_version_stale"
    message_zh = "协议已更新，请重新阅读并同意最新版本"
    message_en = "A document has been updated; read and accept the current version"


class DocumentNotFound(DomainError):
    """No such document version in the institution."""

    status = 404
    code = "consent_document_not_found"
    message_zh = "找不到该协议版本"
    message_en = "No such document version"


class DocumentMissing(DomainError):
    """The institution has published no version of a document that registration needs."""

    status = 409
    code = "consent_document_missing"
    message_zh = "机构尚未发布必需的协议，暂不能登记"
    message_en = "The institution has not published a document that registration needs"


class VersionTaken(DomainError):
    """That version of the document was already published (versions are immutable)."""

    status = 409
    code = "consent_version_taken"
    message_zh = "该版本号已发布，已发布的版本不可修改，请使用新的版本号"
    message_en = "This version was already published and cannot change; use a new version number"


class AlreadyWithdrawn(DomainError):
    """The consent was withdrawn before."""

    status = 409
    code = "consent_already_withdrawn"
    message_zh = "该同意已撤回"
    message_en = "This consent was already withdrawn"


class SignedConsentRequired(DomainError):
    """At the branch, staff must confirm that the borrower signed the three documents."""

    status = 422
    code = "consent_required"
    message_zh = "请确认借款人已签署用户协议、隐私政策和敏感个人信息处理同意书"
    message_en = "Confirm that the borrower signed the user agreement, the privacy policy and the consent to " \
                 "processing sensitive personal information"
