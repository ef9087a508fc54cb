"""Refusals of servicing (each names the field it is about)."""

from __future__ import annotations

from microcredit.errors import DomainError


class ServicingError(DomainError):
    """Base of servicing's refusals."""

    code = "servicing_error"
    status = 422


class LoanWrongState(ServicingError):
    """The loan is not in a status that allows this."""

    code = "loan_wrong_state"
    status = 409
    message_zh = "贷款当前状态为“{status}”，不能{action_zh}"
    message_en = "The loan is {status}: it cannot be {action_en}"

    def __init__(self, *, status: str, action: str) -> None:
        zh, en = ACTION_WORDS.get(action, (action, action))
        super().__init__(field="status", params={"status": status, "action": action, "action_zh": zh,
                                                 "action_en": en})


ACTION_WORDS = {
    "open": ("开立贷款", "opened"),
    "disbursement": ("放款", "disbursed"),
    "repayment": ("还款", "repaid"),
    "prepayment": ("提前还款", "prepaid"),
    "reversal": ("冲正", "reversed"),
    "recovery": ("登记核销后收回", "recovered on"),
    "waiver": ("减免", "waived"),
    "deferral": ("展期", "deferred"),
    "rescheduling": ("重新安排还款计划", "rescheduled"),
    "write_off": ("核销", "written off"),
    "refund": ("退还溢缴款", "refunded"),
    "cancellation": ("在放款前取消", "cancelled before payout"),
    "add_guarantor": ("添加担保人", "given a guarantor"),
    "release_guarantor": ("解除担保人", "have a guarantor released"),
}


class ApplicationNotApproved(ServicingError):
    """A loan is opened only from an approved application."""

    code = "application_not_approved"
    status = 409
    message_zh = "申请尚未批准，不能开立贷款"
    message_en = "The application is not approved: no loan can be opened from it"


class LoanAlreadyOpened(ServicingError):
    """The application already has its loan."""

    code = "loan_already_opened"
    status = 409
    message_zh = "该申请已开立贷款 {number}"
    message_en = "The application already has loan {number}"


class ValueDateInFuture(ServicingError):
    """An event cannot be valued after the business date."""

    code = "value_date_in_future"
    message_zh = "起息日不能晚于营业日 {business_date}"
    message_en = "The value date cannot be after the business date {business_date}"


class LoanEventNotTaken(ServicingError):
    """The loan cannot take this event (the engine's reason code in `reason`)."""

    code = "loan_event_refused"
    message_zh = "无法执行：{reason}"
    message_en = "Cannot be applied: {reason}"

    def __init__(self, *, field: str, reason_code: str, reason: str) -> None:
        super().__init__(field=field, params={"reason": reason}, extra={"reason": reason_code})


class ChangeWrongState(ServicingError):
    """The change was decided already (or withdrawn)."""

    code = "loan_change_decided"
    status = 409
    message_zh = "该变更申请已处理（{status}）"
    message_en = "The change was already decided ({status})"


class SelfDecision(ServicingError):
    """Nobody decides their own proposal (maker-checker)."""

    code = "self_approval"
    status = 403
    message_zh = "不能审批本人提出的变更"
    message_en = "You cannot decide a change you proposed"


class NoCreditBalance(ServicingError):
    """A refund needs credit held for the borrower."""

    code = "no_credit_balance"
    message_zh = "该贷款没有可退还的溢缴款"
    message_en = "The loan holds no credit to refund"
class ContractNotSigned(ServicingError):
    """Only a contract signed by the borrower and the institution is paid out."""

    code = "contract_not_signed"
    status = 409
    message_zh = "借款合同尚未签署完成，不能放款"
    message_en = "The loan contract is not fully signed: the loan cannot be disbursed"


class PayoutAboveAllowed(ServicingError):
    """A payout (the first, or a tranche) above what the loan may still have paid out."""

    code = "payout_above_allowed"
    status = 422
    message_zh = "放款金额超过尚可放款的 {allowed}"
    message_en = "The payout is more than the {allowed} that may still be paid out"


class TranchesNotAllowed(ServicingError):
    """The product pays the loan out at once: no part payout, no second one."""

    code = "tranches_not_allowed"
    status = 422
    message_zh = "该产品不允许分笔放款"
    message_en = "The product does not pay out in tranches"


class BreakAlreadyResolved(ServicingError):
    """A reconciliation break is resolved once."""

    code = "break_already_resolved"
    status = 409
    message_zh = "该对账差异已处理"
    message_en = "The reconciliation break is resolved already"


class PayoutInProgress(ServicingError):
    """The loan's money is already on its way (or has arrived)."""

    code = "payout_in_progress"
    status = 409
    message_zh = "该贷款已有放款指令（{status}）"
    message_en = "The loan already has a payout ({status})"


class NoBankCard(ServicingError):
    """The money needs a card of the borrower's to go to (or come from)."""

    code = "bank_card_missing"
    status = 409
    message_zh = "借款人没有可用的银行卡"
    message_en = "The borrower has no bank card to use"


class PaymentNotFound(ServicingError):
    """No payment of ours under that reference."""

    code = "payment_not_found"
    status = 404
    message_zh = "未找到该支付"
    message_en = "No such payment"


class CallbackRejected(ServicingError):
    """A provider's notification whose signature does not verify: nothing is read from it."""

    code = "callback_signature_invalid"
    status = 400
    message_zh = "支付通知签名无效"
    message_en = "The payment notification's signature does not verify"


class StatementUnreadable(ServicingError):
    """The file is not the provider's daily statement."""

    code = "statement_unreadable"
    message_zh = "对账文件无法读取：{reason}"
    message_en = "The statement cannot be read: {reason}"


class ModeRequired(ServicingError):
    """A prepayment needs the borrower's choice: a shorter term or a lower installment."""

    code = "prepayment_mode_required"
    message_zh = "提前还款请选择缩短期限或减少月供"
    message_en = "Choose a shorter term or a lower installment for a prepayment"


class GroupMemberLoanOpen(ServicingError):
    """A member whose loan for the group is approved or not yet repaid cannot leave the group here."""

    code = "group_member_loan_open"
    status = 409
    message_zh = "该成员在本小组的贷款已批准或尚未结清，退出小组属于贷后事项，不能在此办理"
    message_en = "This member's loan for the group is approved or not yet repaid: leaving the group is a " \
                 "servicing matter, not done here"


class NoMeetingSchedule(ServicingError):
    """A collection sheet asked of a group with no meeting schedule."""

    code = "no_meeting_schedule"
    status = 409
    message_zh = "该小组没有例会安排，无法生成收款表"
    message_en = "The group has no meeting schedule: it has no collection sheet"


class NotAMeetingDay(ServicingError):
    """A collection sheet asked for a day the group does not meet."""

    code = "not_a_meeting_day"
    message_zh = "{date} 不是该小组的例会日"
    message_en = "The group does not meet on {date}"


class SheetLinesMismatch(ServicingError):
    """A saved collection sheet must answer every loan on the sheet once, and nothing else."""

    code = "sheet_lines_mismatch"
    message_zh = "收款表的行须与该例会应收的贷款一一对应（缺少或多出：{loans}）"
    message_en = "The sheet's lines must be the meeting's loans, each once (missing or extra: {loans})"


class SheetHandedOver(ServicingError):
    """A collection sheet's cash is handed over once."""

    code = "sheet_already_handed_over"
    status = 409
    message_zh = "该收款表的现金已交款"
    message_en = "This sheet's cash has already been handed over"


class SheetHandoverSamePerson(ServicingError):
    """Who collected the cash does not confirm its own handover (segregation of duties)."""

    code = "same_person"
    status = 403
    message_zh = "不能为本人保存的收款表确认交款，须由另一位财务人员确认"
    message_en = "You saved this sheet: another person confirms its handover"


class SheetAwaitingApproval(ServicingError):
    """A sheet with a line still waiting for a second person's approval cannot be handed over yet."""

    code = "sheet_awaiting_approval"
    status = 409
    message_zh = "收款表中仍有超过限额、待复核的还款（贷款 {loans}），复核后才能交款"
    message_en = "Lines of this sheet above the threshold still wait for approval (loans {loans}): hand over after"


class HandoverReasonRequired(ServicingError):
    """Less counted than collected: the shortage needs a reason."""

    code = "handover_reason_required"
    message_zh = "清点金额少于收款金额（短款 {shortage}），请填写原因"
    message_en = "Less was counted than collected (short by {shortage}): give the reason"
