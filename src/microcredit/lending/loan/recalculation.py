"""Interest recalculated on the balance actually outstanding (Fineract's "interest recalculation").

A schedule charges each installment the interest its *scheduled* balance earns.  A loan with
`Terms.recalculation` charges, on top of that, the interest earned by the difference between
the balance actually outstanding and the scheduled one:

    Δ(t) = principal overdue on day t                (a late installment's principal keeps earning)
         + interest overdue, fees overdue            (when the rule compounds them)
         − principal paid ahead of its due date      (it stops earning from its value date)
         + what a payment repaid, until its rest date (the rest frequency: when a payment counts)

Δ is constant between events and due dates; the fold accrues ``Δ × rate × year fraction``
exactly (a `Fraction` of minor units) and charges it, rounded once, to the installment that
falls due at the end of the period -- the next installment for a late one's principal, as
the contract rate would -- or, after the last due date, to the last installment on each date
the schedule's frequency would have had one.  Penalty interest (罚息) stays a separate
component, charged by a close of business.  Nothing here is stored: it is a fold over the
events like everything else, and a reversal takes its effect away.

Prepayments (the `Prepayment` event, or a repayment's overpayment under
`OverpaymentPolicy.PREPAY_PRINCIPAL`) already settle the interest accrued to their day and
re-amortise the rest in the borrower's mode (`shorten_term`: fewer installments, Fineract's
REDUCE_NUMBER_OF_INSTALLMENTS; `reduce_installment`: a lower installment, REDUCE_EMI_AMOUNT):
the scheduled balance falls on their value date.  Under a rest frequency other than daily
the principal they repaid keeps earning until the next rest date, through the last term of Δ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from microcredit.lending.periods import PeriodUnit, add_units

__all__ = ["Compounding", "PreClosure", "Recalculation", "RestFrequency", "rest_date"]


class RestFrequency(StrEnum):
    """From when a payment lowers the balance that earns interest (Fineract
    ``recalculationRestFrequencyType``)."""

    DAILY = "daily"
    """From its value date."""
    SAME_AS_REPAYMENT = "same_as_repayment"
    """From the next due date on or after it."""
    WEEKLY = "weekly"
    """From the next day a whole number of weeks after the first disbursement."""
    MONTHLY = "monthly"
    """From the next day a whole number of months after the first disbursement."""


class Compounding(StrEnum):
    """What else than principal earns interest once overdue (Fineract
    ``interestRecalculationCompoundingMethod``)."""

    NONE = "none"
    INTEREST = "interest"
    FEES = "fees"
    INTEREST_AND_FEES = "interest_and_fees"

    @property
    def interest(self) -> bool:
        return self in (Compounding.INTEREST, Compounding.INTEREST_AND_FEES)

    @property
    def fees(self) -> bool:
        return self in (Compounding.FEES, Compounding.INTEREST_AND_FEES)


class PreClosure(StrEnum):
    """How far the payoff quote charges interest (Fineract ``preClosureInterestCalculationStrategy``)."""

    TILL_PRE_CLOSURE_DATE = "till_pre_closure_date"
    """To the day of the quote."""
    TILL_REST_DATE = "till_rest_date"
    """To the next rest date on or after it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Recalculation:
    """The recalculation conventions of a loan (every one stated: nothing is defaulted)."""

    rest: RestFrequency
    compounding: Compounding
    pre_closure: PreClosure


def rest_date(rest: RestFrequency, day: date, *, anchor: date, due_dates: tuple[date, ...]) -> date:
    """The first rest date on or after `day`: when a payment made on `day` starts to count.

    `anchor` is the first disbursement's day (weekly and monthly rests count from it);
    `due_dates` the schedule's, in order (after the last, a same-as-repayment rest is daily).
    """
    if rest is RestFrequency.DAILY or day <= anchor:
        return day
    if rest is RestFrequency.SAME_AS_REPAYMENT:
        return next((d for d in due_dates if d >= day), day)
    unit = PeriodUnit.WEEK if rest is RestFrequency.WEEKLY else PeriodUnit.MONTH
    # Months are counted from the anchor (31 Jan, 28 Feb, 31 Mar ...), never step by step.
    if unit is PeriodUnit.WEEK:
        steps = (day - anchor).days // 7
    else:
        steps = (day.year - anchor.year) * 12 + day.month - anchor.month
    steps = max(steps - 1, 0)
    while (candidate := add_units(anchor, unit, steps)) < day:
        steps += 1
    return candidate
