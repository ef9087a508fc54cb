"""Refusals of the origination domain."""

from __future__ import annotations

from microcredit.errors import DomainError


class OriginationError(DomainError):
    """Base of the origination domain's refusals."""

    code = "origination_error"
    status = 422


class WrongState(OriginationError):
    """The application is not in a status that allows this step."""

    code = "application_wrong_state"
    status = 409
    message_zh = "申请当前状态为“{status}”，不能{action_zh}"
    message_en = "The application is {status}: it cannot be {action_en}"

    def __init__(self, *, status: str, action: str) -> None:
        zh, en = ACTION_WORDS.get(action, (action, action))
        super().__init__(field="status", params={"status": status, "action": action, "action_zh": zh,
                                                 "action_en": en})


ACTION_WORDS = {
    "update": ("修改", "edited"),
    "submit": ("提交", "submitted"),
    "resubmit": ("补充材料后重新提交", "resubmitted"),
    "withdraw": ("撤回", "withdrawn"),
    "decide": ("自动审查", "decided"),
    "await_consent": ("等待联保成员同意", "held for the group's consent"),
    "group_submit": ("随联保申请提交", "submitted with the group"),
}


class NoBorrowerProfile(OriginationError):
    """The caller has no borrower profile to apply with."""

    code = "borrower_profile_required"
    status = 409
    message_zh = "请先完成实名登记，再申请贷款"
    message_en = "Complete your registration before applying for a loan"


class GroupApplicationWrongState(OriginationError):
    """The group application's status does not allow this step."""

    code = "group_application_wrong_state"
    status = 409
    message_zh = "联保申请当前状态为“{status}”，不能执行此操作"
    message_en = "The group application is {status}: this cannot be done"


class ConsentAlreadyGiven(OriginationError):
    """A member answers once: consented, refused or removed is final for that member."""

    code = "group_consent_decided"
    status = 409
    message_zh = "您已对该联保申请作出答复（{consent}）"
    message_en = "You have already answered this group application ({consent})"
