"""Refusals of early warning."""

from __future__ import annotations

from microcredit.errors import DomainError


class WarningError(DomainError):
    """Base of early warning's refusals."""

    code = "warning_error"
    status = 422


class WarningWrongState(WarningError):
    """The warning is not in a state that takes this (e.g. approving one with nothing proposed)."""

    code = "warning_wrong_state"
    status = 409
    message_zh = "预警当前状态为“{status}”，不能执行此操作"
    message_en = "The warning is {status}: it does not take this"


class ActionNotForSubject(WarningError):
    """The action does not apply to what the warning is about (a loan's action on a portfolio warning)."""

    code = "warning_action_not_applicable"
    message_zh = "该处置措施不适用于此预警"
    message_en = "This action does not apply to this warning"


class ActionNotPermitted(WarningError):
    """The action needs a permission the approver lacks (calling a loan early: `loan.change.approve`)."""

    code = "warning_action_not_permitted"
    status = 403
    message_zh = "您无权审批该处置措施（需要审批贷款变更的权限）"
    message_en = "You may not approve this action (it needs the permission to approve loan changes)"


class SelfApproval(WarningError):
    """Whoever proposed an action does not approve it: a second person does."""

    code = "warning_self_approval"
    status = 403
    message_zh = "不能审批自己提出的处置措施"
    message_en = "You cannot approve an action you proposed"


class BadThresholds(WarningError):
    """Thresholds out of their range."""

    code = "warning_thresholds_invalid"
    message_zh = "预警阈值不在允许范围内"
    message_en = "A threshold is out of its range"


class NotFrozen(WarningError):
    """Lifting a freeze from a borrower who is not frozen."""

    code = "borrower_not_frozen"
    status = 409
    message_zh = "该借款人当前未被冻结"
    message_en = "The borrower is not frozen"
