"""Refusals of the model registry."""

from __future__ import annotations

from microcredit.errors import DomainError


class ModelNotFound(DomainError):
    """No such model, version or promotion in the institution."""

    status = 404
    code = "risk_model_not_found"
    message_zh = "找不到该模型、版本或晋级申请"
    message_en = "No such model, version or promotion"


class ArtefactInvalid(DomainError):
    """The uploaded artefact is not a model this system can serve (unknown format, malformed tables)."""

    status = 422
    code = "risk_model_artefact_invalid"
    message_zh = "模型文件无效：格式未知或内容有误"
    message_en = "The artefact is not a model this system can serve"


class ReportInvalid(DomainError):
    """The validation report is not a JSON object."""

    status = 422
    code = "risk_model_report_invalid"
    message_zh = "验证报告不是有效的 JSON 对象"
    message_en = "The validation report is not a JSON object"


class ArtefactIntegrity(DomainError):
    """The stored artefact no longer hashes to its recorded SHA-256: it is not served."""

    status = 409
    code = "risk_model_integrity"
    message_zh = "模型文件与登记的 SHA-256 不符，已拒绝使用"
    message_en = "The stored artefact does not match its recorded SHA-256 and is not served"


class ModelKindMismatch(DomainError):
    """A new version of a model must be of the model's kind."""

    status = 409
    code = "risk_model_kind_mismatch"
    message_zh = "新版本的模型类型与该模型不一致"
    message_en = "A new version must be of the model's kind"


class VersionNotPromotable(DomainError):
    """Only a draft (or a challenger, to champion) may be proposed; a retired version never returns."""

    status = 409
    code = "risk_model_not_promotable"
    message_zh = "该版本当前状态不能申请晋级"
    message_en = "This version cannot be proposed for that role in its current status"


class PromotionPending(DomainError):
    """A version has at most one proposal waiting."""

    status = 409
    code = "risk_model_promotion_pending"
    message_zh = "该版本已有待审批的晋级申请"
    message_en = "This version already has a proposal waiting for approval"


class PromotionDecided(DomainError):
    """The proposal was approved or rejected already."""

    status = 409
    code = "risk_model_promotion_decided"
    message_zh = "该晋级申请已审批"
    message_en = "This proposal was decided already"


class SelfApproval(DomainError):
    """Maker–checker: whoever proposed a promotion does not approve or reject it."""

    status = 403
    code = "self_approval"
    message_zh = "不能审批自己提交的晋级申请，请由另一位风险专员审批"
    message_en = "You proposed this promotion: another risk officer must approve or reject it"


class VersionNotRetirable(DomainError):
    """The champion is replaced by approving another, never retired alone; a retired version is retired."""

    status = 409
    code = "risk_model_not_retirable"
    message_zh = "冠军模型只能由新冠军替换，不能直接退役；已退役的版本无需再退役"
    message_en = "The champion is only replaced by approving another; a retired version is retired already"
