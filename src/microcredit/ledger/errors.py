"""Refusals of the ledger."""

from __future__ import annotations

from microcredit.errors import DomainError


class EntryUnbalanced(DomainError):
    """The lines' debits and credits differ in some currency."""

    status = 422
    code = "entry_unbalanced"
    message_zh = "借贷不平衡：借方合计减贷方合计为 {differences}"
    message_en = "The entry does not balance: debits minus credits is {differences}"


class EntryTooShort(DomainError):
    """An entry needs at least one debit and one credit line."""

    status = 422
    code = "entry_needs_two_lines"
    message_zh = "一笔分录至少需要一条借方和一条贷方"
    message_en = "An entry needs at least one debit line and one credit line"


class LineAmountInvalid(DomainError):
    """A line's amount is zero or negative, or both or neither side is given."""

    status = 422
    code = "line_amount_invalid"
    message_zh = "每一行只能填写借方或贷方其中之一，金额须大于零"
    message_en = "Each line takes either a debit or a credit, greater than zero"


class AccountNotFound(DomainError):
    """No account with that code (or id) in the institution."""

    status = 422
    code = "account_not_found"
    message_zh = "科目不存在"
    message_en = "No such account"


class AccountClosed(DomainError):
    """Postings to a closed account are refused."""

    status = 409
    code = "account_closed"
    message_zh = "科目已停用，不能记账"
    message_en = "The account is closed to postings"


class LineCurrencyMismatch(DomainError):
    """The line's currency is not the account's."""

    status = 422
    code = "currency_mismatch"
    message_zh = "金额币种与科目币种不一致"
    message_en = "The amount's currency is not the account's"


class PeriodClosed(DomainError):
    """The entry's date is on or before the date the books are closed through."""

    status = 409
    code = "period_closed"
    message_zh = "{closed_through}（含）之前的会计期间已结账，不能记账"
    message_en = "The books are closed through {closed_through}: nothing can be posted on or before it"


class EntryDateInFuture(DomainError):
    """A manual entry dated after the institution's business date."""

    status = 422
    code = "entry_date_in_future"
    message_zh = "记账日期不能晚于当前营业日 {business_date}"
    message_en = "The date cannot be after the business date {business_date}"


class SourceAlreadyPosted(DomainError):
    """The source (kind and id) already has its entry: a second posting would count it twice."""

    status = 409
    code = "entry_source_posted"
    message_zh = "该业务已记账，不能重复记账"
    message_en = "This source already has its entry"


class EntryAlreadyReversed(DomainError):
    """An entry is reversed at most once."""

    status = 409
    code = "entry_already_reversed"
    message_zh = "该分录已冲销过"
    message_en = "This entry was already reversed"


class ReversalNotReversible(DomainError):
    """A reversal is not reversed in turn: post the entry again instead."""

    status = 409
    code = "entry_is_reversal"
    message_zh = "冲销分录不能再冲销；如需恢复，请重新记账"
    message_en = "A reversal cannot be reversed; post the entry again instead"


class AccountCodeTaken(DomainError):
    """The institution already has an account with that code."""

    status = 409
    code = "account_code_taken"
    message_zh = "科目代码已存在"
    message_en = "An account with this code exists"


class ParentInvalid(DomainError):
    """The parent must be an active account of the same type and currency."""

    status = 422
    code = "account_parent_invalid"
    message_zh = "上级科目须为同类型、同币种的在用科目"
    message_en = "The parent must be an active account of the same type and currency"


class AccountNotEmpty(DomainError):
    """An account is closed only at a zero balance and without active sub-accounts."""

    status = 409
    code = "account_not_empty"
    message_zh = "科目余额不为零或仍有在用的下级科目，不能停用"
    message_en = "The account has a balance or active sub-accounts and cannot be closed"


class AccountMappedByProduct(DomainError):
    """A published product version sends one of its loans' posting roles to this account."""

    status = 409
    code = "account_mapped_by_product"
    message_zh = "科目是已发布产品 {product} 第 {version} 版的{role}科目，不能停用；请先发布该产品改用其他科目的新版本"
    message_en = ("The account is the {role} account of the published product {product} version {version} and "
                  "cannot be closed; publish a version of that product with another account first")


class AccountAlreadyClosed(DomainError):
    """The account is closed already."""

    status = 409
    code = "account_already_closed"
    message_zh = "科目已停用"
    message_en = "The account is already closed"


class CloseDateInvalid(DomainError):
    """A close must move the closed date forward (and not past the business date)."""

    status = 422
    code = "close_date_invalid"
    message_zh = "结账日期须晚于已结账日期 {closed_through}，且不晚于营业日"
    message_en = "The close date must be after the current closed date ({closed_through}) and not after the " \
                 "business date"


class ReopenDateInvalid(DomainError):
    """A reopening must move the closed date back."""

    status = 422
    code = "reopen_date_invalid"
    message_zh = "重新打开后的结账日期须早于当前结账日期 {closed_through}"
    message_en = "After reopening, the closed date must be before the current one ({closed_through})"
