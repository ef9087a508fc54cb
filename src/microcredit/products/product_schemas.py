"""API shapes of loan products (versioned), the LPR table and the rate caps.

A product version's terms (`ProductTerms`) are one document: validated here,
field by field, so that a refusal names the field (``amount_max``,
``fees.0.kind``, ``rate.grades.E``); stored as that document (JSON) on the
version row; read back through the same model.  What needs the database or
the lending core (the APR of sample loans against the caps in force) is the
service's check (`service.caps`), not the schema's.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from microcredit.lending.money import Money
from microcredit.platform.schema import InputSchema, MoneyStr, OutputSchema, field_error, money_bounds
from microcredit.products.schemas import (
    MAX_AMOUNT,
    BusinessDayName,
    DayCountName,
    FeeKindName,
    PayeeName,
    PercentStr,
    QuoteRead,
    RecalculationConventions,
    RepaymentMethodName,
    RoundingName,
    StrategyName,
)

__all__ = [
    "GRADES",
    "ApprovalRow",
    "CapCheckRead",
    "LprCreate",
    "LprRead",
    "LprUpdate",
    "PenaltyRule",
    "ProductCreate",
    "ProductFee",
    "ProductOfferRead",
    "ProductQuoteRequest",
    "ProductRead",
    "ProductSummaryRead",
    "ProductTerms",
    "ProductVersionCreate",
    "ProductVersionRead",
    "RateApprovalCreate",
    "RateCapCreate",
    "RateCapRead",
    "RateRule",
    "SampleRead",
]

GRADES = ("A", "B", "C", "D", "E")
GradeName = Literal["A", "B", "C", "D", "E"]
# parties.schemas.CustomerType (a sibling domain: the names are repeated, not imported).
CustomerTypeName = Literal["consumer", "sole_trader", "small_business", "farmer"]
DocumentTypeName = Literal[
    "id_card", "household_register", "marriage_certificate", "income_proof", "bank_statement",
    "asset_proof", "business_licence", "tax_record", "land_contract", "guarantee_letter",
]
ProductPeriodUnit = Literal["day", "week", "month"]
# The posting roles a product may send to accounts of its own (ledger.chart.PRODUCT_ROLES; a unit test
# keeps the two equal).
PostingRoleName = Literal["bank", "payment_clearing", "loan_principal", "interest_receivable", "fee_receivable",
                          "penalty_receivable", "borrower_credit", "payable_guarantor", "payable_insurer",
                          "payable_platform", "interest_income", "fee_income", "penalty_income", "recoveries_income",
                          "writeoff_expense"]
AccountCodeStr = Annotated[str, Field(pattern=r"^[0-9]{4,12}$", examples=["130102"])]
Positive = Annotated[MoneyStr, money_bounds(gt="0", le=MAX_AMOUNT)]
Rate = Annotated[PercentStr, Field(ge=0, le=100)]


class RateRule(InputSchema):
    """The nominal annual rate: one fixed rate, or one rate per risk grade (A best … E worst)."""

    kind: Literal["fixed", "by_grade"]
    annual_rate: Rate | None = Field(default=None, validate_default=True,
                                     description='fixed: the rate in percent, e.g. "12"')
    grades: dict[GradeName, Rate] | None = Field(
        default=None, validate_default=True,
        description='by_grade: a rate for each of A–E, e.g. {"A": "9", …, "E": "18"}')

    @field_validator("annual_rate")
    @classmethod
    def _rate_for_fixed(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if info.data.get("kind") == "fixed" and value is None:
            raise field_error("required", "a fixed rate needs annual_rate", "固定利率须填写年利率")
        return value

    @field_validator("grades")
    @classmethod
    def _every_grade_in_order(cls, value: dict[str, Decimal] | None,
                              info: ValidationInfo) -> dict[str, Decimal] | None:
        if info.data.get("kind") != "by_grade":
            return None if value is None else value
        if value is None or set(value) != set(GRADES):
            raise field_error("grades_incomplete", "give a rate for every grade A–E", "请为 A–E 每个等级填写利率")
        rates = [value[g] for g in GRADES]
        if any(a > b for a, b in pairwise(rates)):
            raise field_error("grades_order", "a worse grade cannot have a lower rate (A ≤ B ≤ … ≤ E)",
                              "风险等级越差利率不能越低（A ≤ B ≤ … ≤ E）")
        return {g: value[g] for g in GRADES}

    @property
    def highest(self) -> tuple[str, Decimal]:
        """The field naming the highest rate the rule allows, and that rate."""
        if self.kind == "fixed" and self.annual_rate is not None:
            return "rate.annual_rate", self.annual_rate
        assert self.grades is not None
        return "rate.grades.E", self.grades["E"]

    @property
    def lowest(self) -> Decimal:
        """The lowest rate the rule allows."""
        if self.kind == "fixed" and self.annual_rate is not None:
            return self.annual_rate
        assert self.grades is not None
        return self.grades["A"]

    def rate_for(self, grade: GradeName | None) -> Decimal:
        """The rate of `grade` (fixed: the rate; no grade: the highest)."""
        if self.kind == "fixed" or grade is None:
            return self.highest[1]
        assert self.grades is not None
        return self.grades[grade]


class ProductFee(InputSchema):
    """A fee of the product: its kind (when it is paid), a fixed amount or a percent, and its payee."""

    name: str = Field(min_length=1, max_length=60, examples=["担保费"])
    kind: FeeKindName = Field(description="upfront_financed (added to the principal) or per_installment; "
                                          "upfront_deducted (砍头息) is refused")
    amount: MoneyStr | None = None
    percent: PercentStr | None = Field(default=None, validate_default=True,
                                       description="percent of the basis per charge")
    basis: Literal["principal", "installment"] = Field(
        default="principal", description="What percent is a percent of: the principal, or each installment's own "
        "principal + interest (per_installment fees only, e.g. a guarantor's 1 % of each repayment)")
    payee: PayeeName
    waivable: bool = Field(default=True, description="Whether the institution may waive it (a third party's fee, "
                           "such as an insurer's premium, usually may not)")

    @field_validator("basis")
    @classmethod
    def _basis_fits(cls, value: str, info: ValidationInfo) -> str:
        if value == "installment" and (info.data.get("kind") != "per_installment" or info.data.get("percent") is None):
            raise field_error("fee_basis_not_allowed",
                              "a percent of each installment is for a percent fee charged per installment",
                              "按每期本息比例计算的只能是按期收取的比例费用")
        return value

    @field_validator("kind")
    @classmethod
    def _no_upfront_deduction(cls, value: str, info: ValidationInfo) -> str:
        if value == "upfront_deducted":
            raise field_error(
                "upfront_deduction_refused",
                "nothing may be deducted from the principal up front (CBIRC 〔2020〕 86; Civil Code Art. 670)",
                "不得从本金中预先扣除利息或费用（银保监办发〔2020〕86号；民法典第670条）")
        return value

    @field_validator("percent")
    @classmethod
    def _one_of(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        amount = info.data.get("amount")
        if (amount is None) == (value is None):
            raise field_error("fee_amount_or_percent", "give exactly one of amount or percent",
                              "费用请填写金额或比例中的一项")
        if value is not None and not 0 <= value <= 100:
            raise field_error("fee_percent_range", "a fee percent is between 0 and 100", "费用比例应在 0 到 100 之间")
        if isinstance(amount, Money) and amount.is_negative:
            raise field_error("fee_negative", "a fee cannot be negative", "费用不能为负数")
        return value


class LateFee(InputSchema):
    """滞纳金: charged once on an installment still unpaid `after_days` after its due date (and past the
    grace days): a fixed amount plus a percent of the principal and interest it still owed then."""

    amount: Annotated[MoneyStr, money_bounds(ge="0", le="10000")] = Field(default="0.00", validate_default=True,
                                                                           examples=["20.00"])
    percent: Annotated[PercentStr, Field(ge=0, le=10)] = Field(
        default="0", validate_default=True, description="percent of the installment's unpaid principal + interest",
        examples=["2"])
    after_days: int = Field(default=1, ge=1, le=90)

    @field_validator("percent")
    @classmethod
    def _amount_or_percent(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        amount = info.data.get("amount")
        if not value and isinstance(amount, Money) and not amount.is_positive:
            raise field_error("late_fee_empty", "a late fee needs an amount or a percent", "滞纳金须有金额或比例")
        return value


class PenaltyRule(InputSchema):
    """Penalty interest (罚息) on overdue amounts, after a grace of some days, and an optional late fee.

    Together they never exceed the yearly cap on default charges in force on the contract date
    (the rate caps' hard cap, 24 % for a small-loan company) on the installment's unpaid amount."""

    basis: Literal["uplift", "margin", "fixed"] = Field(
        description="uplift: contract rate × (1 + value %); margin: contract rate + value; fixed: value")
    value_percent: Rate = Field(description='e.g. "50" (uplift 50 %: 12 % becomes 18 %)')
    compound_overdue_interest: bool = False
    grace_days: int = Field(default=0, ge=0, le=30)
    late_fee: LateFee | None = Field(default=None, description="滞纳金, charged once per overdue installment")


# The fewest days a period of each unit can have: a planned tranche must come within the shortest term.
UNIT_MIN_DAYS = {"day": 1, "week": 7, "month": 28}


class PlannedTranche(InputSchema):
    """A payout the product plans (计划放款): so many days after the first payout, a share of the approved amount."""

    after_days: int = Field(ge=0, le=3650, description="Days after the first payout (the first payout itself: 0)")
    percent: Annotated[PercentStr, Field(gt=0, le=100)] = Field(description="Percent of the approved amount")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"after_days": 0, "percent": "60"}]})


class ApprovalRow(InputSchema):
    """Loans up to this amount whose grade is no worse than this need this many approval levels."""

    up_to_amount: Positive
    worst_grade: GradeName
    levels: int = Field(ge=1, le=3, description="1 初审, 2 初审+复审, 3 初审+复审+终审")


class ProductTerms(InputSchema):
    """Everything a product version says: names, ranges, methods, rate, conventions, eligibility, policy."""

    name_zh: str = Field(min_length=1, max_length=100, examples=["助农经营贷"])
    name_en: str = Field(min_length=1, max_length=100, examples=["Farm business loan"])
    currency: Literal["CNY"] = "CNY"
    amount_min: Positive
    amount_max: Positive
    period_unit: ProductPeriodUnit = "month"
    term_min: int = Field(ge=1, le=600)
    term_max: int = Field(ge=1, le=600)
    repayment_methods: list[RepaymentMethodName] = Field(min_length=1, max_length=6)
    rate: RateRule
    day_count: DayCountName = "ACT/360"
    interest_method: Literal["declining_balance", "flat"] = "declining_balance"
    rounding: RoundingName = "half_up"
    business_day_rule: BusinessDayName = "following"
    fees: list[ProductFee] = Field(default_factory=list, max_length=10)
    penalty: PenaltyRule
    grace_on_principal_periods: int = Field(default=0, ge=0, le=600)
    grace_on_interest_payment_periods: int = Field(default=0, ge=0, le=600)
    allocation_strategy: StrategyName = "due_date_order"
    recalculation: RecalculationConventions | None = None
    tranches: bool = Field(default=False, description="The loan may be paid out in tranches (多次放款), together at "
                           "most the approved amount")
    down_payment_percent: PercentStr | None = Field(
        default=None, gt=0, lt=100,
        description="A down payment (首付) of this percent of each disbursement, due on its day")
    down_payment_collected: bool = Field(
        default=False, description="The down payment is kept back from the money paid out (paid on the day)")
    planned_tranches: list[PlannedTranche] = Field(
        default_factory=list, max_length=20,
        description="The payouts the product plans (计划放款), the first payout first (after_days 0), each a percent "
        "of the approved amount (together at most 100): a loan opened under the version carries the plan, dated "
        "from its first payout, its schedule projects the tranches still to come and finance is offered the next; "
        "the product must allow tranches; empty: the whole amount at once, or tranches as finance decides")
    customer_types: list[CustomerTypeName] = Field(min_length=1, max_length=4)
    age_min: int = Field(default=18, ge=18, le=100)
    age_max: int = Field(default=65, ge=18, le=100)
    required_documents: list[DocumentTypeName] = Field(default_factory=list, max_length=10)
    approval_policy: list[ApprovalRow] = Field(min_length=1, max_length=20)
    limits: dict[GradeName, Positive] | None = Field(
        default=None, description='The largest amount per risk grade (A best … E worst), a worse grade never more, '
        'e.g. {"A": "50000.00", …, "E": "10000.00"}; absent: every grade up to amount_max')
    max_dsr_percent: Annotated[PercentStr, Field(gt=0, le=100)] | None = Field(
        default=None, description='The largest debt-service ratio after this loan, in percent of the monthly '
        'income: the bureau\'s (or stated, the larger) monthly payments plus this loan\'s largest monthly '
        'installment at the grade\'s rate, e.g. "50"; absent: no bound by income')
    group_lending: bool = False
    repayment_approval_above: Positive | None = Field(
        default=None, description="Above this amount a repayment keyed in at a branch (cash, transfer) waits for a "
        "second person (maker-checker), for this product's loans instead of the institution's threshold; a loan "
        "keeps the figure of the version it was made under; absent: the institution's")
    change_approval_above: Positive | None = Field(
        default=None, description="Up to this amount a waiver or a refund of credit is recorded as soon as it is "
        "proposed, by one person; above it — and a deferral, rescheduling or write-off whatever the amount — it waits "
        "for a second person (maker-checker); a loan keeps the figure of the version it was made under; absent: "
        "every change waits for a second person")
    accounts: dict[PostingRoleName, AccountCodeStr] = Field(
        default_factory=dict, max_length=15,
        description="The product's own accounts (会计科目) by posting role, e.g. {\"loan_principal\": \"130102\", "
        "\"interest_income\": \"601101\"}: its loans post there instead of the default chart's account of the role; "
        "each must be an active, non-header account of the role's type (checked when the version is saved and "
        "published); a loan keeps the accounts of the version it was made under")
    active_from: date
    active_to: date | None = None

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("amount_max")
    @classmethod
    def _amounts_in_order(cls, value: Money, info: ValidationInfo) -> Money:
        low = info.data.get("amount_min")
        if isinstance(low, Money) and value < low:
            raise field_error("max_below_min", "the largest amount cannot be below the smallest",
                              "最高金额不能低于最低金额")
        return value

    @field_validator("term_max")
    @classmethod
    def _terms_in_order(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("term_min")
        if isinstance(low, int) and value < low:
            raise field_error("max_below_min", "the longest term cannot be below the shortest",
                              "最长期限不能短于最短期限")
        return value

    @field_validator("repayment_methods")
    @classmethod
    def _methods_fit(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if len(set(value)) != len(value):
            raise field_error("duplicate", "each method once", "还款方式不能重复")
        unit, low, high = info.data.get("period_unit"), info.data.get("term_min"), info.data.get("term_max")
        if any(m.startswith("interest_") for m in value) and unit != "month":
            raise field_error("interest_only_months", "interest-only methods count the term in months",
                              "按期付息到期还本的期限以月计")
        if ("interest_quarterly_principal_at_maturity" in value and isinstance(low, int) and isinstance(high, int)
                and not any(t % 3 == 0 for t in range(low, high + 1))):
            raise field_error("quarterly_term", "quarterly interest needs a term range holding a multiple of 3",
                              "按季付息的期限范围须包含3个月的整数倍")
        return value

    @field_validator("fees")
    @classmethod
    def _no_fees_on_revolving(cls, value: list[ProductFee], info: ValidationInfo) -> list[ProductFee]:
        # The revolving (随借随还) engine charges interest only: a fee would escape its APR.
        if value and "revolving_daily" in (info.data.get("repayment_methods") or ()):
            raise field_error("revolving_no_fees", "a product offering revolving_daily cannot charge fees",
                              "提供随借随还的产品不能收取费用")
        return value

    @field_validator("grace_on_principal_periods", "grace_on_interest_payment_periods")
    @classmethod
    def _grace_within_shortest_term(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("term_min")
        if isinstance(low, int) and value >= low and value > 0:
            raise field_error("grace_exceeds_periods", f"must be shorter than the shortest term ({low})",
                              f"须短于最短期限（{low}期）")
        return value

    @field_validator("planned_tranches")
    @classmethod
    def _plan_fits(cls, value: list[PlannedTranche], info: ValidationInfo) -> list[PlannedTranche]:
        if not value:
            return value
        if not info.data.get("tranches", False):
            raise field_error("planned_tranches_not_allowed", "planned payouts need tranches",
                              "计划放款须允许分笔放款")
        if value[0].after_days != 0:
            raise field_error("planned_first_not_at_payout", "the first planned payout is the first payout "
                              "(after_days 0)", "第一笔计划放款即首次放款（第 0 天）")
        if any(later.after_days <= earlier.after_days for earlier, later in pairwise(value)):
            raise field_error("planned_days_out_of_order", "planned payouts come on days one after another",
                              "计划放款日期须逐笔递增")
        if sum(t.percent for t in value) > 100:
            raise field_error("planned_above_amount", "the planned payouts add up to more than the approved "
                              "amount (100 %)", "计划放款合计超过批准金额（100%）")
        unit, low = info.data.get("period_unit"), info.data.get("term_min")
        if isinstance(low, int) and isinstance(unit, str):
            days = low * UNIT_MIN_DAYS[unit]
            if value[-1].after_days >= days:
                raise field_error("planned_after_term", f"the last planned payout must come within the shortest "
                                  f"term ({days} days)", f"最后一笔计划放款须在最短期限内（{days} 天内）")
        return value

    @field_validator("age_max")
    @classmethod
    def _ages_in_order(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("age_min")
        if isinstance(low, int) and value < low:
            raise field_error("max_below_min", "the oldest age cannot be below the youngest",
                              "最大年龄不能小于最小年龄")
        return value

    @field_validator("customer_types", "required_documents")
    @classmethod
    def _unique(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if len(set(value)) != len(value):
            raise field_error("duplicate", "each entry once", "不能重复")
        return value

    @field_validator("approval_policy")
    @classmethod
    def _policy_covers_the_range(cls, value: list[ApprovalRow], info: ValidationInfo) -> list[ApprovalRow]:
        high = info.data.get("amount_max")
        amounts = [row.up_to_amount for row in value]
        if any(a > b for a, b in pairwise(amounts)):
            raise field_error("approval_policy_order", "rows go by amount, smallest first",
                              "审批规则须按金额从小到大排列")
        worst = {row.worst_grade for row in value if isinstance(high, Money) and row.up_to_amount >= high}
        if isinstance(high, Money) and "E" not in worst:
            raise field_error("approval_policy_gap",
                              "some row must cover the largest amount at the worst grade (E)",
                              "须有一行规则覆盖最高金额及最差等级（E）")
        return value

    @field_validator("limits")
    @classmethod
    def _limits_by_grade(cls, value: dict[str, Money] | None, info: ValidationInfo) -> dict[str, Money] | None:
        if value is None:
            return None
        if set(value) != set(GRADES):
            raise field_error("limits_incomplete", "give a limit for every grade A–E", "请为 A–E 每个等级填写额度上限")
        limits = [value[g] for g in GRADES]
        if any(a < b for a, b in pairwise(limits)):
            raise field_error("limits_order", "a worse grade cannot have a higher limit (A ≥ B ≥ … ≥ E)",
                              "风险等级越差额度上限不能越高（A ≥ B ≥ … ≥ E）")
        low, high = info.data.get("amount_min"), info.data.get("amount_max")
        if isinstance(high, Money) and limits[0] > high:
            raise field_error("limit_above_max", f"a grade's limit cannot exceed the largest amount ({high})",
                              f"等级额度上限不能高于产品最高金额（{high}）")
        if isinstance(low, Money) and limits[-1] < low:
            raise field_error("limit_below_min", f"a grade's limit cannot be below the smallest amount ({low})",
                              f"等级额度上限不能低于产品最低金额（{low}）")
        return {g: value[g] for g in GRADES}

    @field_validator("active_to")
    @classmethod
    def _dates_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("active_from")
        if value is not None and isinstance(start, date) and value < start:
            raise field_error("max_below_min", "the end date cannot be before the start date",
                              "结束日期不能早于开始日期")
        return value

    def limit_for(self, grade: str | None) -> Money:
        """The largest amount a borrower of `grade` may have (no table or no grade: the product's largest)."""
        limit: Money = self.amount_max if self.limits is None or grade not in GRADES else \
            self.limits[grade]  # type: ignore[index]
        return limit

    def levels_for(self, amount: Money, grade: str) -> int:
        """The approval levels a loan of `amount` at `grade` needs (the first row that covers it)."""
        rank = GRADES.index(grade)
        for row in self.approval_policy:
            if amount <= row.up_to_amount and rank <= GRADES.index(row.worst_grade):
                return row.levels
        return 3


_TERMS_EXAMPLE: dict[str, Any] = {
    "name_zh": "助农经营贷", "name_en": "Farm business loan", "currency": "CNY",
    "amount_min": "2000.00", "amount_max": "50000.00", "period_unit": "month", "term_min": 3, "term_max": 24,
    "repayment_methods": ["equal_installment", "equal_principal"],
    "rate": {"kind": "by_grade", "grades": {"A": "8", "B": "9.5", "C": "11", "D": "12.5", "E": "14"}},
    "day_count": "ACT/360", "fees": [{"name": "担保费", "kind": "per_installment", "percent": "0.05",
                                     "payee": "guarantor"}],
    "penalty": {"basis": "uplift", "value_percent": "50", "grace_days": 3},
    "allocation_strategy": "due_date_order", "customer_types": ["farmer", "sole_trader"],
    "age_min": 18, "age_max": 65, "required_documents": ["id_card", "income_proof"],
    "approval_policy": [{"up_to_amount": "10000.00", "worst_grade": "C", "levels": 1},
                        {"up_to_amount": "50000.00", "worst_grade": "E", "levels": 3}],
    "limits": {"A": "50000.00", "B": "40000.00", "C": "30000.00", "D": "20000.00", "E": "10000.00"},
    "max_dsr_percent": "50",
    "group_lending": False, "active_from": "2026-01-01",
}


class ProductCreate(InputSchema):
    """A new product: its code and the terms of its first (draft) version."""

    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Z0-9_-]+$", examples=["FARM-BIZ"])
    terms: ProductTerms

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra={"examples": [{"code": "FARM-BIZ", "terms": _TERMS_EXAMPLE}]})


class ProductVersionCreate(InputSchema):
    """The terms of a new draft version (or the draft's new terms, replacing the old ones)."""

    terms: ProductTerms

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"terms": _TERMS_EXAMPLE}]})


class RateApprovalCreate(InputSchema):
    """A second administrator's approval of a rate above 4 × LPR, with the reason."""

    reason: str = Field(min_length=4, max_length=500, examples=["山区农户经营贷，风险成本高，经风险委员会批准"])


class SampleRead(OutputSchema):
    """One sample loan of the cap check and its APR."""

    repayment_method: str
    amount: MoneyStr
    term: int
    annual_rate_percent: str
    apr_percent: str


class CapCheckRead(OutputSchema):
    """The APR of the version's sample loans against the caps in force on `on`."""

    on: date
    institution_kind: str
    hard_cap_percent: str
    lpr_percent: str | None = Field(description="The one-year LPR in force on `on` (null: the table has none)")
    lpr_limit_percent: str | None = Field(description="The approval threshold: multiple × LPR")
    worst: SampleRead | None
    samples: list[SampleRead]
    status: Literal["ok", "needs_approval", "above_cap"]
    rate_field: str = Field(description="The field holding the highest rate (where a refusal points)")


class ProductVersionRead(OutputSchema):
    """A version of a product, its status and terms."""

    number: int
    status: Literal["draft", "published", "superseded", "retired"]
    terms: ProductTerms
    created_at: datetime
    created_by_user_id: int | None
    updated_at: datetime
    updated_by_user_id: int | None
    published_at: datetime | None
    published_by_user_id: int | None
    retired_at: datetime | None
    cap_check: dict[str, Any] | None = Field(description="The cap check recorded when it was published")
    rate_approved_by_user_id: int | None
    rate_approval_reason: str | None
    rate_approved_at: datetime | None


class ProductSummaryRead(OutputSchema):
    """A product in the list: its code, latest version and the published one."""

    code: str
    name_zh: str
    name_en: str
    latest_version: int
    latest_status: str
    published_version: int | None


class ProductRead(OutputSchema):
    """A product with every version."""

    code: str
    created_at: datetime
    versions: list[ProductVersionRead]


class ProductOfferRead(OutputSchema):
    """A product on offer to borrowers: its published version's ranges and rate range."""

    code: str
    version: int
    name_zh: str
    name_en: str
    currency: str
    amount_min: MoneyStr
    amount_max: MoneyStr
    period_unit: str
    term_min: int
    term_max: int
    repayment_methods: list[str]
    rate_min_percent: str
    rate_max_percent: str
    apr_max_percent: str | None = Field(
        description="The highest APR (IRR) of the version's sample loans, checked when it was published")
    fees: list[ProductFee]
    penalty: PenaltyRule = Field(description="What an overdue installment is charged: penalty interest, late fee")
    default_charges_cap_percent: str = Field(
        description="Penalty, compound interest and late fee together stay within this yearly rate on the overdue "
                    "amount (the cap in force today for the institution's kind)", examples=["24"])
    group_lending: bool
    required_documents: list[str]


class ProductQuoteRequest(InputSchema):
    """A borrower's choice within a product's ranges."""

    amount: Positive
    term: int = Field(ge=1, le=600)
    repayment_method: RepaymentMethodName
    risk_grade: GradeName | None = Field(
        default=None, description="Price at this grade (by-grade products); none: the highest rate, an upper bound")
    start_date: date | None = Field(default=None, description="Disbursement date; default the business date")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"amount": "20000.00", "term": 12, "repayment_method": "equal_installment"}]})


class ProductQuoteRead(QuoteRead):
    """A product quote: the quote, and the product version and rate it was priced at."""

    product_code: str
    product_version: int
    annual_rate_percent: str


# --- rate limits: the LPR table and the caps ---------------------------------------------------


class LprCreate(InputSchema):
    """A one-year LPR fixing and the day it takes effect."""

    effective_date: date
    one_year_percent: Annotated[PercentStr, Field(gt=0, le=20)]
    source: str = Field(min_length=2, max_length=200, examples=["中国人民银行授权全国银行间同业拆借中心公布"])

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"effective_date": "2026-02-20", "one_year_percent": "3.0", "source": "chinamoney.com.cn 2026-02-20"}]})


class LprUpdate(InputSchema):
    """Correct a fixing (omitted fields stay)."""

    one_year_percent: Annotated[PercentStr, Field(gt=0, le=20)] | None = None
    source: str | None = Field(default=None, min_length=2, max_length=200)

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra={"examples": [{"one_year_percent": "3.05"}]})

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.one_year_percent is None and self.source is None:
            raise field_error("nothing_to_change", "nothing to change", "没有需要修改的内容")
        return self


class LprRead(OutputSchema):
    """A one-year LPR fixing."""

    id: int
    effective_date: date
    one_year_percent: str
    source: str
    origin: Literal["seeded", "manual"]
    updated_at: datetime


InstitutionKindName = Literal[
    "small_loan_company", "rural_credit_cooperative", "village_bank", "microfinance", "online_small_loan"]


class RateCapCreate(InputSchema):
    """The rate caps of one kind of institution from a date on."""

    institution_kind: InstitutionKindName
    effective_from: date
    hard_cap_percent: Annotated[PercentStr, Field(gt=0, le=100)] = Field(
        description="No product or quote may have an APR above this")
    approval_lpr_multiple: Annotated[PercentStr, Field(gt=0, le=10)] = Field(
        description="Above this multiple of the one-year LPR a product needs a second administrator's approval")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"institution_kind": "small_loan_company", "effective_from": "2028-01-01", "hard_cap_percent": "24",
         "approval_lpr_multiple": "4"}]})


class RateCapRead(OutputSchema):
    """The caps of one kind of institution from a date on."""

    id: int
    institution_kind: str
    effective_from: date
    hard_cap_percent: str
    approval_lpr_multiple: str
    origin: Literal["seeded", "manual"]
