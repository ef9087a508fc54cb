"""`microcredit loan replay` under the `fineract` profile: terms and steps in Fineract's own names.

A document with ``"profile": "fineract"`` gives the loan as Apache Fineract creates it
(``principal``, ``numberOfRepayments``, ``interestRatePerPeriod`` with
``interestRateFrequencyType``, ``transactionProcessingStrategyCode`` ...) and what happens to
it as the steps of a Fineract scenario (``disburse``, ``transaction``, ``undo_transaction``,
``add_charge`` ...), numbered by ``seq``.  The shapes here are the JSON Schema's: Fineract's own
parameter names and enum values, every one Fineract has for what the profile reads (the
schedule types, the strategies, the recalculation and compounding options ...).  Which of
those the profile reproduces is decided in one place, `lending.fineract.terms_from_fineract`
(and `events_from_fineract` for the steps), which names the field it refuses; nothing here
repeats those rules.  The state printed is the same `LoanStateRead` as for our own terms.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import ConfigDict, Discriminator, Field, Tag

from microcredit.platform.schema import InputSchema, type_tag

__all__ = ["FineractLoanReplay", "FineractStep", "FineractTerms"]

DecimalText = Annotated[str, Field(pattern=r"^\d+(\.\d+)?$", max_length=20)]
Seq = Annotated[int, Field(ge=1, le=100_000, description="The step's number; undo_transaction names one by it")]
SourceLine = Annotated[int | None, Field(default=None, ge=1, description="The Fineract source line it is taken from")]
Unit = Literal["DAYS", "WEEKS", "MONTHS"]
Frequency = Literal["SAME_AS_REPAYMENT_PERIOD", "DAILY", "WEEKLY", "MONTHLY"]
"""Fineract's ``RecalculationFrequencyType`` (rest and compounding)."""


class PaymentAllocationRule(InputSchema):
    """One rule of the advanced payment allocation strategy (Fineract ``paymentAllocation``)."""

    transactionType: str = Field(min_length=1, max_length=40)  # noqa: N815
    futureInstallmentAllocationRule: Literal[  # noqa: N815
        "NEXT_INSTALLMENT", "LAST_INSTALLMENT", "NEXT_LAST_INSTALLMENT", "REAMORTIZATION"]
    paymentAllocationOrder: list[str] = Field(min_length=1, max_length=20)  # noqa: N815


ChargeCalculation = Literal["FLAT", "PERCENT_OF_AMOUNT", "PERCENT_OF_AMOUNT_AND_INTEREST", "PERCENT_OF_INTEREST"]
"""Fineract's ``ChargeCalculationType`` values the profile reads."""


class ProductCharge(InputSchema):
    """A charge of the loan's product that Fineract applies by itself (``productCharges``): the
    overdue-installment charge, which each close of business adds to an installment overdue."""

    name: str = Field(min_length=1, max_length=60)
    charge: str | None = Field(default=None, max_length=60)
    chargeTimeType: Literal["OVERDUE_INSTALLMENT"]  # noqa: N815
    chargeCalculationType: ChargeCalculation  # noqa: N815
    amount: DecimalText
    penalty: bool = False


class FineractTerms(InputSchema):
    """The loan in Fineract's parameter names and enum values (docs/fineract-profile.md §1)."""

    currencyCode: Literal["EUR", "USD", "CNY", "HKD"]  # noqa: N815 -- Fineract's names, as Fineract spells them
    digitsAfterDecimal: int | None = Field(default=None, ge=0, le=4)  # noqa: N815
    inMultiplesOf: int | None = Field(default=None, ge=0)  # noqa: N815
    principal: DecimalText
    expectedDisbursementDate: dt.date  # noqa: N815
    submittedOnDate: dt.date | None = None  # noqa: N815
    numberOfRepayments: int = Field(ge=1, le=600)  # noqa: N815
    repaymentEvery: int = Field(ge=1, le=366)  # noqa: N815
    repaymentFrequencyType: Unit  # noqa: N815
    loanTermFrequency: int | None = Field(default=None, ge=1)  # noqa: N815
    loanTermFrequencyType: Unit | None = None  # noqa: N815
    interestRatePerPeriod: DecimalText  # noqa: N815
    interestRateFrequencyType: Literal["MONTHS", "YEARS"]  # noqa: N815
    interestType: Literal["FLAT", "DECLINING_BALANCE"]  # noqa: N815
    amortizationType: Literal["EQUAL_INSTALLMENTS", "EQUAL_PRINCIPAL"]  # noqa: N815
    interestCalculationPeriodType: Literal["SAME_AS_REPAYMENT_PERIOD", "DAILY"]  # noqa: N815
    daysInYearType: Literal["ACTUAL", "DAYS_360", "DAYS_364", "DAYS_365"] = "ACTUAL"  # noqa: N815
    daysInMonthType: Literal["ACTUAL", "DAYS_30"] = "ACTUAL"  # noqa: N815
    installmentAmountInMultiplesOf: int | None = Field(default=None, ge=0)  # noqa: N815
    graceOnPrincipalPayment: int | None = Field(default=None, ge=0)  # noqa: N815
    graceOnInterestPayment: int | None = Field(default=None, ge=0)  # noqa: N815
    graceOnInterestCharged: int | None = Field(default=None, ge=0)  # noqa: N815
    transactionProcessingStrategyCode: Literal[  # noqa: N815
        "mifos-standard-strategy",
        "due-penalty-fee-interest-principal-in-advance-principal-penalty-fee-interest-strategy",
        "due-penalty-interest-principal-fee-in-advance-penalty-interest-principal-fee-strategy",
        "advanced-payment-allocation-strategy",
    ]
    paymentAllocation: list[PaymentAllocationRule] | None = Field(  # noqa: N815
        default=None, max_length=10, description="The advanced strategy's rules, one per transaction type")
    loanScheduleType: Literal["CUMULATIVE", "PROGRESSIVE"] = "CUMULATIVE"  # noqa: N815
    loanScheduleProcessingType: Literal["HORIZONTAL", "VERTICAL"] | None = None  # noqa: N815
    repaymentStartDateType: Literal["DISBURSEMENT_DATE", "SUBMITTED_ON_DATE"] | None = None  # noqa: N815
    productCharges: list[ProductCharge] | None = Field(default=None, max_length=5)  # noqa: N815
    roundingMode: Literal["HALF_EVEN"] = "HALF_EVEN"  # noqa: N815
    multiDisburseLoan: bool | None = None  # noqa: N815
    allowVariableInstallments: Literal[False] | None = None  # noqa: N815
    isEqualAmortization: Literal[False] | None = None  # noqa: N815
    enableDownPayment: bool | None = None  # noqa: N815
    disbursedAmountPercentageForDownPayment: DecimalText | None = None  # noqa: N815
    enableAutoRepaymentForDownPayment: bool | None = None  # noqa: N815
    isInterestRecalculationEnabled: bool | None = None  # noqa: N815
    rescheduleStrategyMethod: Literal[  # noqa: N815
        "RESCHEDULE_NEXT_REPAYMENTS", "REDUCE_NUMBER_OF_INSTALLMENTS", "REDUCE_EMI_AMOUNT", "ADJUST_LAST_UNPAID_PERIOD",
    ] | None = None
    interestRecalculationCompoundingMethod: Literal[  # noqa: N815
        "NONE", "INTEREST", "FEE", "INTEREST_AND_FEE"] | None = None
    recalculationRestFrequencyType: Frequency | None = None  # noqa: N815
    recalculationRestFrequencyInterval: int | None = Field(default=None, ge=1, le=366)  # noqa: N815
    recalculationCompoundingFrequencyType: Frequency | None = None  # noqa: N815
    recalculationCompoundingFrequencyInterval: int | None = Field(default=None, ge=1, le=366)  # noqa: N815
    recalculationCompoundingFrequencyOnDayType: int | None = Field(default=None, ge=1, le=31)  # noqa: N815
    preClosureInterestCalculationStrategy: Literal[  # noqa: N815
        "TILL_PRE_CLOSURE_DATE", "TILL_REST_FREQUENCY_DATE"] | None = None
    isArrearsBasedOnOriginalSchedule: bool | None = None  # noqa: N815
    isCompoundingToBePostedAsTransaction: bool | None = None  # noqa: N815
    allowCompoundingOnEod: bool | None = None  # noqa: N815
    allowPartialPeriodInterestCalcualtion: bool | None = None  # noqa: N815 -- sic, Fineract's spelling
    principalThresholdForLastInstallment: int | None = None  # noqa: N815
    product: str | None = Field(default=None, max_length=120)
    accountingRule: str | None = Field(default=None, max_length=40)  # noqa: N815
    graceOnArrearsAgeing: int | None = None  # noqa: N815
    maxTrancheCount: int | None = None  # noqa: N815
    maxOutstandingLoanBalance: DecimalText | None = None  # noqa: N815
    disallowExpectedDisbursements: bool | None = None  # noqa: N815
    allowApprovedDisbursedAmountsOverApplied: bool | None = None  # noqa: N815
    overAppliedCalculationType: str | None = Field(default=None, max_length=20)  # noqa: N815
    overAppliedNumber: int | None = None  # noqa: N815
    globalConfiguration: dict[str, bool] | None = None  # noqa: N815


class _Step(InputSchema):
    seq: Seq
    line: SourceLine


class SetBusinessDate(_Step):
    """The business date moves (a close of business); the state is read on the last one."""

    type: Literal["set_business_date"]
    date: dt.date


class SubmitApplication(_Step):
    """The application is submitted (moves no money)."""

    type: Literal["submit_application"]
    date: dt.date
    expectedDisbursementDate: dt.date | None = None  # noqa: N815


class Approve(_Step):
    """The loan is approved (moves no money)."""

    type: Literal["approve"]
    date: dt.date
    approvedLoanAmount: DecimalText | None = None  # noqa: N815
    expectedDisbursementDate: dt.date | None = None  # noqa: N815


class Disburse(_Step):
    """The loan is paid out."""

    type: Literal["disburse"]
    date: dt.date
    amount: DecimalText


class Transaction(_Step):
    """Money from the borrower (or on the borrower's behalf), allocated as a repayment."""

    type: Literal["transaction"]
    transactionType: Literal["REPAYMENT", "GOODWILL_CREDIT", "PAYOUT_REFUND", "MERCHANT_ISSUED_REFUND"]  # noqa: N815
    paymentType: str | None = Field(default=None, max_length=60)  # noqa: N815
    date: dt.date
    amount: DecimalText


class UndoTransaction(_Step):
    """An earlier transaction (by its ``seq``) undone."""

    type: Literal["undo_transaction"]
    target_seq: Seq
    date: dt.date | None = None


class AddCharge(_Step):
    """A charge added to the loan (a fee, or a penalty): falling due on ``dueDate``
    (SPECIFIED_DUE_DATE), taken at the disbursement (DISBURSEMENT), or on every installment
    (INSTALMENT_FEE); ``amount`` flat, or a percentage of the principal disbursed (plus the
    loan's interest, or of the interest alone)."""

    type: Literal["add_charge"]
    name: str = Field(min_length=1, max_length=60)
    charge: str | None = Field(default=None, max_length=60)
    chargeTimeType: Literal["SPECIFIED_DUE_DATE", "DISBURSEMENT", "INSTALMENT_FEE"]  # noqa: N815
    chargeCalculationType: ChargeCalculation  # noqa: N815
    amount: DecimalText
    penalty: bool = False
    dueDate: dt.date | None = Field(default=None, description="Required for SPECIFIED_DUE_DATE")  # noqa: N815
    locale: str | None = Field(default=None, max_length=10, description="Fineract's request locale (unused)")


class UndoDisbursal(_Step):
    """Every disbursement and transaction taken back (the loan is approved again)."""

    type: Literal["undo_disbursal"]


class UndoLastDisbursal(_Step):
    """The last disbursement (and the transactions after it) taken back."""

    type: Literal["undo_last_disbursal"]


class Payoff(_Step):
    """The loan paid off: the amount Fineract's prepayLoan template asks on ``date``."""

    type: Literal["payoff"]
    date: dt.date
    paymentType: str | None = Field(default=None, max_length=60)  # noqa: N815
    note: str | None = Field(default=None, max_length=400)


class GlobalConfiguration(_Step):
    """A tenant switch (the profile takes business dates enabled only)."""

    type: Literal["global_configuration"]
    name: str = Field(min_length=1, max_length=80)
    enabled: bool
    value: int | None = None


class CobWorkflow(_Step):
    """A step added to or removed from the close of business (moves no money)."""

    type: Literal["cob_workflow"]
    step: str = Field(min_length=1, max_length=80)
    action: Literal["add", "remove"]


class RunJob(_Step):
    """A Fineract job run on a business date (moves no money in the profile)."""

    type: Literal["run_job"]
    job: str = Field(min_length=1, max_length=80)
    business_date: dt.date | None = None


class InlineCob(_Step):
    """A close of business run for the loan (moves no money in the profile)."""

    type: Literal["inline_cob"]
    business_date: dt.date


FineractStep = Annotated[
    Annotated[SetBusinessDate, Tag("set_business_date")] | Annotated[SubmitApplication, Tag("submit_application")]
    | Annotated[Approve, Tag("approve")] | Annotated[Disburse, Tag("disburse")]
    | Annotated[Transaction, Tag("transaction")] | Annotated[UndoTransaction, Tag("undo_transaction")]
    | Annotated[AddCharge, Tag("add_charge")] | Annotated[InlineCob, Tag("inline_cob")]
    | Annotated[UndoDisbursal, Tag("undo_disbursal")] | Annotated[UndoLastDisbursal, Tag("undo_last_disbursal")]
    | Annotated[Payoff, Tag("payoff")] | Annotated[GlobalConfiguration, Tag("global_configuration")]
    | Annotated[CobWorkflow, Tag("cob_workflow")] | Annotated[RunJob, Tag("run_job")],
    Discriminator(type_tag),
]


class FineractLoanReplay(InputSchema):
    """A loan in Apache Fineract's terms and steps, and the day to read its state on."""

    profile: Literal["fineract"]
    source: str | None = Field(default=None, max_length=400, description="Where the loan comes from (a citation)")
    terms: FineractTerms
    events: list[FineractStep] = Field(max_length=10_000)
    as_of: dt.date = Field(description="Read the state on this day (steps after it are not yet applied)")

    model_config = ConfigDict(extra="forbid")
