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
    "review": ("审批", "reviewed"),
    "accept_counter": ("接受调整方案", "accepted"),
    "reject_counter": ("拒绝调整方案", "rejected"),
    "request_human_review": ("申请人工复核", "sent for a human review"),
    "add_guarantor": ("添加担保人", "given a guarantor"),
    "release_guarantor": ("解除担保人", "have a guarantor released"),
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
class OwnApplication(OriginationError):
    """A reviewer acting on an application they applied for or took in (the borrower or the officer)."""

    code = "review_own_application"
    status = 403
    message_zh = "不能审批本人申请或本人经办的申请"
    message_en = "You cannot review an application you made or took in"


class TwiceInChain(OriginationError):
    """A reviewer acting at a second level of one chain of approval."""

    code = "review_twice_in_chain"
    status = 403
    message_zh = "同一审批流程中您已在第 {level} 级审批过，不能再次审批"
    message_en = "You already acted at level {level} of this review: someone else must act at this level"

    def __init__(self, *, level: int) -> None:
        super().__init__(params={"level": level})


class LevelNotAllowed(OriginationError):
    """The caller has no approval permission for the level the application waits at."""

    code = "review_level_not_allowed"
    status = 403
    message_zh = "您没有第 {level} 级审批权限"
    message_en = "You may not act at level {level}"

    def __init__(self, *, level: int) -> None:
        super().__init__(params={"level": level})


class ReviewStale(OriginationError):
    """Someone acted on the step first: the application is no longer at the level (or version) the caller saw."""

    code = "review_stale"
    status = 409
    message_zh = "该申请已由他人处理（现为“{status}”，第 {level} 级），请刷新后再操作"
    message_en = "Someone acted on this application first (now {status}, level {level}): reload it"

    def __init__(self, *, status: str, level: int | None) -> None:
        super().__init__(field="level", params={"status": status, "level": level or "-"})


class HumanReviewUsed(OriginationError):
    """A human review was asked for already (once per application), or the decline was not automatic."""

    code = "human_review_not_available"
    status = 409
    message_zh = "该申请已申请过人工复核，或并非自动拒绝"
    message_en = "A human review was already asked for, or this decline was not automatic"


class GuarantorUnderage(OriginationError):
    """A guarantor below the age of full civil capacity."""

    code = "guarantor_underage"
    message_zh = "担保人须年满 {min_age} 周岁"
    message_en = "A guarantor must be at least {min_age} years old"


class GuarantorIsBorrower(OriginationError):
    """The borrower cannot guarantee their own application."""

    code = "guarantor_is_borrower"
    message_zh = "借款人本人不能作为担保人"
    message_en = "The borrower cannot be their own guarantor"


class GuarantorDuplicate(OriginationError):
    """The person is already an active guarantor of this application."""

    code = "guarantor_duplicate"
    status = 409
    message_zh = "该担保人已在本申请中"
    message_en = "This person is already a guarantor of the application"


class GuarantorReleased(OriginationError):
    """The guarantor was released before (final)."""

    code = "guarantor_released"
    status = 409
    message_zh = "该担保人已解除担保"
    message_en = "This guarantor was already released"
