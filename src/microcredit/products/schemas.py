"""API shapes of products: the loan description (what to quote) and the quote.

A `LoanDescription` is the JSON a client (the calculator page, the CLI, a
product designer) sends to get a repayment schedule.  Money and rates
travel as decimal strings ("10000.00", "12.5"); a JSON number is refused
with an error naming the field, because most clients read it as a float.
Amounts are `MoneyStr` both ways: parsed to `Money` here, at the edge, and
written back from the `Money` the core returns (`QuoteRead`: schedule rows,
totals, fee lines with payees, the APR disclosure and the warnings).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    Tag,
    TypeAdapter,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from microcredit.lending.money import Money
from microcredit.platform.schema import InputSchema, MoneyStr, OutputSchema, field_error, money_bounds, type_tag
from microcredit.products.fineract_schemas import FineractLoanReplay

__all__ = [
    "AprRead",
    "CalendarDayCreate",
    "CalendarDayRead",
    "CalendarDayUpdate",
    "CalendarYearRead",
    "CalendarYearSet",
    "FeeItem",
    "FeeLineRead",
    "InstallmentRead",
    "LoanDescription",
    "MovementItem",
    "QuoteRead",
    "SegmentRead",
    "TotalsRead",
    "WarningRead",
]

MAX_AMOUNT = "100000000"


def _rate_in(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, float):
        raise field_error("rate_not_string", 'send rates as decimal strings such as "12.5", not JSON numbers',
                          '利率请以字符串形式提交，例如 "12.5"')
    if isinstance(value, bool):
        raise field_error("rate_invalid", "not a rate", "不是有效的利率")
    if isinstance(value, int | str):
        try:
            rate = Decimal(str(value).strip())
        except InvalidOperation:
            raise field_error("rate_invalid", "not a decimal rate", "不是有效的利率") from None
        if not rate.is_finite():
            raise field_error("rate_invalid", "not a finite rate", "不是有效的利率")
        exponent = rate.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -6:
            raise field_error("rate_decimals", "at most 6 decimal places", "利率最多六位小数")
        return rate
    return value


PercentStr = Annotated[
    Decimal,
    BeforeValidator(_rate_in),
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d+(\.\d{1,6})?$", "examples": ["12.5"]},
    ),
]

RepaymentMethodName = Literal[
    "equal_installment",
    "equal_principal",
    "interest_monthly_principal_at_maturity",
    "interest_quarterly_principal_at_maturity",
    "bullet",
    "revolving_daily",
]
PeriodUnitName = Literal["day", "week", "month", "year"]
DayCountName = Literal["ACT/360", "ACT/365F", "ACT/364", "ACT/ACT", "30/360"]
RoundingName = Literal["half_up", "half_even", "down", "up"]
BusinessDayName = Literal["none", "following", "modified_following", "preceding", "modified_preceding"]
FeeKindName = Literal["upfront_deducted", "upfront_financed", "per_installment", "at_disbursement"]
FeeBasisName = Literal["principal", "principal_and_interest", "interest", "installment"]
PayeeName = Literal["lender", "guarantor", "insurer", "platform"]


class FeeItem(InputSchema):
    """One fee: a fixed amount or a percent of the principal, its kind and payee."""

    name: str = Field(min_length=1, max_length=60, examples=["服务费"])
    kind: FeeKindName = Field(
        description="upfront_deducted: kept back from the money paid out; upfront_financed: added to the principal; "
        "per_installment: with every installment; at_disbursement: paid by the borrower on the disbursement day"
    )
    amount: MoneyStr | None = Field(default=None, description="Fixed amount per charge")
    percent: PercentStr | None = Field(default=None, description='Percent of the basis per charge, e.g. "0.6"')
    basis: FeeBasisName = Field(
        default="principal",
        description="What percent is a percent of: the amount, the amount plus the schedule's total interest, "
        "the interest (those two for fees charged once: upfront_deducted or at_disbursement), or each installment's "
        "own principal + interest (installment: for per_installment fees, charged row by row)",
    )
    payee: PayeeName = "lender"
    waivable: bool = Field(default=True, description="Whether the institution may waive it (a third party's fee "
                           "usually may not)")

    @model_validator(mode="after")
    def _one_of_amount_or_percent(self) -> Self:
        if (self.amount is None) == (self.percent is None):
            raise field_error("fee_amount_or_percent", "give exactly one of amount or percent",
                              "费用请填写金额或比例中的一项")
        if self.amount is not None and self.amount.is_negative:
            raise field_error("fee_negative", "a fee cannot be negative", "费用不能为负数")
        if self.percent is not None and not 0 <= self.percent <= 100:
            raise field_error("fee_percent_range", "a fee percent is between 0 and 100", "费用比例应在 0 到 100 之间")
        if self.basis != "principal" and self.percent is None:
            raise field_error("fee_basis_needs_percent", "a fixed amount has no basis: give percent",
                              "固定金额的费用没有计费基数，请填写比例")
        if self.basis in ("principal_and_interest", "interest") and self.kind in ("upfront_financed",
                                                                                   "per_installment"):
            raise field_error("fee_basis_not_allowed",
                              f"a {self.kind} fee is a percent of the amount, not of interest",
                              "计入本金或按期收取的费用只能按金额的比例计算，不能按利息计算")
        if self.basis == "installment" and self.kind != "per_installment":
            raise field_error("fee_basis_not_allowed",
                              "only a fee per installment is a percent of each installment",
                              "只有按期收取的费用才能按每期本息的比例计算")
        return self


class MovementItem(InputSchema):
    """A draw or a principal repayment of a revolving (随借随还) loan."""

    on: date
    kind: Literal["draw", "repayment"]
    amount: Annotated[MoneyStr, money_bounds(gt="0")]


def _repayment_periods(data: dict[str, Any]) -> int | None:
    """How many repayment periods the core makes of a description (None: not yet known)."""
    method, term = data.get("repayment_method"), data.get("term")
    if not isinstance(term, int) or method is None:
        return None
    if method == "bullet":
        return 1
    if method == "revolving_daily":
        return term  # no schedule: graces do not apply; only bounded by the term
    if method == "interest_quarterly_principal_at_maturity":
        return term // 3 if term % 3 == 0 else None  # not whole quarters: refused by the model check
    every = data.get("repayment_every")
    if not isinstance(every, int) or term % every:
        return None  # repayment_every already refused
    return term // every


class LoanDescription(InputSchema):
    """A loan to quote: amount, rate, term, repayment method and conventions."""

    amount: Annotated[MoneyStr, money_bounds(gt="0", le=MAX_AMOUNT)] = Field(
        description="Principal in yuan, as a string"
    )
    currency: Literal["CNY"] = "CNY"
    annual_rate: PercentStr = Field(ge=0, le=100, description='Nominal annual interest rate in percent, e.g. "12"')
    repayment_method: RepaymentMethodName = Field(
        description=(
            "equal_installment 等额本息; equal_principal 等额本金; "
            "interest_monthly/quarterly_principal_at_maturity 按月/按季付息到期还本; "
            "bullet 到期一次还本付息; revolving_daily 按日计息、随借随还"
        )
    )
    term: int = Field(ge=1, le=600, description="Term in `period_unit`s (1-600)")
    period_unit: PeriodUnitName = "month"
    repayment_every: int = Field(
        default=1, ge=1, le=12, description="Installments every N units (Fineract repaymentEvery)"
    )
    interest_dates: Literal["anniversary", "twentieth_of_quarter_end"] = Field(
        default="anniversary",
        description="For quarterly interest: on the anniversary day or on 3/20, 6/20, 9/20, 12/20",
    )
    start_date: date = Field(description="Disbursement date; interest runs from it")
    first_due_date: date | None = Field(
        default=None, description="First due date; a broken first period bears interest on actual days"
    )
    day_count: DayCountName = "ACT/360"
    days_in_month: Literal["actual", "30"] | None = Field(
        default=None, description="30 turns ACT/360 into 30/360 (Fineract daysInMonthType)"
    )
    interest_method: Literal["declining_balance", "flat"] = "declining_balance"
    interest_calculation: Literal["same_as_repayment", "daily"] = "same_as_repayment"
    rounding: RoundingName = "half_up"
    installment_multiple: MoneyStr | None = Field(
        default=None, description='Round equal installments to a multiple, e.g. "1" yuan'
    )
    business_day_rule: BusinessDayName = "none"
    calendar: Literal["cn", "none"] = Field(
        default="none",
        description="cn: the institution's calendar of Chinese holidays and make-up working days (调休); "
        "none: weekends only",
    )
    grace_on_principal_periods: int = Field(default=0, ge=0, le=600)
    grace_on_interest_payment_periods: int = Field(default=0, ge=0, le=600)
    interest_free_periods: int = Field(default=0, ge=0, le=600)
    fees: list[FeeItem] = Field(default_factory=list, max_length=20)
    movements: list[MovementItem] = Field(
        default_factory=list,
        validate_default=True,
        max_length=1000,
        description="revolving_daily only: draws and repayments by date",
    )
    day_counting: Literal["head_not_tail", "both_ends"] = Field(
        default="head_not_tail", description="revolving_daily: 算头不算尾 or 两头都算"
    )
    settle_on: date | None = Field(
        default=None, description="revolving_daily: interest up to this date (default: last movement)"
    )

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "amount": "10000.00",
                    "currency": "CNY",
                    "annual_rate": "12",
                    "repayment_method": "equal_installment",
                    "term": 12,
                    "period_unit": "month",
                    "start_date": "2025-01-15",
                    "day_count": "ACT/360",
                    "rounding": "half_up",
                    "business_day_rule": "following",
                    "calendar": "cn",
                    "fees": [
                        {
                            "name": "担保费",
                            "kind": "per_installment",
                            "percent": "0.1",
                            "payee": "guarantor",
                        }
                    ],
                }
            ]
        },
    )

    @field_validator("installment_multiple")
    @classmethod
    def _positive_money(cls, value: Money | None, info: ValidationInfo) -> Money | None:
        if value is not None and not value.is_positive:
            raise field_error("must_be_positive", "must be positive", "必须大于 0")
        return value

    @field_validator("repayment_every")
    @classmethod
    def _every_divides_term(cls, value: int, info: ValidationInfo) -> int:
        term = info.data.get("term")
        if isinstance(term, int) and term % value:
            raise field_error("repayment_every_divides_term",
                              f"repayment_every ({value}) must divide the term ({term})",
                              f"还款间隔（{value}）须能整除期限（{term}）")
        return value

    @field_validator("interest_dates")
    @classmethod
    def _interest_dates_for_quarterly(cls, value: str, info: ValidationInfo) -> str:
        method = info.data.get("repayment_method")
        if value != "anniversary" and method != "interest_quarterly_principal_at_maturity":
            raise field_error("interest_dates_quarterly_only",
                              "twentieth_of_quarter_end applies to quarterly interest only",
                              "“每季末月20日结息”仅适用于按季付息")
        return value

    @field_validator("first_due_date")
    @classmethod
    def _first_due_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if value is not None and isinstance(start, date) and value <= start:
            raise field_error("first_due_after_start", "first_due_date must be after start_date",
                              "首期还款日须晚于起息日")
        return value

    @field_validator("days_in_month")
    @classmethod
    def _days_in_month_fits_day_count(cls, value: str | None, info: ValidationInfo) -> str | None:
        day_count = info.data.get("day_count")
        if value == "30" and day_count == "ACT/ACT":
            raise field_error("days_in_month_day_count",
                              "30-day months need a fixed year (ACT/360, ACT/364 or ACT/365F)",
                              "按每月30天计息需配合固定年天数（ACT/360、ACT/364 或 ACT/365F）")
        if value == "actual" and day_count == "30/360":
            raise field_error("days_in_month_day_count",
                              "30/360 counts 30-day months; leave days_in_month out or use 30",
                              "30/360 按每月30天计息，请不填或填 30")
        return value

    @field_validator("grace_on_principal_periods", "grace_on_interest_payment_periods", "interest_free_periods")
    @classmethod
    def _grace_within_the_periods(cls, value: int, info: ValidationInfo) -> int:
        # The core counts graces in repayment periods, not in units of the term: 12 months paid
        # every 3 are 4 periods, so a grace of 6 is refused here, naming the field, rather than
        # by the core as an anonymous quote_invalid.
        periods = _repayment_periods(info.data)
        if periods is not None and value > periods:
            raise field_error("grace_exceeds_periods",
                              f"cannot exceed the number of repayment periods ({periods})",
                              f"不能超过还款期数（{periods}期）")
        return value

    @field_validator("movements")
    @classmethod
    def _movements_for_revolving(cls, value: list[MovementItem], info: ValidationInfo) -> list[MovementItem]:
        method = info.data.get("repayment_method")
        if method == "revolving_daily" and not any(m.kind == "draw" for m in value):
            raise field_error("revolving_needs_draw", "a revolving_daily quote needs at least one draw",
                              "随借随还至少需要一笔借款")
        if method != "revolving_daily" and value:
            raise field_error("movements_revolving_only", "movements apply to revolving_daily only",
                              "借还款记录仅适用于随借随还")
        return value

    @model_validator(mode="after")
    def _method_fits_the_period_unit(self) -> Self:
        method = self.repayment_method
        if method.startswith("interest_") and self.period_unit != "month":
            raise field_error("interest_only_months", "interest-only methods count the term in months",
                              "按期付息到期还本的期限以月计")
        if method == "interest_quarterly_principal_at_maturity" and self.term % 3:
            raise field_error("quarterly_term", "quarterly interest needs a term in whole quarters (a multiple of 3)",
                              "按季付息的期限须为3个月的整数倍")
        return self


class InstallmentRead(OutputSchema):
    """One schedule row; amounts are decimal strings."""

    number: int
    due_date: date
    period_start: date
    period_end: date
    days: int
    principal: MoneyStr
    interest: MoneyStr
    fees: MoneyStr
    total: MoneyStr
    balance_after: MoneyStr


class SegmentRead(OutputSchema):
    """revolving_daily: days [start, end) at one balance, and their interest."""

    start: date
    end: date
    days: int
    balance: MoneyStr
    interest: MoneyStr


class TotalsRead(OutputSchema):
    """Sums and the cost of credit."""

    principal: MoneyStr
    interest: MoneyStr
    fees: MoneyStr
    total_payable: MoneyStr
    upfront_fees_deducted: MoneyStr
    paid_at_disbursement: MoneyStr = Field(description="Fees the borrower pays on the disbursement day")
    net_cash_received: MoneyStr = Field(description="What the borrower keeps on the day: the amount less the fees "
                                        "deducted and those paid at disbursement")
    total_cost_of_credit: MoneyStr


class FeeLineRead(OutputSchema):
    """A fee as disclosed: amount per charge, number of charges, total, payee."""

    name: str
    kind: str
    payee: str
    per_charge: MoneyStr = Field(description="The amount of one charge (basis installment: the first installment's; "
                                 "the rows show each)")
    charges: int
    total: MoneyStr
    waivable: bool
    basis: FeeBasisName = "principal"


class AprRead(OutputSchema):
    """The annualised-rate disclosure (PBOC 〔2021〕 No. 3)."""

    nominal_annual_rate_percent: str
    apr_percent: str = Field(description="APR by IRR, percent, 2 places: the rate to display")
    apr: str = Field(description="APR as a fraction, 12 places")
    ear_percent: str
    periodic_rate: str
    periods_per_year: str
    method: Literal["periodic_irr", "xirr_days"]
    day_basis: int


class WarningRead(OutputSchema):
    """A non-fatal condition, e.g. a due date beyond the holiday data."""

    code: str
    message: str
    on: date | None = None
    years: list[int] = Field(
        default_factory=list,
        description="calendar_not_covered: the years without holiday data (due dates moved for weekends only)",
    )


class QuoteRead(OutputSchema):
    """A quote: the schedule, its totals, fees, APR and warnings."""

    currency: str
    repayment_method: str
    installments: list[InstallmentRead]
    segments: list[SegmentRead] = Field(default_factory=list)
    totals: TotalsRead
    fees: list[FeeLineRead]
    apr: AprRead
    warnings: list[WarningRead]


# --- the holiday calendar -----------------------------------------------------------

DayKindName = Literal["holiday", "working_day"]
_DAY_KIND = "holiday: a public holiday (no business); working_day: a make-up working day (调休) on a weekend"


class CalendarDayCreate(InputSchema):
    """A holiday or a make-up working day to add to the institution's calendar."""

    day: date
    kind: DayKindName = Field(description=_DAY_KIND)
    name_zh: str = Field(min_length=1, max_length=60, examples=["春节"])
    name_en: str | None = Field(default=None, max_length=60, examples=["Spring Festival"])

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"day": "2027-02-06", "kind": "holiday", "name_zh": "春节", "name_en": "Spring Festival"}]
        },
    )


class CalendarDayUpdate(InputSchema):
    """Change a calendar day (omitted fields stay)."""

    day: date | None = None
    kind: DayKindName | None = Field(default=None, description=_DAY_KIND)
    name_zh: str | None = Field(default=None, min_length=1, max_length=60)
    name_en: str | None = Field(default=None, max_length=60)

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True,
        json_schema_extra={"examples": [{"name_en": "Spring Festival (extra day)"}]},
    )

    @field_validator("day", "kind", "name_zh")
    @classmethod
    def _not_cleared(cls, value: Any, info: ValidationInfo) -> Any:
        # Only called for fields the request names: an explicit null would clear a required column.
        if value is None:
            raise field_error("required", f"{info.field_name} cannot be empty", "不能为空")
        return value


class CalendarDayRead(OutputSchema):
    """A holiday or make-up working day of the institution's calendar."""

    id: int
    day: date
    kind: DayKindName
    name_zh: str
    name_en: str | None
    source: Literal["seeded", "manual"] = Field(description="seeded: from the chinesecalendar package; "
                                                            "manual: entered or edited by an administrator")
    created_at: datetime
    updated_at: datetime
    updated_by_user_id: int | None


class CalendarYearSet(InputSchema):
    """Whether the institution's calendar data for a year is complete."""

    covered: bool = Field(description="true: the year's holidays and make-up working days are all entered")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"covered": True}]})


class CalendarYearRead(OutputSchema):
    """One year of the institution's calendar: its special days and whether the data is complete."""

    year: int
    covered: bool = Field(description="false: due dates in this year are moved for weekends only, with a warning")
    coverage_source: Literal["seeded", "manual"] | None = Field(
        description="Who last marked the year: the seed or an administrator (null: nobody yet)")
    coverage_updated_at: datetime | None
    days: list[CalendarDayRead]


# --- a loan replayed: terms plus events in, its state out (`microcredit loan replay`) --------

# The channels staff key in; `meeting_cash` is only a collection sheet's (its cash waits for the handover).
KeyedChannel = Literal["cash", "bank_transfer", "auto_debit", "mobile_payment", "online", "internal"]
ChannelName = Literal["cash", "bank_transfer", "auto_debit", "mobile_payment", "online", "internal", "meeting_cash"]
StrategyName = Literal[
    "due_date_order",
    "penalty_fee_interest_principal",
    "principal_interest_penalty_fee",
    "interest_principal_penalty_fee",
    "interest_principal_penalty_fee_across_installments",
]
EventId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
PositiveMoney = Annotated[MoneyStr, money_bounds(gt="0", le=MAX_AMOUNT)]


class PlannedDisbursementItem(InputSchema):
    """A disbursement the contract plans: its day and amount."""

    on: date
    amount: PositiveMoney


class ServicingConventions(InputSchema):
    """How the loan is serviced: allocation, overpayments, days past due."""

    strategy: StrategyName = Field(
        default="due_date_order",
        description="The order a repayment pays what is due (due_date_order: fees, penalty, interest, principal "
        "of the oldest installment first, after Civil Code Art. 561)",
    )
    overpayment: Literal["credit_balance", "prepay_principal", "pay_next_installments", "pay_next_principal"] = Field(
        default="credit_balance",
        description="What money beyond what is due does: held as credit, prepays principal (re-amortised), pays the "
        "next installments, or pays only their principal (Fineract's RESCHEDULE_NEXT_REPAYMENTS)",
    )
    prepayment_mode: Literal["shorten_term", "reduce_installment"] = Field(
        default="shorten_term", description="How an overpayment that prepays principal re-amortises"
    )
    dpd_grace_days: int = Field(default=0, ge=0, le=30)
    tranches: bool = Field(
        default=False,
        description="Whether the loan may be disbursed in tranches (terms.amount is then the most outstanding at once)",
    )
    down_payment_percent: PercentStr | None = Field(
        default=None, gt=0, lt=100,
        description="A down payment of this percent of each disbursement, due on its day (installment 0, -1 ...)",
    )
    down_payment_collected: bool = Field(
        default=False, description="The down payment is kept back from the disbursement (paid on the day)"
    )
    dpd_tolerance: Annotated[MoneyStr, money_bounds(ge="0", le="100")] = Field(
        default="0.00", validate_default=True, description="An installment owing no more than this is not past due"
    )
    recalculation: RecalculationConventions | None = Field(
        default=None,
        description="Interest recalculated on the balance actually outstanding (late principal keeps earning "
        "the contract rate; principal paid ahead stops earning); none: the schedule's interest only",
    )
    progressive: ProgressiveConventions | None = Field(
        default=None,
        description="The progressive EMI calculator's schedule (Fineract's PROGRESSIVE loans with interest): the EMI "
        "and each period's interest follow the balance actually outstanding; none: the contract's schedule",
    )
    cumulative_recalculation: CumulativeRecalculationConventions | None = Field(
        default=None,
        description="Fineract's cumulative schedule regenerated with interest recalculation on every repayment and "
        "when read (a declining-balance, equal-installment loan; its level installment is Fineract's PMT at a "
        "30-day-month rate); none: the contract's schedule",
    )
    charges_after_maturity: Literal["last_installment", "extra_installment"] | None = Field(
        default=None, description="Where a charge due after the last due date is owed: with the last installment "
        "(default) or in an installment of its own (Fineract's N+1)")
    charges_with_down_payment: bool | None = Field(
        default=None, description="A charge due on a disbursement day is owed with that day's down payment "
        "(default) or, false, with the next regular installment (Fineract)")
    tranche_replays_payments: bool | None = Field(
        default=None, description="On a tranche, allocate every payment again over the re-amortised schedule "
        "(Fineract); default: a tranche that would re-amortise installments paid ahead is refused")
    down_payment_rounded_to_multiple: bool | None = Field(
        default=None, description="Round the down payment to terms.installment_multiple (Fineract)")
    down_payment_by_strategy: bool | None = Field(
        default=None, description="What is collected at disbursement pays what is due by the strategy, oldest "
        "first (Fineract's automatic down payment transaction)")
    most_outstanding: PositiveMoney | None = Field(
        default=None, description="The most that may be outstanding after a tranche (default terms.amount)")
    expected_disbursements: list[PlannedDisbursementItem] = Field(
        default_factory=list, max_length=60,
        description="The disbursements the contract plans, in order (the first, then each tranche; more than one "
        "needs tranches, together at most terms.amount): the state shows each with the one made for it and "
        "projects the schedule with those still to come",
    )

    @field_validator("expected_disbursements")
    @classmethod
    def _planned_in_order(cls, value: list[PlannedDisbursementItem],
                          info: ValidationInfo) -> list[PlannedDisbursementItem]:
        if len(value) > 1 and not info.data.get("tranches", False):
            raise field_error("planned_tranches_not_allowed", "several planned disbursements need tranches: true",
                              "计划多次放款须允许分笔放款（tranches: true）")
        if any(later.on <= earlier.on for earlier, later in pairwise(value)):
            raise field_error("planned_days_out_of_order", "planned disbursements come on days one after another",
                              "计划放款日期须逐笔递增")
        return value

    @field_validator("cumulative_recalculation")
    @classmethod
    def _one_schedule(cls, value: CumulativeRecalculationConventions | None,
                      info: ValidationInfo) -> CumulativeRecalculationConventions | None:
        if value is not None and (info.data.get("recalculation") is not None
                                  or info.data.get("progressive") is not None):
            raise field_error("one_recalculation", "give one of recalculation, progressive and "
                              "cumulative_recalculation",
                              "recalculation、progressive、cumulative_recalculation 只能选一")
        if value is not None and info.data.get("down_payment_percent") is not None:
            raise field_error("cumulative_recalculation_down_payment", "the cumulative recalculation takes no down "
                              "payment", "累计重算不支持首付")
        if value is not None and info.data.get("overpayment") == "prepay_principal":
            raise field_error("cumulative_recalculation_prepay_principal", "the cumulative recalculation re-amortises "
                              "early payments itself: not with overpayment prepay_principal",
                              "累计重算自行处理提前还款，不能与 prepay_principal 同用")
        return value

    @field_validator("progressive")
    @classmethod
    def _progressive_alone(cls, value: ProgressiveConventions | None,
                           info: ValidationInfo) -> ProgressiveConventions | None:
        if value is not None and info.data.get("recalculation") is not None:
            raise field_error("one_recalculation", "the progressive calculator has its own recalculation "
                              "(progressive.overdue_rest): not with recalculation",
                              "渐进式计算自带重算（progressive.overdue_rest），不能与 recalculation 同用")
        if value is not None and info.data.get("overpayment") == "prepay_principal":
            raise field_error("progressive_prepay_principal", "the progressive calculator does not re-amortise a "
                              "prepaid principal: not with overpayment prepay_principal",
                              "渐进式计算不支持 prepay_principal")
        return value


class RecalculationConventions(InputSchema):
    """Interest recalculation (Fineract's isInterestRecalculationEnabled and its options)."""

    rest: Literal["daily", "same_as_repayment", "weekly", "monthly"] = Field(
        description="From when a payment lowers the balance that earns interest"
    )
    compounding: Literal["none", "interest", "fees", "interest_and_fees"] = Field(
        description="What else than principal earns interest once overdue"
    )
    pre_closure: Literal["till_pre_closure_date", "till_rest_date"] = Field(
        description="How far a payoff quote charges interest"
    )


class ProgressiveConventions(InputSchema):
    """The progressive EMI calculator's schedule (docs/fineract-profile.md §5, P1-P8)."""

    days_in_year: Literal["actual", "360", "364", "365"] = Field(
        description="The calculator's year: actual counts each year's own days")
    overdue_rest: Literal["daily", "same_as_repayment"] | None = Field(
        default=None, description="Overdue principal put back into the running period's balance until the day the "
        "loan is read or paid (daily) or until the period's due date; none: no recalculation")
    pre_closure: Literal["till_pre_closure_date", "till_rest_date"] = Field(
        default="till_pre_closure_date", description="How far a payment ahead and the payoff quote count interest")


class InterestCompoundingConventions(InputSchema):
    """Interest compounded into the balance on a calendar (Fineract's compounding INTEREST, R3)."""

    unit: Literal["same_as_repayment", "days", "months"] = Field(
        description="The compounding dates: the due dates, or every `every` days or months from terms.start_date")
    every: int = Field(default=1, ge=1, le=366)
    day_of_month: int | None = Field(default=None, ge=1, le=28,
                                     description="The day of the month of a monthly compounding")

    @model_validator(mode="after")
    def _day_for_months(self) -> Self:
        if self.day_of_month is not None and self.unit != "months":
            raise field_error("compounding_day_of_month", "day_of_month is for a monthly compounding only",
                              "只有按月复利可指定日期")
        return self


class CumulativeRecalculationConventions(InputSchema):
    """Fineract's regenerated cumulative schedule (docs/fineract-profile.md §4 and §9, R1-R3)."""

    rest: Literal["daily", "same_as_repayment"] = Field(
        description="From when a payment lowers the balance that earns interest")
    early_payment: Literal["reduce_installment", "shorten_term", "next_principal"] = Field(
        description="What an early payment does to the later installments (Fineract's REDUCE_EMI_AMOUNT, "
        "REDUCE_NUMBER_OF_INSTALLMENTS, RESCHEDULE_NEXT_REPAYMENTS)")
    compounding: InterestCompoundingConventions | None = Field(
        default=None, description="Interest compounded on a calendar; none: no compounding")


class _EventItem(InputSchema):
    id: EventId
    on: date = Field(description="Value date")


class DisbursementItem(_EventItem):
    """The loan paid out (once; at most the terms' amount)."""

    type: Literal["disbursement"]
    amount: PositiveMoney
    channel: ChannelName = "bank_transfer"


class RepaymentItem(_EventItem):
    """Money from the borrower, split by the strategy."""

    type: Literal["repayment"]
    amount: PositiveMoney
    channel: ChannelName = "bank_transfer"


class PrepaymentItem(_EventItem):
    """Money to repay principal early, with the borrower's choice for what follows."""

    type: Literal["prepayment"]
    amount: PositiveMoney
    mode: Literal["shorten_term", "reduce_installment"]
    channel: ChannelName = "bank_transfer"


class ChargeItem(_EventItem):
    """A fee falling due on the value date."""

    type: Literal["charge"]
    amount: PositiveMoney
    name: str = Field(min_length=1, max_length=60)


class PenaltyItem(_EventItem):
    """Penalty interest or a late fee on an installment already due."""

    type: Literal["penalty"]
    installment: int = Field(ge=1, le=600)
    amount: PositiveMoney


class WaiverItem(_EventItem):
    """Interest, fees or penalty of one due installment forgiven."""

    type: Literal["waiver"]
    installment: int = Field(ge=1, le=600)
    component: Literal["interest", "fee", "penalty"]
    amount: PositiveMoney


class DeferralItem(_EventItem):
    """展期 / 延期: principal-free installments inserted at an installment not yet due; the rest move on."""

    type: Literal["deferral"]
    from_installment: int = Field(ge=1, le=600)
    periods: int = Field(ge=1, le=60)
    interest: Literal["payable", "waived"] = Field(description="Interest during the deferral payable, or none")
    restructuring: bool = Field(
        description="Granted because the borrower is in financial difficulty (a restructured asset for classification)"
    )


class ReschedulingItem(_EventItem):
    """重新安排还款计划: a new schedule from the value date for what has not fallen due."""

    type: Literal["rescheduling"]
    installments: int = Field(ge=1, le=600)
    annual_rate: PercentStr | None = Field(
        default=None, ge=0, le=100, description="New rate in percent; default the loan's"
    )
    method: Literal["equal_installment", "equal_principal"] | None = None
    capitalise_overdue_principal: bool = False
    restructuring: bool = True


class AccelerationItem(_EventItem):
    """宣布贷款提前到期: the installments not yet due become one due on the value date (principal
    left, interest to the day)."""

    type: Literal["acceleration"]
    reason: Literal["arrears", "fraud", "covenant_breach", "early_warning", "other"] | None = Field(
        default=None, description="Why the loan was called early (servicing keeps it with the event)")


class WriteOffItem(_EventItem):
    """Everything outstanding written off (核销)."""

    type: Literal["write_off"]


class RecoveryItem(_EventItem):
    """Money recovered on a written-off loan."""

    type: Literal["recovery"]
    amount: PositiveMoney
    channel: ChannelName = "bank_transfer"


class RefundItem(_EventItem):
    """Credit held for the borrower paid back to them."""

    type: Literal["refund"]
    amount: PositiveMoney
    channel: ChannelName = "bank_transfer"


class ReversalItem(_EventItem):
    """Undoes the event `target`."""

    type: Literal["reversal"]
    target: EventId


class AsOfItem(_EventItem):
    """The business date a close of business reached."""

    type: Literal["as_of"]


EventItem = Annotated[
    Annotated[DisbursementItem, Tag("disbursement")] | Annotated[RepaymentItem, Tag("repayment")]
    | Annotated[PrepaymentItem, Tag("prepayment")] | Annotated[ChargeItem, Tag("charge")]
    | Annotated[PenaltyItem, Tag("penalty")] | Annotated[WaiverItem, Tag("waiver")]
    | Annotated[DeferralItem, Tag("deferral")] | Annotated[ReschedulingItem, Tag("rescheduling")]
    | Annotated[AccelerationItem, Tag("acceleration")]
    | Annotated[WriteOffItem, Tag("write_off")] | Annotated[RecoveryItem, Tag("recovery")]
    | Annotated[RefundItem, Tag("refund")] | Annotated[ReversalItem, Tag("reversal")]
    | Annotated[AsOfItem, Tag("as_of")],
    Discriminator(type_tag),
]


class LoanReplay(InputSchema):
    """A loan's terms and events, and the day to read its state on."""

    terms: LoanDescription
    servicing: ServicingConventions = Field(default_factory=ServicingConventions)
    events: list[EventItem] = Field(max_length=10_000)
    as_of: date = Field(description="Read the state on this day (events after it are not yet applied)")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "terms": {"amount": "10000.00", "annual_rate": "12", "repayment_method": "equal_installment",
                              "term": 12, "start_date": "2025-01-15"},
                    "events": [
                        {"type": "disbursement", "id": "d1", "on": "2025-01-15", "amount": "10000.00"},
                        {"type": "repayment", "id": "r1", "on": "2025-02-15", "amount": "888.49"},
                        {"type": "prepayment", "id": "p1", "on": "2025-03-15", "amount": "2888.49",
                         "mode": "reduce_installment"},
                    ],
                    "as_of": "2025-03-20",
                }
            ]
        },
    )

    @field_validator("terms")
    @classmethod
    def _not_revolving(cls, value: LoanDescription, info: ValidationInfo) -> LoanDescription:
        if value.repayment_method == "revolving_daily":
            raise field_error("replay_revolving", "a revolving_daily line is replayed by its movements, not here",
                              "随借随还额度按借还款记录计算，不在此重放")
        return value

    @field_validator("servicing")
    @classmethod
    def _plan_within_the_amount(cls, value: ServicingConventions, info: ValidationInfo) -> ServicingConventions:
        terms = info.data.get("terms")
        if terms is not None and (value.cumulative_recalculation is not None or value.progressive is not None) and (
                terms.repayment_method != "equal_installment" or terms.interest_method != "declining_balance"):
            raise field_error("recalculated_schedule_terms", "cumulative_recalculation and progressive are "
                              "schedules of a declining-balance loan with equal installments",
                              "累计重算与渐进式计算只适用于等额本息、递减余额的贷款")
        cumulative = value.cumulative_recalculation
        if (terms is not None and cumulative is not None and cumulative.compounding is not None
                and terms.interest_calculation != "daily"):
            raise field_error("compounding_needs_daily_interest", "interest is compounded on a loan whose interest "
                              "is calculated daily (terms.interest_calculation: daily) only",
                              "仅按日计息的贷款可设复利")
        if terms is not None and value.most_outstanding is not None and value.most_outstanding < terms.amount:
            raise field_error("most_outstanding_below_amount", "most_outstanding cannot be below terms.amount",
                              "最高未偿金额不能低于合同金额")
        planned = value.expected_disbursements
        if terms is not None and planned and sum(p.amount.minor for p in planned) > terms.amount.minor:
            raise field_error("planned_above_amount", "the planned disbursements add up to more than terms.amount",
                              "计划放款合计超过合同金额")
        return value


def _profile(value: Any) -> str:
    """Which form a replay document takes: ``fineract`` (Fineract's names) or ours (no profile)."""
    found = value.get("profile") if isinstance(value, dict) else getattr(value, "profile", None)
    return "fineract" if found == "fineract" else "ours"


LoanReplayDocument = Annotated[
    Annotated[LoanReplay, Tag("ours")] | Annotated[FineractLoanReplay, Tag("fineract")],
    Discriminator(_profile),
]
"""What `microcredit loan replay` reads: our terms and events (`LoanReplay`), or, with
``"profile": "fineract"``, a loan in Apache Fineract's parameter names and steps."""

_REPLAY_DOCUMENT: TypeAdapter[LoanReplay | FineractLoanReplay] = TypeAdapter(LoanReplayDocument)


def parse_loan_replay(text: str) -> LoanReplay | FineractLoanReplay:
    """A replay document (JSON text) validated in whichever form it takes."""
    return _REPLAY_DOCUMENT.validate_json(text)


def loan_replay_schema() -> dict[str, Any]:
    """The JSON Schema of a replay document (docs/schemas/loan-replay.schema.json)."""
    return _REPLAY_DOCUMENT.json_schema()


def _state_amount(value: Any) -> Money:
    if not isinstance(value, Money):
        raise field_error("money_type", "an amount computed by the engine", "引擎计算的金额")
    return value


StateAmount = Annotated[
    Money,
    PlainValidator(_state_amount, json_schema_input_type=str),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["8000.00"]}),
]
"""An amount of a replayed loan's state, in the loan's currency (CNY for our terms; EUR, USD ...
under the `fineract` profile): "8000.00" on the wire."""


class AmountsRead(OutputSchema):
    """An amount per component."""

    principal: StateAmount
    interest: StateAmount
    fee: StateAmount
    penalty: StateAmount
    total: StateAmount


class LoanInstallmentRead(OutputSchema):
    """One installment as it now stands: due = paid + waived + written off + outstanding."""

    number: int = Field(description="1..n; 0, -1 ... are down payments on the disbursements")
    period_start: date
    due_date: date
    due: AmountsRead
    paid: AmountsRead
    waived: AmountsRead
    written_off: AmountsRead
    outstanding: AmountsRead
    balance_after: StateAmount


class PaymentLineRead(OutputSchema):
    """Part of a payment put on one component of one installment."""

    installment: int
    component: Literal["principal", "interest", "fee", "penalty"]
    amount: StateAmount


class PaymentRead(OutputSchema):
    """What a payment (or credit used on a due date: `event_id` null) paid."""

    event_id: str | None
    on: date
    amount: StateAmount
    lines: list[PaymentLineRead]
    interest_prepaid: StateAmount
    principal_prepaid: StateAmount
    credit: StateAmount = Field(description="Left as credit; negative when credit was used")


class PayoffRead(OutputSchema):
    """What settles the loan on the as-of day."""

    principal: StateAmount
    overdue_interest: StateAmount
    deferred_interest: StateAmount
    accrued_interest: StateAmount
    fees: StateAmount
    penalties: StateAmount
    total: StateAmount
    after_credit: StateAmount = Field(description="The total less the credit balance held (never below 0)")


class LoanTotalsRead(OutputSchema):
    """Sums over the installments."""

    due: AmountsRead
    paid: AmountsRead
    waived: AmountsRead
    written_off: AmountsRead
    outstanding: AmountsRead


class DisbursementRead(OutputSchema):
    """A disbursement: the first, or a tranche."""

    event_id: str
    on: date
    amount: StateAmount


class PlannedDisbursementRead(OutputSchema):
    """A planned disbursement and the one made for it (the n-th made meets the n-th planned)."""

    expected_on: date
    expected_amount: StateAmount
    made: DisbursementRead | None


class LoanStateRead(OutputSchema):
    """A loan's state on a day: the fold of its events."""

    as_of: date
    currency: str
    status: Literal["approved", "active", "closed", "overpaid", "written_off"]
    disbursed: StateAmount
    disbursed_on: date | None
    disbursements: list[DisbursementRead]
    installments: list[LoanInstallmentRead]
    payments: list[PaymentRead]
    totals: LoanTotalsRead
    credit_balance: StateAmount
    principal_prepaid: StateAmount
    interest_prepaid: StateAmount
    recovered: StateAmount
    refunded: StateAmount = Field(description="Credit paid back to the borrower (refunds)")
    interest_refunded: StateAmount = Field(
        description="Interest paid ahead that a recalculation found unearned, given back as credit"
    )
    written_off_on: date | None
    accrued_interest: StateAmount = Field(
        description="Earned by the running period up to as_of, not yet due (with a recalculation, also what the "
        "actual balance earned beyond the schedule)"
    )
    interest_base: StateAmount = Field(
        description="The balance interest accrues on, on as_of (with a recalculation, plus what is overdue and earns)"
    )
    dpd: int = Field(description="Days past due")
    bucket: str
    classification: Literal["normal", "special_mention", "substandard", "doubtful", "loss"]
    restructured_on: date | None = Field(
        description="The last deferral or rescheduling granted for financial difficulty (observation period follows)"
    )
    accelerated_on: date | None = Field(
        default=None, description="The day the loan was called early (宣布提前到期): everything has fallen due"
    )
    payoff: PayoffRead | None
    reversed: list[str]
    planned_disbursements: list[PlannedDisbursementRead] = Field(
        default_factory=list, description="The contract's planned disbursements, each with the one made for it")
    projected_schedule: list[InstallmentRead] | None = Field(
        default=None,
        description="The schedule if the planned disbursements not yet made are made as planned (on their day, or "
        "as_of once it has passed); null when none is left or the plan can no longer be met",
    )
