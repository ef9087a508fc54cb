"""Delinquency: days past due, penalty interest (罚息), compound interest (复利),
late fees, and the cap on default charges.

Days past due (docs/domain.md §3.2) on an as-of date: for one installment,
as-of - due date (the due date itself is 0, the next day 1); for a loan,
that of the oldest installment not fully paid.  Grace days (a product
parameter) keep an installment at 0 until they are exceeded; residues below
a tolerance (e.g. under 1 yuan, a policy setting) do not count as unpaid.

Penalty interest accrues daily from the due date on overdue principal (once
the grace days are exceeded, from the due date too, whether it is computed in
one go or day by day with `accrued_from`); if
the product says so, compound interest accrues at the same rate on overdue
(unpaid) interest (PBOC 银发〔2003〕251号):

    penalty  = round(overdue principal x penalty rate x yearfraction)
    compound = round(overdue interest  x penalty rate x yearfraction)

and the penalty rate is one of contract x (1 + uplift) (251号: uplift
30 %-50 %), contract + margin, or a fixed rate.

Worked example (docs/domain.md §4.7): installment 1 of the 10,000 / 12 % /
12-month loan (principal 788.49, interest 100.00) is 10 days late; uplift
50 % gives 18 %; on a 360-day basis penalty = 788.49 x 0.18 x 10/360 =
3.942 -> 3.94 and compound = 100.00 x 0.18 x 10/360 = 0.50.

A late fee is a fixed amount and/or a percentage of the overdue
installment, charged once when an installment passes a number of days.

Cap: the courts and regulators bound the total of default charges
(penalty, compound, late fees -- and, if counted, contract interest over the
same days) to an annual ceiling on the overdue amount (4 x LPR for private
lending, 24 % for small-loan companies; configuration, not code):

    ceiling = round(overdue base x cap rate x yearfraction) - other charges counted

The allowed charges are the contractual ones clipped to the ceiling, in the
order penalty, compound, late fees; the unclipped (contractual) figures are
kept beside them for reporting.

Amounts are `Money`; each charge is the exact rational amount x rate x
fraction rounded once by the policy (`Money.times`).  The rules carry the
product's conventions -- rate basis, day count, grace days -- and have no
defaults of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from microcredit.lending.allocation import InstallmentDue
from microcredit.lending.daycount import DayCount, YearFraction
from microcredit.lending.money import Money, RoundingPolicy, in_engine_context

__all__ = [
    "CappedCharges",
    "ChargeCap",
    "DefaultCharges",
    "LateFeeRule",
    "PenaltyAccrual",
    "PenaltyBasis",
    "PenaltyRule",
    "cap_default_charges",
    "installment_dpd",
    "late_fee",
    "loan_dpd",
    "penalty_interest",
]


def installment_dpd(due_date: date, as_of: date, grace_days: int = 0) -> int:
    """Days past due of one unpaid installment on `as_of` (0 within the grace days)."""
    days = (as_of - due_date).days
    return days if days > grace_days else 0


def loan_dpd(
    dues: Sequence[InstallmentDue],
    as_of: date,
    *,
    grace_days: int,
    tolerance: Money,
) -> int:
    """Days past due of a loan: those of its oldest installment owing more than `tolerance`."""
    unpaid = [d.due_date for d in dues if d.total > tolerance and d.due_date < as_of]
    if not unpaid:
        return 0
    return installment_dpd(min(unpaid), as_of, grace_days)


class PenaltyBasis(StrEnum):
    """How the penalty rate is derived from the contract rate."""

    UPLIFT = "uplift"  # contract x (1 + value)
    MARGIN = "margin"  # contract + value
    FIXED = "fixed"  # value


@dataclass(frozen=True, slots=True, kw_only=True)
class PenaltyRule:
    """Penalty rate rule, its day count, whether overdue interest compounds, and grace days."""

    basis: PenaltyBasis
    value: Decimal
    day_count: DayCount
    compound_overdue_interest: bool
    grace_days: int = 0

    @in_engine_context
    def annual_rate(self, contract_rate: Decimal) -> Decimal:
        """The annual penalty rate for a loan at `contract_rate`."""
        if self.basis is PenaltyBasis.UPLIFT:
            return contract_rate * (1 + self.value)
        if self.basis is PenaltyBasis.MARGIN:
            return contract_rate + self.value
        return self.value


@dataclass(frozen=True, slots=True)
class PenaltyAccrual:
    """Penalty and compound interest of one installment over [start, end)."""

    installment: int
    start: date
    end: date
    days: int
    annual_rate: Decimal
    penalty: Money
    compound: Money

    @property
    def total(self) -> Money:
        """Penalty plus compound interest."""
        return self.penalty + self.compound


def _scale(rate: Decimal, fraction: YearFraction) -> Fraction:
    """rate x year fraction, exactly."""
    return Fraction(rate) * Fraction(fraction.numerator, fraction.denominator)


def penalty_interest(
    due: InstallmentDue,
    *,
    as_of: date,
    contract_rate: Decimal,
    rule: PenaltyRule,
    rounding: RoundingPolicy,
    accrued_from: date | None = None,
) -> PenaltyAccrual:
    """罚息 and 复利 of an overdue installment from its due date (or `accrued_from`) to `as_of`."""
    start = due.due_date if accrued_from is None else max(accrued_from, due.due_date)
    if installment_dpd(due.due_date, start, rule.grace_days) == 0:
        start = due.due_date  # nothing was due yet by `accrued_from`: once out of grace, charge from the due date
    zero = rounding.zero
    rate = rule.annual_rate(contract_rate)
    if installment_dpd(due.due_date, as_of, rule.grace_days) == 0 or as_of <= start:
        return PenaltyAccrual(due.number, start, max(start, as_of), 0, rate, zero, zero)
    scale = _scale(rate, rule.day_count.year_fraction(start, as_of))
    penalty = rounding.times(due.principal, scale)
    compound = rounding.times(due.interest, scale) if rule.compound_overdue_interest else zero
    return PenaltyAccrual(due.number, start, as_of, (as_of - start).days, rate, penalty, compound)


@dataclass(frozen=True, slots=True, kw_only=True)
class LateFeeRule:
    """A one-off late fee: a fixed amount plus a rate of the overdue installment, after N days."""

    amount: Money
    rate: Decimal
    after_days: int


def late_fee(due: InstallmentDue, *, as_of: date, rule: LateFeeRule, rounding: RoundingPolicy) -> Money:
    """The late fee an overdue installment has incurred by `as_of` (0 before `after_days`)."""
    if (as_of - due.due_date).days < rule.after_days or not due.total.is_positive:
        return rounding.zero
    overdue = due.principal + due.interest
    return rounding.round(Fraction(rule.amount.amount) + Fraction(overdue.amount) * Fraction(rule.rate))


@dataclass(frozen=True, slots=True)
class DefaultCharges:
    """Default charges of a loan: penalty interest, compound interest, late fees."""

    penalty: Money
    compound: Money
    late_fees: Money

    @property
    def total(self) -> Money:
        """The sum of the three."""
        return self.penalty + self.compound + self.late_fees


@dataclass(frozen=True, slots=True)
class ChargeCap:
    """An annual ceiling on default charges (e.g. 0.24, or 4 x LPR) and its day count."""

    annual_rate: Decimal
    day_count: DayCount


@dataclass(frozen=True, slots=True)
class CappedCharges:
    """Contractual default charges, the part allowed under the cap, and what was clipped."""

    contractual: DefaultCharges
    allowed: DefaultCharges
    ceiling: Money

    @property
    def clipped(self) -> Money:
        """How much the cap removed."""
        return self.contractual.total - self.allowed.total


def cap_default_charges(
    charges: DefaultCharges,
    *,
    overdue_base: Money,
    start: date,
    end: date,
    cap: ChargeCap,
    rounding: RoundingPolicy,
    other_charges: Money | None = None,
) -> CappedCharges:
    """Clip cumulative default charges over [start, end) to the cap on `overdue_base`.

    `other_charges` are those counted against the same ceiling (e.g. contract interest over
    the days), none when not given.
    """
    gross = rounding.times(overdue_base, _scale(cap.annual_rate, cap.day_count.year_fraction(start, end)))
    ceiling = max(gross if other_charges is None else gross - other_charges, rounding.zero)
    room = ceiling
    allowed: list[Money] = []
    for amount in (charges.penalty, charges.compound, charges.late_fees):
        kept = min(amount, room)
        allowed.append(kept)
        room -= kept
    return CappedCharges(
        contractual=charges,
        allowed=DefaultCharges(*allowed),
        ceiling=ceiling,
    )
