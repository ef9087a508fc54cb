"""Risk-based price and limit: the offer a grade and an income allow (pure; issue 19 §3).

Once the grade is known the product's tables say the rate (`ProductTerms.rate`) and the grade's
limit (`ProductTerms.limits`); the debt-service ratio bounds the amount by income: every monthly
debt payment — the larger of the bureau's and the stated existing payments, plus this loan's largest
monthly payment at the grade's rate — over the monthly income, at most `max_dsr_percent`.

The offer is the grade's limit ∧ the largest amount, a whole number of `step`s (¥100), whose payment
keeps the ratio within bound. The payment comes from the lending engine's schedule (origination
gives `monthly_payment`, built by products from the product's conventions); it grows with the amount,
so the largest affordable amount is found by bisection over the steps.

Money is `Money` (integer fen); ratios are compared in integers (payment × 100 ≤ income × bound).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from microcredit.lending.money import Money
from microcredit.risk.assessment import STEP, Outcome, PricingTerms

__all__ = ["STEP", "Affordability", "PricingTerms", "affordable_amount", "assess", "monthly_budget"]

@dataclass(frozen=True)
class Affordability:
    """The offer for one application and every figure behind it (stored as the decision's result params)."""

    grade: str
    rate_percent: Decimal
    asked: Money
    grade_limit: Money
    income: Money | None
    existing_payments: Money
    installment: Money  # the asked amount's largest monthly payment at the grade's rate
    dsr_percent: Decimal | None  # (existing + installment) / income, after the asked loan; None: no income
    max_dsr_percent: Decimal | None
    dsr_limit: Money | None  # the largest amount the ratio allows (None: no bound)
    offer: Money  # grade_limit ∧ dsr_limit
    amount_min: Money

    @property
    def binding(self) -> str:
        """The bound that sets the offer: "debt_service_ratio" or "grade_limit"."""
        if self.dsr_limit is not None and self.dsr_limit < self.grade_limit:
            return "debt_service_ratio"
        return "grade_limit"

    @property
    def within(self) -> bool:
        """The asked amount is within the offer."""
        return self.asked <= self.offer

    @property
    def code(self) -> str:
        """The result's code: "affordability" when within, else the binding bound."""
        return "affordability" if self.within else self.binding

    @property
    def outcome(self) -> Outcome:
        """pass within the offer; flag above it (people may counter-offer); fail when the offer is below the
        product's smallest amount (nothing can be offered)."""
        if self.within:
            return Outcome.PASS
        return Outcome.FLAG if self.offer >= self.amount_min else Outcome.FAIL

    @property
    def counter_amount(self) -> Money | None:
        """The amount a counter-offer would make (None: the asked amount stands, or nothing can be offered)."""
        return self.offer if self.outcome is Outcome.FLAG else None

    def params(self) -> dict[str, str | int]:
        """The figures as the stored result's params (money as decimal strings in yuan, ratios in percent)."""
        out: dict[str, str | int] = {
            "grade": self.grade, "rate": _pct(self.rate_percent), "asked": str(self.asked),
            "grade_limit": str(self.grade_limit), "existing": str(self.existing_payments),
            "installment": str(self.installment), "offer": str(self.offer), "min": str(self.amount_min)}
        if self.income is not None:
            out["income"] = str(self.income)
        if self.dsr_percent is not None:
            out["dsr"] = _pct(self.dsr_percent)
        if self.max_dsr_percent is not None:
            out["max_dsr"] = _pct(self.max_dsr_percent)
        if self.dsr_limit is not None:
            out["dsr_limit"] = str(self.dsr_limit)
        return out


def _pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')).normalize():f}"


def monthly_budget(income: Money | None, existing: Money, max_dsr_percent: Decimal) -> int:
    """The fen a month this loan's payment may take: income × bound − existing payments (negative: none)."""
    if income is None or income.minor <= 0:
        return -1
    cap = (Decimal(income.minor) * max_dsr_percent / 100).to_integral_value(rounding=ROUND_FLOOR)
    return int(cap) - existing.minor


def affordable_amount(payment: Callable[[Money], Money], budget: int, cap: Money, step: Money) -> Money:
    """The largest whole number of `step`s, at most `cap`, whose `payment` is at most `budget` fen (zero: none).

    `payment` must not decrease with the amount (a schedule's largest installment does not): bisection
    finds k with payment(k·step) ≤ budget < payment((k+1)·step)."""
    zero = Money(0, cap.currency)
    if budget <= 0:
        return zero
    low, high = 0, cap.minor // step.minor  # payment(low·step) ≤ budget holds (nothing borrowed)
    if high == 0 or payment(step * high).minor <= budget:
        return step * high
    while high - low > 1:  # invariant: low fits, high does not
        mid = (low + high) // 2
        if payment(step * mid).minor <= budget:
            low = mid
        else:
            high = mid
    return step * low


def assess(pricing: PricingTerms, *, grade: str, asked: Money, income: Money | None,
           existing_payments: Money) -> Affordability:
    """The offer at `grade` for an application asking `asked` (the grade's limit ∧ the income's bound)."""
    rate = pricing.rates[grade]
    grade_limit = pricing.limits[grade]
    installment = pricing.monthly_payment(asked, rate)
    dsr = dsr_limit = None
    if income is not None and income.minor > 0:
        dsr = Decimal((existing_payments + installment).minor * 100) / Decimal(income.minor)
    if pricing.max_dsr_percent is not None:
        budget = monthly_budget(income, existing_payments, pricing.max_dsr_percent)
        dsr_limit = affordable_amount(lambda amount: pricing.monthly_payment(amount, rate), budget,
                                      grade_limit, pricing.step)
    offer = grade_limit if dsr_limit is None else min(grade_limit, dsr_limit)
    return Affordability(
        grade=grade, rate_percent=rate, asked=asked, grade_limit=grade_limit, income=income,
        existing_payments=existing_payments, installment=installment, dsr_percent=dsr,
        max_dsr_percent=pricing.max_dsr_percent, dsr_limit=dsr_limit, offer=offer, amount_min=pricing.amount_min)
