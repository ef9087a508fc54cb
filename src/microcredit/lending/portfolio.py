"""Portfolio ratios (CGAP Consensus Guidelines 2003, SEEP MFRS 2010, IRIS+).

PAR_x (portfolio at risk over x days):

    PAR_x = outstanding principal of loans with an installment more than
            x days past due / gross loan portfolio

counting the *whole* unpaid principal of each such loan (past due and
future), without interest, and counting restructured loans as at risk
whatever their days past due (the common errors are to count loans instead
of balances, or to leave restructured loans out).

Write-off ratio = loans written off in the period / average gross loan
portfolio.  OSS (operational self-sufficiency) = operating revenue /
(financial expense + impairment expense + operating expense); 100 % is
break-even.  Risk coverage = impairment allowance / PAR30 balance.

Worked example (docs/domain.md §3.3): loans A 1,000 (0 days), B 2,000 (45),
C 500 (100), D 1,500 (0, restructured); GLP 5,000.
PAR30 = (2,000 + 500 + 1,500) / 5,000 = 80 %; PAR90 = (500 + 1,500) / 5,000
= 40 %; write-offs 300 on an average GLP of 5,000 = 6 %; revenue 1,200,
financial expense 300, impairment 150, opex 600 -> OSS = 1,200 / 1,050 =
114.3 %.

Amounts are `Money` of one reporting currency; ratios are Decimal fractions
(0.8 = 80 %) of the exact ratio of the amounts (`Money.ratio`), to the
engine's 50 digits; `as_percent` rounds for display.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from microcredit.lending.money import ENGINE_CONTEXT, Money, in_engine_context

__all__ = [
    "LoanPosition",
    "as_percent",
    "gross_loan_portfolio",
    "oss",
    "par",
    "risk_coverage",
    "write_off_ratio",
]


@dataclass(frozen=True, slots=True)
class LoanPosition:
    """A loan on the as-of date: outstanding principal, days past due, restructured or not."""

    outstanding_principal: Money
    dpd: int
    restructured: bool = False


def _decimal(ratio: Fraction) -> Decimal:
    """An exact ratio as a Decimal, correctly rounded to the engine's 50 digits."""
    return ENGINE_CONTEXT.divide(Decimal(ratio.numerator), Decimal(ratio.denominator))


def gross_loan_portfolio(positions: Sequence[LoanPosition], *, currency: str) -> Money:
    """The sum of outstanding principal (in the reporting `currency`)."""
    return Money.total((p.outstanding_principal for p in positions), currency)


def _at_risk(positions: Sequence[LoanPosition], days: int, currency: str) -> Money:
    return Money.total((p.outstanding_principal for p in positions if p.dpd > days or p.restructured), currency)


def par(positions: Sequence[LoanPosition], days: int, *, currency: str) -> Decimal:
    """PAR_days: principal of loans more than `days` past due (or restructured) / GLP."""
    glp = gross_loan_portfolio(positions, currency=currency)
    if glp.is_zero:
        return Decimal(0)
    return _decimal(_at_risk(positions, days, currency).ratio(glp))


def write_off_ratio(written_off: Money, average_portfolio: Money) -> Decimal:
    """Loans written off in the period / average gross loan portfolio."""
    if not average_portfolio.is_positive:
        raise ValueError("the average portfolio must be positive")
    return _decimal(written_off.ratio(average_portfolio))


def oss(
    *,
    operating_revenue: Money,
    financial_expense: Money,
    impairment_expense: Money,
    operating_expense: Money,
) -> Decimal:
    """Operational self-sufficiency: revenue / (financial + impairment + operating expense)."""
    costs = financial_expense + impairment_expense + operating_expense
    if not costs.is_positive:
        raise ValueError("expenses must be positive")
    return _decimal(operating_revenue.ratio(costs))


def risk_coverage(allowance: Money, positions: Sequence[LoanPosition]) -> Decimal:
    """Impairment allowance / principal at risk over 30 days."""
    at_risk = _at_risk(positions, 30, allowance.currency)
    if at_risk.is_zero:
        raise ValueError("no portfolio at risk to cover")
    return _decimal(allowance.ratio(at_risk))


@in_engine_context
def as_percent(ratio: Decimal, places: int = 1) -> Decimal:
    """A ratio in percent, rounded half-up for display (0.80 -> 80.0)."""
    return (ratio * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
