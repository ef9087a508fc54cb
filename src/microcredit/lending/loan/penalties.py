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

from microcredit.lending.allocation import InstallmentDue
from microcredit.lending.daycount import DayCount
from microcredit.lending.delinquency import ChargeCap, LateFeeRule, PenaltyRule, installment_dpd, late_fee
from microcredit.lending.loan import minor
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


def _paid_lines(state: LoanState) -> dict[tuple[int, int], list[tuple[date, int]]]:
    """What was paid of each (installment, component index), as (day, minor units), sorted: the payments' lines
    read once (`loan.minor`), not once per installment and component."""
    paid: dict[tuple[int, int], list[tuple[date, int]]] = {}
    for payment in minor.payments(state):
        for installment, component, amount in payment.lines:
            paid.setdefault((installment, component), []).append((payment.on, amount))
    for lines in paid.values():
        lines.sort()
    return paid


def _unpaid_on(owed: int, paid: list[tuple[date, int]], day: date) -> int:
    """Minor units still unpaid at the end of `day`."""
    return owed - sum(amount for on, amount in paid if on <= day)


def _unpaid_days(owed: int, paid: list[tuple[date, int]], start: date, end: date, rate: Fraction,
                 day_count: DayCount) -> Fraction:
    """Σ over [start, end) of the minor units unpaid each day x the rate's share of the day: Σ of unpaid x the
    span's year fraction, times the rate once (exact rationals: the same number as the rate applied to each span),
    a span with nothing unpaid adding nothing."""
    unpaid = _unpaid_on(owed, paid, start)
    total, since = Fraction(0), start
    for on, amount in paid:
        if start < on < end:
            if unpaid > 0:
                span = day_count.year_fraction(since, on)
                total += Fraction(unpaid * span.numerator, span.denominator)
            unpaid, since = unpaid - amount, on
    if unpaid > 0:
        span = day_count.year_fraction(since, end)
        total += Fraction(unpaid * span.numerator, span.denominator)
    return total * rate if total else total


def penalties_owed(state: LoanState, *, contract_rate: Decimal, rule: PenaltyRule, rounding: RoundingPolicy,
                   as_of: date, late_fee_rule: LateFeeRule | None = None, cap: ChargeCap | None = None,
                   overdue_earns_interest: bool = False) -> list[PenaltyOwed]:
    """Each installment past its grace on `as_of`: its default charges by then (penalty interest, compound
    interest, the late fee; within `cap` when given) and what it was charged.

    The installments and payments are read in minor units (`loan.minor`: from the kernel's integer columns when it
    folded the loan, no `InstallmentState` made)."""
    rate = Fraction(rule.annual_rate(contract_rate))
    owed = []
    paid: dict[tuple[int, int], list[tuple[date, int]]] | None = None
    nothing: list[tuple[date, int]] = []
    cap_rates: tuple[Fraction, Fraction] | None = None
    if cap is not None:
        room = Decimal(0) if not overdue_earns_interest else contract_rate
        cap_rates = Fraction(max(cap.annual_rate - room, Decimal(0))), Fraction(cap.annual_rate)
    for row in minor.installments(state):
        dpd = installment_dpd(row.due_date, as_of, rule.grace_days)
        if dpd == 0:
            continue
        if paid is None:
            paid = _paid_lines(state)
        principal_paid = paid.get((row.number, 0), nothing)
        interest_paid = paid.get((row.number, 1), nothing)
        principal, interest = row.due[0], row.due[1]
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
        if cap is not None and cap_rates is not None:
            ceiling = (_unpaid_days(principal, principal_paid, row.due_date, as_of, cap_rates[0], cap.day_count)
                       + _unpaid_days(interest, interest_paid, row.due_date, as_of, cap_rates[1], cap.day_count))
            allowed = min(contractual, rounding.round(ceiling / 10 ** rounding.places))
        owed.append(PenaltyOwed(row.number, dpd, allowed, Money(row.due[3], state.currency), contractual, fee))
    return owed


def _late_fee(number: int, due_date: date, as_of: date, rule: LateFeeRule, rounding: RoundingPolicy, *,
              principal: Money, interest: Money) -> Money:
    """The late fee of an installment that still owed `principal` and `interest` at the end of its
    `after_days`-th day late (nothing if it owed nothing then, or that day has not come)."""
    zero = rounding.zero
    unpaid = InstallmentDue(number, due_date, max(principal, zero), max(interest, zero), zero, zero)
    return late_fee(unpaid, as_of=as_of, rule=rule, rounding=rounding)
