"""Refusals of the contracts domain."""

from __future__ import annotations

from microcredit.errors import DomainError


class ApplicationNotApproved(DomainError):
    """Only an approved application has a contract."""

    status = 409
    code = "application_not_approved"
    message_zh = "申请尚未获批，暂无合同"
    message_en = "The application is not approved: there is no contract yet"


class ContractNotFound(DomainError):
    """The application has no contract yet (open it first)."""

    status = 404
    code = "contract_not_found"
    message_zh = "合同尚未生成"
    message_en = "The contract has not been made yet"


class ContractAlreadySigned(DomainError):
    """A signed contract is not signed again."""

    status = 409
    code = "contract_already_signed"
    message_zh = "合同已签署，不能重复签署"
    message_en = "The contract is already signed"


class ContractVoid(DomainError):
    """The contract was voided (its application withdrawn)."""

    status = 409
    code = "contract_void"
    message_zh = "合同已作废"
    message_en = "The contract is void"


class DocumentChanged(DomainError):
    """The digest the borrower signs is not the stored PDF's: they did not read this document."""

    status = 409
    code = "contract_document_mismatch"
    message_zh = "所签文件与合同文件不一致，请重新打开合同后再签署"
    message_en = "The document you sign is not the contract on file: open the contract again, then sign"


class SignedFileMissing(DomainError):
    """Only a signed contract has a signed PDF."""

    status = 409
    code = "contract_not_signed"
    message_zh = "合同尚未签署"
    message_en = "The contract is not signed yet"


class SigningUnavailable(DomainError):
    """No usable institution certificate: the signature cannot be made now (nothing was changed)."""

    status = 503
    code = "signing_unavailable"
    message_zh = "机构签章证书不可用，请稍后再试或联系我们"
    message_en = "The institution's signing certificate is unavailable: try later or contact us"


class TemplateInvalid(DomainError):
    """The template cannot be rendered (syntax, an unknown name, a forbidden operation)."""

    status = 422
    code = "template_invalid"
    message_zh = "合同模板有误：{error}"
    message_en = "The contract template has an error: {error}"


class UnknownPlaceholder(TemplateInvalid):
    """The template uses a name the contract's context does not have (the known ones: docs/contracts.md); the
    problem's `placeholder` names it from the root, e.g. `borrower.no_such`."""

    message_zh = "合同模板使用了未知的占位符：{placeholder}"
    message_en = "The contract template uses an unknown placeholder: {placeholder}"


class TemplateNotEditable(DomainError):
    """Published and retired versions never change: make a new draft."""

    status = 409
    code = "template_not_editable"
    message_zh = "只有草稿版本可以修改"
    message_en = "Only a draft version can be changed"


class TemplateDraftExists(DomainError):
    """One draft per template at a time."""

    status = 409
    code = "template_draft_exists"
    message_zh = "该模板已有草稿版本（第 {number} 版）"
    message_en = "This template already has a draft (version {number})"


class TemplatePublicationPending(DomainError):
    """A draft waiting for a second person's approval is frozen, and is not requested twice."""

    status = 409
    code = "template_publication_pending"
    message_zh = "该版本已提交发布申请，待另一位人员审批；审批或驳回前不能修改或再次提交"
    message_en = "Publication of this version is waiting for another person's approval; it cannot be changed " \
                 "or requested again until it is approved or rejected"


class TemplatePublicationNotPending(DomainError):
    """Only a pending request is approved or rejected (another person may have decided it a moment ago)."""

    status = 409
    code = "template_publication_not_pending"
    message_zh = "该版本没有待审批的发布申请（可能刚被他人审批或驳回）"
    message_en = "This version has no publication request waiting (someone may have just decided it)"


class TemplateSelfApproval(DomainError):
    """Maker–checker: whoever requested the publication does not approve or reject it."""

    status = 403
    code = "self_approval"
    message_zh = "不能审批自己提交的合同模板发布申请，须由另一位有审批权限的人员审批"
    message_en = "You requested this publication: another person who may approve templates must decide it"
