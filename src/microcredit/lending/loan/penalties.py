"""Penalty interest (罚息) and compound interest (复利) an overdue loan has cost by a date, from its state.

For each installment past its grace days: from its due date to `as_of`, the principal still unpaid
on each day times the penalty rate's share of that day (and, when overdue interest compounds, the
interest still unpaid likewise), summed exactly and rounded once by the contract's rounding. A
payment stops the cost from its value date. The caller charges the difference between this and
what each installment was already charged (`PenaltyCharged` events): so charging is idempotent,
days a close of business missed are charged at once with the same result as day by day, and a
payment keyed in later with an earlier value date lowers what later charges add.

Two more rules of the product and the law bound what an installment is charged:

- **a late fee** (滞纳金, `LateFeeRule`): once the installment is past its grace days and `after_days`
  late, a fixed amount plus a rate of what it still owed of principal and interest at the end of
  that day, charged once (nothing if it was paid by then);
- **the ceiling on default charges** (`ChargeCap`, the yearly cap in force on the contract date:
  24 % for a small-loan company): penalty, compound interest and the late fee together never exceed
  the cap rate on the installment's unpaid principal and interest, day by day from its due date.
  When the overdue principal keeps earning contract interest (interest recalculation on the actual
  balance), that interest counts against the same ceiling: the principal's room is the cap less the
  contract rate. The charges are clipped in the order penalty, compound, late fee; the unclipped
  (contractual) figure is kept beside the allowed one for reporting. The ceiling grows with each
  day the installment stays unpaid, so a clipped fee is charged as the room for it grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from microcredit.lending.allocation import Component, InstallmentDue
from microcredit.lending.daycount import DayCount
from microcredit.lending.delinquency import ChargeCap, LateFeeRule, PenaltyRule, installment_dpd, late_fee
from microcredit.lending.loan.state import LoanState
from microcredit.lending.money import Money, RoundingPolicy

__all__ = ["PenaltyOwed", "penalties_owed"]


@dataclass(frozen=True, slots=True)
class PenaltyOwed:
    """An installment's default charges by a date: what the rules allow it to have cost (`accrued`: penalty,
    compound interest and late fee, within the ceiling), what they would be without the ceiling
    (`contractual`), the late fee among them, and what the installment was charged."""

    installment: int
    days_past_due: int
    accrued: Money
    charged: Money
    contractual: Money
    late_fee: Money

    @property
    def clipped(self) -> Money:
        """What the ceiling on default charges keeps off the contractual figure."""
        return self.contractual - self.accrued

    @property
    def to_charge(self) -> Money:
        """What is still to be charged (nothing when earlier charges already cover it)."""
        rest = self.accrued - self.charged
        return rest if rest.is_positive else Money.zero(rest.currency)


def _paid(state: LoanState, number: int, component: Component) -> list[tuple[date, int]]:
    return sorted((payment.on, line.amount.minor) for payment in state.payments for line in payment.lines
                  if line.installment == number and line.component is component)


def _unpaid_on(owed: int, paid: list[tuple[date, int]], day: date) -> int:
    """Minor units still unpaid at the end of `day`."""
    return owed - sum(amount for on, amount in paid if on <= day)


def _unpaid_days(owed: int, paid: list[tuple[date, int]], start: date, end: date, rate: Decimal,
                 day_count: DayCount) -> Fraction:
    """Σ over [start, end) of the minor units unpaid each day x the rate's share of the day."""
    unpaid = _unpaid_on(owed, paid, start)
    total, since = Fraction(0), start
    for on, amount in paid:
        if start < on < end:
            span = day_count.year_fraction(since, on)
            total += max(unpaid, 0) * Fraction(rate) * Fraction(span.numerator, span.denominator)
            unpaid, since = unpaid - amount, on
    span = day_count.year_fraction(since, end)
    return total + max(unpaid, 0) * Fraction(rate) * Fraction(span.numerator, span.denominator)


def penalties_owed(state: LoanState, *, contract_rate: Decimal, rule: PenaltyRule, rounding: RoundingPolicy,
                   as_of: date, late_fee_rule: LateFeeRule | None = None, cap: ChargeCap | None = None,
                   overdue_earns_interest: bool = False) -> list[PenaltyOwed]:
    """Each installment past its grace on `as_of`: its default charges by then (penalty interest, compound
    interest, the late fee; within `cap` when given) and what it was charged."""
    rate = rule.annual_rate(contract_rate)
    owed = []
    for row in state.installments:
        dpd = installment_dpd(row.due_date, as_of, rule.grace_days)
        if dpd == 0:
            continue
        principal_paid = _paid(state, row.number, Component.PRINCIPAL)
        interest_paid = _paid(state, row.number, Component.INTEREST)
        principal, interest = row.due.principal.minor, row.due.interest.minor
        exact = _unpaid_days(principal, principal_paid, row.due_date, as_of, rate, rule.day_count)
        if rule.compound_overdue_interest:
            exact += _unpaid_days(interest, interest_paid, row.due_date, as_of, rate, rule.day_count)
        fee = rounding.zero
        if late_fee_rule is not None:
            its_day = row.due_date + timedelta(days=late_fee_rule.after_days)
            fee = _late_fee(row.number, row.due_date, as_of, late_fee_rule, rounding,
                            principal=Money(_unpaid_on(principal, principal_paid, its_day), state.currency),
                            interest=Money(_unpaid_on(interest, interest_paid, its_day), state.currency))
        contractual = rounding.round(exact / 10 ** rounding.places) + fee
        allowed = contractual
        if cap is not None:
            room = Decimal(0) if not overdue_earns_interest else contract_rate
            ceiling = (_unpaid_days(principal, principal_paid, row.due_date, as_of,
                                    max(cap.annual_rate - room, Decimal(0)), cap.day_count)
                       + _unpaid_days(interest, interest_paid, row.due_date, as_of, cap.annual_rate, cap.day_count))
            allowed = min(contractual, rounding.round(ceiling / 10 ** rounding.places))
        owed.append(PenaltyOwed(row.number, dpd, allowed, row.due.penalty, contractual, fee))
    return owed


def _late_fee(number: int, due_date: date, as_of: date, rule: LateFeeRule, rounding: RoundingPolicy, *,
              principal: Money, interest: Money) -> Money:
    """The late fee of an installment that still owed `principal` and `interest` at the end of its
    `after_days`-th day late (nothing if it owed nothing then, or that day has not come)."""
    zero = rounding.zero
    unpaid = InstallmentDue(number, due_date, max(principal, zero), max(interest, zero), zero, zero)
    return late_fee(unpaid, as_of=as_of, rule=rule, rounding=rounding)
