"""The default chart of accounts of a microcredit institution, and the posting map other domains use.

Every institution starts with this chart (seeded when the institution is
created, and by migration 0011 for institutions that existed before). It is
data, here and only here; `docs/ledger.md` prints it as a table. Codes follow
the numbering of the Chinese enterprise accounting standards' chart (1xxx
assets, 2xxx liabilities, 4xxx equity, 6xxx income and expenses), so an
accountant recognises them; names are given in Chinese and English.

Each default account has a `key`, the role it plays ("loan_principal"). Other
domains never post to a code: they post to a role, through a `PostingMap`
(role → account code). `DEFAULT_POSTING_MAP` maps every role to the default
chart; a product may carry its own codes for the loan roles (`PRODUCT_ROLES`:
its principal or interest income to a sub-account, say), which a loan pins when
it is opened (`PostingMap.with_codes`); `ROLE_TYPES` is the account type each
role needs, checked when a product names its accounts.

Worked example — a disbursement of 1,000.00 then its first repayment of
1,050.00 (1,000.00 principal, 50.00 interest) on the accrual basis::

    Dr loan_principal       1000.00   Cr bank               1000.00   (disbursement, both books)
    Dr interest_receivable    50.00   Cr interest_income      50.00   (accrual, accrual book only)
    Dr bank                 1050.00   Cr loan_principal     1000.00   (repayment)
                                      Cr interest_receivable  50.00
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

CHART_VERSION = "1"


@dataclass(frozen=True)
class DefaultAccount:
    """One account of the default chart."""

    code: str
    key: str
    name_zh: str
    name_en: str
    type: str  # asset, liability, equity, income, expense
    parent: str | None = None  # the parent's code
    contra: bool = False  # a contra account keeps the opposite of its type's normal side
    description: str | None = None


DEFAULT_CHART: tuple[DefaultAccount, ...] = (
    # Assets
    DefaultAccount("1001", "cash_on_hand", "库存现金", "Cash on hand", "asset",
                   description="Header of the institution's cash (notes and coins), wherever it is"),
    DefaultAccount("100101", "field_cash", "库存现金—外勤在途", "Cash collected in the field, not yet handed over",
                   "asset", parent="1001",
                   description="Cash a loan officer collected at group meetings and has not yet handed to finance"),
    DefaultAccount("1002", "bank", "银行存款", "Bank deposits", "asset",
                   description="The institution's own funds at its bank: where disbursements leave from"),
    DefaultAccount("1012", "payment_clearing", "其他货币资金—支付渠道", "Payment channel clearing", "asset",
                   description="Money collected by a payment provider and not yet settled to the bank"),
    DefaultAccount("1301", "loans", "贷款", "Loans", "asset", description="Header of the loan portfolio"),
    DefaultAccount("130101", "loan_principal", "贷款—本金", "Loan portfolio — principal", "asset", parent="1301"),
    DefaultAccount("1132", "interest_receivable", "应收利息", "Interest receivable", "asset"),
    DefaultAccount("1133", "fee_receivable", "应收费用", "Fees receivable", "asset"),
    DefaultAccount("1134", "penalty_receivable", "应收罚息", "Penalty interest receivable", "asset"),
    DefaultAccount("1221", "other_receivables", "其他应收款", "Other receivables", "asset",
                   description="Header of amounts owed to the institution other than loans"),
    DefaultAccount("122101", "staff_shortage", "其他应收款—外勤交款短款",
                   "Receivable from staff — cash handover shortages", "asset", parent="1221",
                   description="Cash collected in the field that was short when handed over: owed by the officer"),
    DefaultAccount("1304", "loss_provision", "贷款损失准备", "Loan loss provision", "asset", contra=True,
                   description="Contra-asset: reduces the portfolio's carrying amount (credit balance)"),
    # Liabilities
    DefaultAccount("2001", "borrowings", "借入资金", "Borrowed funds", "liability",
                   description="Loans the institution took from banks and other funders"),
    DefaultAccount("2241", "borrower_credit", "借款人溢缴款", "Borrower credit balances", "liability",
                   description="Overpayments owed back to borrowers"),
    DefaultAccount("2202", "fee_payable", "应付合作方款项", "Payable to fee payees", "liability"),
    DefaultAccount("220201", "payable_guarantor", "应付担保费", "Payable to the guarantor", "liability",
                   parent="2202"),
    DefaultAccount("220202", "payable_insurer", "应付保险费", "Payable to the insurer", "liability", parent="2202"),
    DefaultAccount("220203", "payable_platform", "应付平台服务费", "Payable to the platform", "liability",
                   parent="2202"),
    DefaultAccount("2299", "suspense", "待查款项", "Suspense", "liability",
                   description="Receipts not yet matched to a loan or a purpose; cleared to zero"),
    # Equity
    DefaultAccount("4001", "capital", "实收资本", "Paid-in capital", "equity"),
    DefaultAccount("4104", "retained_earnings", "未分配利润", "Retained earnings", "equity"),
    # Income
    DefaultAccount("6011", "interest_income", "利息收入", "Interest income", "income"),
    DefaultAccount("6021", "fee_income", "手续费收入", "Fee income", "income"),
    DefaultAccount("6031", "penalty_income", "罚息收入", "Penalty interest income", "income"),
    DefaultAccount("6301", "recoveries_income", "已核销贷款收回", "Recoveries of written-off loans", "income"),
    # Expenses
    DefaultAccount("6701", "provision_expense", "贷款损失准备计提", "Loan loss provision expense", "expense"),
    DefaultAccount("6711", "writeoff_expense", "贷款核销损失", "Write-off expense", "expense",
                   description="Losses written off beyond what the provision covered"),
)

KEYS = frozenset(a.key for a in DEFAULT_CHART)


@dataclass(frozen=True)
class PostingMap:
    """Which account (by code) each role of a posting goes to; servicing keeps one per product.

    `PostingMap()` is the default chart's map; a product's map replaces some
    codes (`PostingMap(interest_income="601101")`), and every code must name
    an active account of the institution when an entry is posted.
    """

    field_cash: str = "100101"
    bank: str = "1002"
    payment_clearing: str = "1012"
    loan_principal: str = "130101"
    interest_receivable: str = "1132"
    fee_receivable: str = "1133"
    penalty_receivable: str = "1134"
    staff_shortage: str = "122101"
    loss_provision: str = "1304"
    borrower_credit: str = "2241"
    payable_guarantor: str = "220201"
    payable_insurer: str = "220202"
    payable_platform: str = "220203"
    suspense: str = "2299"
    interest_income: str = "6011"
    fee_income: str = "6021"
    penalty_income: str = "6031"
    recoveries_income: str = "6301"
    provision_expense: str = "6701"
    writeoff_expense: str = "6711"

    def code(self, role: str) -> str:
        """The account code of `role` ("interest_income")."""
        if role not in {f.name for f in fields(self)}:
            raise KeyError(role)
        return str(getattr(self, role))

    def with_codes(self, codes: Mapping[str, str]) -> PostingMap:
        """This map with some roles sent to other codes (a product's own accounts)."""
        return replace(self, **codes) if codes else self


DEFAULT_POSTING_MAP = PostingMap()

# The roles a product may send to accounts of its own: those of a loan's postings. The provision
# (a portfolio's, posted by the close of business), suspense (money not yet matched to a loan) and the
# field cash with its shortages (a meeting's cash is handed over for the whole sheet, whatever the products
# of its loans) stay on the institution's accounts.
PRODUCT_ROLES: tuple[str, ...] = tuple(f.name for f in fields(PostingMap)
                                       if f.name not in ("loss_provision", "provision_expense", "suspense",
                                                         "field_cash", "staff_shortage"))

# The account type each role needs (the default chart's account of that role says it).
ROLE_TYPES: dict[str, str] = {a.key: a.type for a in DEFAULT_CHART if a.key in {f.name for f in fields(PostingMap)}}
