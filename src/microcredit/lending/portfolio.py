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

Worked example (DOMAIN.md §3.3): loans A 1,000 (0 days), B 2,000 (45),
C 500 (100), D 1,500 (0, restructured); GLP 5,000.
PAR30 = (2,000 + 500 + 1,500) / 5,000 = 80 %; PAR90 = (500 + 1,500) / 5,000
= 40 %; write-offs 300 on an average GLP of 5,000 = 6 %; revenue 1,200,
financial expense 300, impairment 150, opex 600 -> OSS = 1,200 / 1,050 =
114.3 %.

Ratios are exact Decimal fractions (0.8 = 80 %); `as_percent` rounds for
display.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from microcredit.lending.money import ZERO, in_engine_context

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

    outstanding_principal: Decimal
    dpd: int
    restructured: bool = False


@in_engine_context
def gross_loan_portfolio(positions: Sequence[LoanPosition]) -> Decimal:
    """The sum of outstanding principal."""
    return sum((p.outstanding_principal for p in positions), ZERO)


@in_engine_context
def par(positions: Sequence[LoanPosition], days: int) -> Decimal:
    """PAR_days: principal of loans more than `days` past due (or restructured) / GLP."""
    glp = gross_loan_portfolio(positions)
    if glp == 0:
        return ZERO
    at_risk = sum((p.outstanding_principal for p in positions if p.dpd > days or p.restructured), ZERO)
    return at_risk / glp


@in_engine_context
def write_off_ratio(written_off: Decimal, average_portfolio: Decimal) -> Decimal:
    """Loans written off in the period / average gross loan portfolio."""
    if average_portfolio <= 0:
        raise ValueError("the average portfolio must be positive")
    return written_off / average_portfolio


@in_engine_context
def oss(
    *,
    operating_revenue: Decimal,
    financial_expense: Decimal,
    impairment_expense: Decimal,
    operating_expense: Decimal,
) -> Decimal:
    """Operational self-sufficiency: revenue / (financial + impairment + operating expense)."""
    costs = financial_expense + impairment_expense + operating_expense
    if costs <= 0:
        raise ValueError("expenses must be positive")
    return operating_revenue / costs


@in_engine_context
def risk_coverage(allowance: Decimal, positions: Sequence[LoanPosition]) -> Decimal:
    """Impairment allowance / principal at risk over 30 days."""
    at_risk = par(positions, 30) * gross_loan_portfolio(positions)
    if at_risk == 0:
        raise ValueError("no portfolio at risk to cover")
    return allowance / at_risk


@in_engine_context
def as_percent(ratio: Decimal, places: int = 1) -> Decimal:
    """A ratio in percent, rounded half-up for display (0.80 -> 80.0)."""
    return (ratio * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
