"""API shapes of the ledger: accounts, entries and their lines, reports, periods.

Amounts are `MoneyStr` (decimal strings in CNY) both ways: the API serves the
CNY books the system keeps (the service itself takes any currency the money
table knows, and balances per currency).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import ConfigDict, Field

from microcredit.platform.schema import InputSchema, MoneyStr, OutputSchema

AccountType = Literal["asset", "liability", "equity", "income", "expense"]
SideName = Literal["debit", "credit"]
Basis = Literal["both", "accrual", "cash"]
Book = Literal["accrual", "cash"]
CODE_FIELD = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]*$",
                   description="Account code (digits by convention: 1xxx assets … 6xxx income and expenses)",
                   examples=["100201"])


class LedgerAccountRead(OutputSchema):
    """An account of the chart."""

    id: int
    code: str
    key: str | None = Field(description="The role of a default-chart account (e.g. `loan_principal`); null for "
                                        "accounts people added")
    name_zh: str
    name_en: str
    type: AccountType
    normal_side: SideName
    parent_id: int | None
    currency: str
    status: Literal["active", "closed"]
    description: str | None
    created_at: datetime
    closed_at: datetime | None


class LedgerAccountCreate(InputSchema):
    """A new account; its normal side follows its type (the opposite for a contra account)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"code": "100201", "name_zh": "银行存款—工行", "name_en": "Bank deposits — ICBC", "type": "asset",
         "parent_id": 1}]})

    code: str = CODE_FIELD
    name_zh: str = Field(min_length=1, max_length=120)
    name_en: str = Field(min_length=1, max_length=120)
    type: AccountType
    parent_id: int | None = Field(default=None, ge=1, description="An active account of the same type")
    currency: Literal["CNY"] = "CNY"
    contra: bool = Field(default=False, description="Keeps the opposite of its type's normal side (a provision)")
    description: str | None = Field(default=None, max_length=255)


class LedgerAccountUpdate(InputSchema):
    """New names or description (the code, type and side never change)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name_en": "Bank deposits — main account"}]})

    name_zh: str | None = Field(default=None, min_length=1, max_length=120)
    name_en: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=255)


class JournalLineCreate(InputSchema):
    """One line: an account and either a debit or a credit (greater than zero)."""

    account_code: str = CODE_FIELD
    debit: MoneyStr | None = None
    credit: MoneyStr | None = None
    memo: str | None = Field(default=None, max_length=255)


class JournalEntryCreate(InputSchema):
    """A manual entry: its lines must balance (Σ debits = Σ credits) or it is refused (`entry_unbalanced`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "business_date": "2026-11-25", "description": "股东注资 / Capital injection", "basis": "both",
        "lines": [{"account_code": "1002", "debit": "500000.00"},
                  {"account_code": "4001", "credit": "500000.00"}]}]})

    business_date: date = Field(description="The accounting date (after the closed period, not after the business "
                                            "date)")
    description: str = Field(min_length=1, max_length=255)
    basis: Basis = Field(default="both", description="The books the entry belongs to: both, accrual or cash")
    lines: list[JournalLineCreate] = Field(min_length=1, max_length=200)


class JournalEntryReverse(InputSchema):
    """A reversal; by default dated the original's date if open, else the day after the closed date."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"description": "冲销录入错误 / Entered in error"}]})

    business_date: date | None = None
    description: str | None = Field(default=None, min_length=1, max_length=255)


class JournalLineRead(OutputSchema):
    """A line with its account."""

    line_no: int
    account_id: int
    account_code: str
    account_name_zh: str
    account_name_en: str
    debit: MoneyStr | None
    credit: MoneyStr | None
    memo: str | None


class JournalEntryRead(OutputSchema):
    """An entry with its lines and totals."""

    id: int
    business_date: date
    description: str
    source_kind: str = Field(description="manual, reversal; later loan_event and others")
    source_ref: str | None
    basis: Basis
    reverses_entry_id: int | None
    reversed_by_entry_id: int | None
    created_by_user_id: int | None
    created_at: datetime
    debit_total: MoneyStr
    credit_total: MoneyStr
    lines: list[JournalLineRead]


class TrialBalanceRowRead(OutputSchema):
    """One account's line: opening balance, movements, closing balance (balances in their column)."""

    account_id: int
    code: str
    name_zh: str
    name_en: str
    type: AccountType
    parent_id: int | None
    opening_debit: MoneyStr
    opening_credit: MoneyStr
    debit: MoneyStr
    credit: MoneyStr
    closing_debit: MoneyStr
    closing_credit: MoneyStr


class TrialBalanceTotalsRead(OutputSchema):
    """Column totals of one currency; `balanced` when each pair is equal."""

    currency: str
    opening_debit: MoneyStr
    opening_credit: MoneyStr
    debit: MoneyStr
    credit: MoneyStr
    closing_debit: MoneyStr
    closing_credit: MoneyStr
    balanced: bool


class TrialBalanceRead(OutputSchema):
    """The trial balance of one book over a range (or as of a date)."""

    date_from: date | None
    date_to: date
    basis: Book
    rows: list[TrialBalanceRowRead]
    totals: list[TrialBalanceTotalsRead]


class StatementLineRead(OutputSchema):
    """A line of a statement with the balance after it (on the account's normal side)."""

    entry_id: int
    line_no: int
    business_date: date
    description: str
    source_kind: str
    debit: MoneyStr | None
    credit: MoneyStr | None
    balance: MoneyStr
    memo: str | None


class StatementRead(OutputSchema):
    """An account's statement: opening balance, one page of lines with running balances, closing balance."""

    account: LedgerAccountRead
    basis: Book
    date_from: date | None
    date_to: date | None
    opening: MoneyStr
    debits: MoneyStr
    credits: MoneyStr
    closing: MoneyStr
    items: list[StatementLineRead]
    total: int
    page: int
    page_size: int


class GeneralLedgerAccountRead(OutputSchema):
    """One account's part of the general ledger."""

    account: LedgerAccountRead
    opening: MoneyStr
    debits: MoneyStr
    credits: MoneyStr
    closing: MoneyStr
    lines: list[StatementLineRead]


class PeriodEventRead(OutputSchema):
    """A close or a reopening."""

    id: int
    action: Literal["close", "reopen"]
    closed_before: date | None
    closed_after: date | None
    reason: str | None
    user_id: int | None
    at: datetime


class PeriodsRead(OutputSchema):
    """The closed date, the business date and the latest closes and reopenings."""

    closed_through: date | None
    business_date: date
    history: list[PeriodEventRead]


class PeriodClose(InputSchema):
    """Close the books through a date."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"through": "2026-10-31"}]})

    through: date


class PeriodReopen(InputSchema):
    """Move the closed date back (null: nothing closed), with the reason."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"through": "2026-09-30", "reason": "十月凭证漏记，重新打开补录 / October voucher missed"}]})

    through: date | None = None
    reason: str = Field(min_length=2, max_length=255)
