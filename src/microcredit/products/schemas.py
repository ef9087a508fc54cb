"""API shapes of products: the loan description (what to quote) and the quote.

A `LoanDescription` is the JSON a client (the calculator page, the CLI, a
product designer) sends to get a repayment schedule.  Money and rates
travel as decimal strings ("10000.00", "12.5"); a JSON number with a
fraction is refused with an error naming the field, because most clients
read it as a float.  `QuoteRead` is the answer: schedule rows, totals,
fee lines with payees, the APR disclosure and the warnings.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from microcredit.platform.schema import InputSchema, MoneyStr, OutputSchema

__all__ = [
    "AprRead",
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

MAX_AMOUNT = Decimal("100000000")


def _rate_in(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, float):
        raise ValueError(f'{info.field_name}: send rates as decimal strings such as "12.5", not JSON numbers')
    if isinstance(value, bool):
        raise ValueError(f"{info.field_name}: not a rate")
    if isinstance(value, int | str):
        try:
            rate = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{info.field_name}: not a decimal rate") from None
        if not rate.is_finite():
            raise ValueError(f"{info.field_name}: not a finite rate")
        exponent = rate.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -6:
            raise ValueError(f"{info.field_name}: at most 6 decimal places")
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
FeeKindName = Literal["upfront_deducted", "upfront_financed", "per_installment"]
PayeeName = Literal["lender", "guarantor", "insurer", "platform"]


class FeeItem(InputSchema):
    """One fee: a fixed amount or a percent of the principal, its kind and payee."""

    name: str = Field(min_length=1, max_length=60, examples=["服务费"])
    kind: FeeKindName
    amount: MoneyStr | None = Field(default=None, description="Fixed amount per charge")
    percent: PercentStr | None = Field(default=None, description='Percent of the principal per charge, e.g. "0.6"')
    payee: PayeeName = "lender"

    @model_validator(mode="after")
    def _one_of_amount_or_percent(self) -> Self:
        if (self.amount is None) == (self.percent is None):
            raise ValueError("give exactly one of amount or percent")
        if self.amount is not None and self.amount < 0:
            raise ValueError("a fee cannot be negative")
        if self.percent is not None and not 0 <= self.percent <= 100:
            raise ValueError("a fee percent is between 0 and 100")
        return self


class MovementItem(InputSchema):
    """A draw or a principal repayment of a revolving (随借随还) loan."""

    on: date
    kind: Literal["draw", "repayment"]
    amount: MoneyStr = Field(gt=0)


class LoanDescription(InputSchema):
    """A loan to quote: amount, rate, term, repayment method and conventions."""

    amount: MoneyStr = Field(gt=0, le=MAX_AMOUNT, description="Principal in yuan, as a string")
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
        default="none", description="cn: Chinese holidays and make-up working days; none: weekends"
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
    def _positive_money(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if value is not None and value <= 0:
            raise ValueError(f"{info.field_name} must be positive")
        return value

    @field_validator("repayment_every")
    @classmethod
    def _every_divides_term(cls, value: int, info: ValidationInfo) -> int:
        term = info.data.get("term")
        if isinstance(term, int) and term % value:
            raise ValueError(f"repayment_every ({value}) must divide the term ({term})")
        return value

    @field_validator("interest_dates")
    @classmethod
    def _interest_dates_for_quarterly(cls, value: str, info: ValidationInfo) -> str:
        method = info.data.get("repayment_method")
        if value != "anniversary" and method != "interest_quarterly_principal_at_maturity":
            raise ValueError("twentieth_of_quarter_end applies to quarterly interest only")
        return value

    @field_validator("first_due_date")
    @classmethod
    def _first_due_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if value is not None and isinstance(start, date) and value <= start:
            raise ValueError("first_due_date must be after start_date")
        return value

    @field_validator("days_in_month")
    @classmethod
    def _days_in_month_fits_day_count(cls, value: str | None, info: ValidationInfo) -> str | None:
        day_count = info.data.get("day_count")
        if value == "30" and day_count == "ACT/ACT":
            raise ValueError("30-day months need a fixed year (ACT/360, ACT/364 or ACT/365F)")
        if value == "actual" and day_count == "30/360":
            raise ValueError("30/360 counts 30-day months; leave days_in_month out or use 30")
        return value

    @field_validator("grace_on_principal_periods", "grace_on_interest_payment_periods", "interest_free_periods")
    @classmethod
    def _grace_within_term(cls, value: int, info: ValidationInfo) -> int:
        term = info.data.get("term")
        if isinstance(term, int) and value > term:
            raise ValueError(f"{info.field_name} cannot exceed the term")
        return value

    @field_validator("movements")
    @classmethod
    def _movements_for_revolving(cls, value: list[MovementItem], info: ValidationInfo) -> list[MovementItem]:
        method = info.data.get("repayment_method")
        if method == "revolving_daily" and not any(m.kind == "draw" for m in value):
            raise ValueError("a revolving_daily quote needs at least one draw")
        if method != "revolving_daily" and value:
            raise ValueError("movements apply to revolving_daily only")
        return value

    @model_validator(mode="after")
    def _method_fits_the_period_unit(self) -> Self:
        method = self.repayment_method
        if method.startswith("interest_") and self.period_unit != "month":
            raise ValueError("interest-only methods count the term in months")
        if method == "interest_quarterly_principal_at_maturity" and self.term % 3:
            raise ValueError("quarterly interest needs a term in whole quarters (a multiple of 3)")
        return self


class InstallmentRead(OutputSchema):
    """One schedule row; amounts are decimal strings."""

    number: int
    due_date: date
    period_start: date
    period_end: date
    days: int
    principal: str
    interest: str
    fees: str
    total: str
    balance_after: str


class SegmentRead(OutputSchema):
    """revolving_daily: days [start, end) at one balance, and their interest."""

    start: date
    end: date
    days: int
    balance: str
    interest: str


class TotalsRead(OutputSchema):
    """Sums and the cost of credit."""

    principal: str
    interest: str
    fees: str
    total_payable: str
    upfront_fees_deducted: str
    net_cash_received: str
    total_cost_of_credit: str


class FeeLineRead(OutputSchema):
    """A fee as disclosed: amount per charge, number of charges, total, payee."""

    name: str
    kind: str
    payee: str
    per_charge: str
    charges: int
    total: str


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
