"""Penalty interest (罚息) and compound interest (复利) an overdue loan has cost by a date, from its state.

For each installment past its grace days: from its due date to `as_of`, the principal still unpaid
on each day times the penalty rate's share of that day (and, when overdue interest compounds, the
interest still unpaid likewise), summed exactly and rounded once by the contract's rounding. A
payment stops the cost from its value date. The caller charges the difference between this and
what each installment was already charged (`PenaltyCharged` events): so charging is idempotent,
days a close of business missed are charged at once with the same result as day by day, and a
payment keyed in later with an earlier value date lowers what later charges add.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from microcredit.lending.allocation import Component
from microcredit.lending.delinquency import PenaltyRule, installment_dpd
from microcredit.lending.loan.state import LoanState
from microcredit.lending.money import Money, RoundingPolicy

__all__ = ["PenaltyOwed", "penalties_owed"]


@dataclass(frozen=True, slots=True)
class PenaltyOwed:
    """An installment's penalty by a date: what the rule says it has cost, and what it was charged."""

    installment: int
    days_past_due: int
    accrued: Money
    charged: Money

    @property
    def to_charge(self) -> Money:
        """What is still to be charged (nothing when earlier charges already cover it)."""
        rest = self.accrued - self.charged
        return rest if rest.is_positive else Money.zero(rest.currency)


def _paid(state: LoanState, number: int, component: Component) -> list[tuple[date, int]]:
    return sorted((payment.on, line.amount.minor) for payment in state.payments for line in payment.lines
                  if line.installment == number and line.component is component)


def _unpaid_days(owed: int, paid: list[tuple[date, int]], start: date, end: date, rate: Decimal,
                 rule: PenaltyRule) -> Fraction:
    """Σ over [start, end) of the minor units unpaid each day x the rate's share of the day."""
    unpaid = owed - sum(amount for on, amount in paid if on <= start)
    total, since = Fraction(0), start
    for on, amount in paid:
        if start < on < end:
            span = rule.day_count.year_fraction(since, on)
            total += max(unpaid, 0) * Fraction(rate) * Fraction(span.numerator, span.denominator)
            unpaid, since = unpaid - amount, on
    span = rule.day_count.year_fraction(since, end)
    return total + max(unpaid, 0) * Fraction(rate) * Fraction(span.numerator, span.denominator)


def penalties_owed(state: LoanState, *, contract_rate: Decimal, rule: PenaltyRule, rounding: RoundingPolicy,
                   as_of: date) -> list[PenaltyOwed]:
    """Each installment past its grace on `as_of`: the penalty it has cost by then and what it was charged."""
    rate = rule.annual_rate(contract_rate)
    owed = []
    for row in state.installments:
        dpd = installment_dpd(row.due_date, as_of, rule.grace_days)
        if dpd == 0:
            continue
        exact = _unpaid_days(row.due.principal.minor, _paid(state, row.number, Component.PRINCIPAL), row.due_date,
                             as_of, rate, rule)
        if rule.compound_overdue_interest:
            exact += _unpaid_days(row.due.interest.minor, _paid(state, row.number, Component.INTEREST),
                                  row.due_date, as_of, rate, rule)
        accrued = rounding.round(exact / 10 ** rounding.places)
        owed.append(PenaltyOwed(row.number, dpd, accrued, row.due.penalty))
    return owed
