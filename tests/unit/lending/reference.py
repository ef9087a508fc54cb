"""The slow, obvious schedule: the formulas of `schedule.amortize` on exact `Fraction`s.

This is the reference the engine's integer arithmetic is checked against.
It shares nothing with the engine's amounts: every factor, installment and
interest is an exact rational, rounded with the test oracle `round_exact`
(integer arithmetic on the fraction's own numerator and denominator).
Dates, fee splitting and period plans come from the engine (they are not
what this reference checks).

Rows come out as tuples in minor units:
(number, due date, period start, period end, days, principal, interest,
fees, balance after, currency).
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from microcredit.lending.calendar import WEEKENDS_ONLY, HolidayCalendar
from microcredit.lending.daycount import YearFraction
from microcredit.lending.fees import split_fees
from microcredit.lending.money import Money
from microcredit.lending.periods import PeriodPlan, generate_periods
from microcredit.lending.schedule import (
    AmortizationPlan,
    InterestCalculation,
    InterestMethod,
    LoanTerms,
    RepaymentMethod,
)

from .support import round_exact

Row = tuple[int, date, date, date, int, int, int, int, int, str]


def _yuan(amount: Money | None) -> Fraction:
    """An amount as an exact fraction of major units (0 for None)."""
    return Fraction(0) if amount is None else Fraction(amount.amount)


def reference_amortize(plan: AmortizationPlan, dates: PeriodPlan, fractions: list[YearFraction]) -> list[Row]:
    """The rows of `plan` over `dates`, computed on fractions and rounded once per amount."""
    n = dates.count
    places = plan.rounding.places
    mode = plan.rounding.mode

    def rounded(value: Fraction) -> Fraction:
        return Fraction(round_exact(value, places, mode))

    def to_multiple(value: Fraction) -> Fraction:
        multiple = plan.installment_multiple
        if multiple is None:
            return rounded(value)
        units = round_exact(value / _yuan(multiple), 0, mode)
        return rounded(Fraction(units) * _yuan(multiple))

    rate = Fraction(plan.annual_rate)
    factors = [
        Fraction(0) if k < plan.interest_free_periods else rate * Fraction(f.numerator, f.denominator)
        for k, f in enumerate(fractions)
    ]
    method = plan.method
    grace = (
        n - 1
        if method in (RepaymentMethod.INTEREST_ONLY, RepaymentMethod.BULLET)
        else min(plan.grace_on_principal, n - 1)
    )
    interest_grace = n - 1 if method is RepaymentMethod.BULLET else min(plan.grace_on_interest_payment, n - 1)
    principal = _yuan(plan.principal)
    flat = plan.interest_method is InterestMethod.FLAT
    level = method is RepaymentMethod.EQUAL_INSTALLMENT
    paying = n - grace

    installment = equal_part = Fraction(0)
    if level:
        if plan.fixed_installment is not None:
            installment = _yuan(plan.fixed_installment)
        elif flat:
            flat_interest = sum((rounded(principal * f) for f in factors[grace:]), Fraction(0))
            installment = to_multiple((principal + flat_interest) / paying)
        else:
            # A = P / sum_j prod_{i<=j} 1/(1 + f_i), the level payment that repays P exactly.
            annuity = Fraction(0)
            discount = Fraction(1)
            for f in factors[grace:]:
                discount /= 1 + f
                annuity += discount
            installment = to_multiple(principal / annuity)
    elif plan.fixed_principal is not None:
        equal_part = _yuan(plan.fixed_principal)
    else:
        equal_part = rounded(principal / paying)

    fee = _yuan(plan.fee_per_installment)
    rows: list[Row] = []
    balance = principal
    deferred = _yuan(plan.deferred_interest)
    scale = 10**places
    for k in range(n):
        interest = rounded((principal if flat else balance) * factors[k])
        if k == n - 1:
            part = balance
        elif k < grace:
            part = Fraction(0)
        else:
            part = installment - interest if level else equal_part
            part = min(max(part, Fraction(0)), balance)
        if k < interest_grace and k != n - 1:
            deferred += interest
            due = Fraction(0)
        else:
            due = interest + deferred
            deferred = Fraction(0)
        balance -= part
        amounts = [value * scale for value in (part, due, fee, balance)]
        assert all(value.denominator == 1 for value in amounts)
        part_minor, due_minor, fee_minor, balance_minor = (int(value) for value in amounts)
        rows.append(
            (
                plan.first_number + k,
                dates.due_dates[k],
                dates.starts[k],
                dates.ends[k],
                dates.days[k],
                part_minor,
                due_minor,
                fee_minor,
                balance_minor,
                plan.rounding.currency,
            )
        )
        if balance == 0 and deferred == 0 and k >= grace:
            break
    return rows


def reference_fractions(terms: LoanTerms, dates: PeriodPlan) -> list[YearFraction]:
    """Each period's year fraction: the frequency's for a regular period, else the day count's."""
    regular = terms.periods.frequency.year_fraction(terms.day_count.basis)
    daily = terms.interest_calculation is InterestCalculation.DAILY
    return [
        regular if period.regular and not daily else terms.day_count.year_fraction(period.start, period.end)
        for period in dates.periods
    ]


def reference_plan(terms: LoanTerms, installments: int) -> AmortizationPlan:
    """The amortisation `build_schedule` performs for `terms` (financed fees join the principal)."""
    fees = split_fees(terms.fees, terms.principal, installments, terms.rounding)
    return AmortizationPlan(
        principal=terms.principal + fees.financed,
        annual_rate=terms.annual_rate,
        method=terms.method,
        interest_method=terms.interest_method,
        rounding=terms.rounding,
        installment_multiple=terms.installment_multiple,
        grace_on_principal=terms.grace_on_principal,
        grace_on_interest_payment=terms.grace_on_interest_payment,
        interest_free_periods=terms.interest_free_periods,
        fee_per_installment=fees.per_installment,
    )


def reference_schedule(terms: LoanTerms, calendar: HolidayCalendar = WEEKENDS_ONLY) -> list[Row]:
    """The reference rows of a whole loan, with the fees on each installment's principal +
    interest added row by row (the rate times the row's two parts, rounded once)."""
    dates = generate_periods(terms.periods, calendar)
    rows = reference_amortize(reference_plan(terms, dates.count), dates, reference_fractions(terms, dates))
    rates = [Fraction(fee.rate) for fee in terms.fees if fee.follows_installment and fee.rate is not None]
    if not rates:
        return rows
    places, mode = terms.rounding.places, terms.rounding.mode
    charged = []
    for row in rows:
        base = Fraction(row[5] + row[6], 10**places)
        added = sum(int(round_exact(rate * base, places, mode).scaleb(places)) for rate in rates)
        charged.append((*row[:7], row[7] + added, *row[8:]))
    return charged


def minor(amount: Money) -> int:
    """An amount in minor units, computed from its Decimal form (exact, or the test fails)."""
    value = Fraction(amount.amount) * 10**amount.places
    assert value.denominator == 1, amount
    return int(value)
