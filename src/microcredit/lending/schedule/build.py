"""Build a schedule from loan terms: periods, fees, amortisation, totals.

    build_schedule(terms, calendar=...) -> Schedule

Steps: date the periods (`periods.generate_periods`, business-day rule
against the holiday calendar), group the fees (`fees.split_fees`: financed
fees join the principal, deducted fees reduce the cash received,
per-installment fees join every row), choose each period's year fraction
(N/12 for a regular month "same as repayment", the day-count fraction for a
broken period or daily interest), amortise (`schedule.amortize`), add up.

Worked example: 10,000 at 12 % a year, 12 monthly equal installments from
2025-01-15, no fees: installments of 888.49 (the last 888.47), total
interest 661.86, total payable 10,661.86, APR 12.00 %.  With a 500 fee
deducted at disbursement the rows are the same, the cash received is 9,500
and the APR 21.86 %.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from decimal import ROUND_HALF_EVEN, Context, Decimal

from microcredit.lending.calendar import HolidayCalendar
from microcredit.lending.daycount import YearFraction
from microcredit.lending.diagnostics import EngineWarning
from microcredit.lending.fees import FeeCharge, split_fees
from microcredit.lending.money import ENGINE_CONTEXT, Money, RoundingPolicy
from microcredit.lending.periods import Frequency, Period, PeriodPlan, PeriodUnit, generate_periods
from microcredit.lending.schedule.amortize import AmortizationPlan, amortize_carrying, level_rows, period_rate
from microcredit.lending.schedule.model import (
    Installment,
    InterestCalculation,
    InterestMethod,
    LevelInstallment,
    LoanTerms,
    RepaymentMethod,
    Schedule,
    ScheduleTotals,
)

__all__ = [
    "build_schedule",
    "charge_installments",
    "fractions_of",
    "level_rate",
    "level_schedule",
    "period_fractions",
    "periods_per_year",
    "summarise",
]

_TWELVE_DIGITS = Context(prec=12, rounding=ROUND_HALF_EVEN)
_PERIODS_IN_A_YEAR = {PeriodUnit.MONTH: 12, PeriodUnit.WEEK: 52, PeriodUnit.YEAR: 1}
_DAYS_OF_A_PERIOD = {PeriodUnit.DAY: 1, PeriodUnit.WEEK: 7, PeriodUnit.MONTH: 30, PeriodUnit.YEAR: 365}


def level_rate(terms: LoanTerms) -> Decimal | None:
    """The nominal periodic rate of `LevelInstallment.NOMINAL_PMT` (None under ``exact``).

    Fineract's ``LoanApplicationTerms.periodicInterestRate(..., DAYS_30, DAYS_365, ..., isForPMT)``
    (rule K4): under daily interest ``annual% / days in year / 100 x days`` where a month has 30
    days, a week 7 and a year 365 (times ``every``), a year of ``daysInYearType`` days (ACTUAL:
    365); otherwise ``annual% / periods in a year / 100 x every`` (12 months, 52 weeks, a
    year's days for daily repayments).  Divisions and the daily product in 12 significant
    digits, HALF_EVEN.  12 % daily on ACTUAL, monthly: 0.12 / 365 x 30 = 0.00986301369864.
    """
    if terms.level_installment is not LevelInstallment.NOMINAL_PMT:
        return None
    frequency = terms.periods.frequency
    percent = terms.annual_rate * 100
    ctx = _TWELVE_DIGITS
    if terms.interest_calculation is InterestCalculation.DAILY:
        per_day = ctx.divide(ctx.divide(percent, Decimal(terms.day_count.basis)), Decimal(100))
        return ctx.multiply(per_day, Decimal(_DAYS_OF_A_PERIOD[frequency.unit] * frequency.every))
    in_a_year = _PERIODS_IN_A_YEAR.get(frequency.unit, terms.day_count.basis)
    return ctx.divide(ctx.divide(percent, Decimal(in_a_year)), Decimal(100)) * frequency.every


def period_fractions(terms: LoanTerms, plan: PeriodPlan) -> list[YearFraction]:
    """The year fraction each period's interest is computed on."""
    regular_fraction = terms.periods.frequency.year_fraction(terms.day_count.basis)
    daily = terms.interest_calculation is InterestCalculation.DAILY
    if plan.regular and not daily:
        return [regular_fraction] * plan.count
    return fractions_of(terms, plan.periods)


def fractions_of(terms: LoanTerms, periods: Sequence[Period]) -> list[YearFraction]:
    """Year fractions of arbitrary periods under `terms` (regular ones by frequency)."""
    regular_fraction = terms.periods.frequency.year_fraction(terms.day_count.basis)
    daily = terms.interest_calculation is InterestCalculation.DAILY
    return [
        regular_fraction if p.regular and not daily else terms.day_count.year_fraction(p.start, p.end) for p in periods
    ]


def periods_per_year(terms: LoanTerms) -> Decimal:
    """How many regular periods make a year (12 for monthly, 4 for quarterly)."""
    return _periods_per_year(terms.periods.frequency, terms.apr_day_basis)


@functools.lru_cache(maxsize=256)
def _periods_per_year(frequency: Frequency, day_basis: int) -> Decimal:
    fraction = frequency.year_fraction(day_basis)
    return ENGINE_CONTEXT.divide(Decimal(fraction.denominator), Decimal(fraction.numerator))


def rebuilt_schedule(
    schedule: Schedule,
    installments: tuple[Installment, ...],
    carried: tuple[int, ...],
    opening: int | None = None,
) -> Schedule:
    """`schedule` with new installments (a prepayment, deferral or rescheduling): totals redone,
    the disbursement, fees and APR basis kept; `carried` and `opening` the new record of
    deferred interest (`opening` None keeps the schedule's)."""
    totals = schedule.totals
    return Schedule(
        installments=installments,
        totals=summarise(
            installments, totals.upfront_fees_deducted_minor, totals.net_cash_received_minor, totals.currency,
            totals.paid_at_disbursement_minor,
        ),
        disbursed_on=schedule.disbursed_on,
        nominal_annual_rate=schedule.nominal_annual_rate,
        periods_per_year=schedule.periods_per_year,
        regular=False,
        fee_charges=schedule.fee_charges,
        warnings=schedule.warnings,
        apr_day_basis=schedule.apr_day_basis,
        deferred_interest_minor=carried if any(carried) else (),
        deferred_opening_minor=schedule.deferred_opening_minor if opening is None else opening,
    )


def summarise(rows: Sequence[Installment], upfront_deducted: int, net_cash: int, currency: str,
              paid_at_disbursement: int = 0) -> ScheduleTotals:
    """Totals of a schedule's rows plus the upfront fees and the cash received (minor units of `currency`)."""
    return ScheduleTotals(
        principal_minor=sum(row.principal_minor for row in rows),
        interest_minor=sum(row.interest_minor for row in rows),
        fees_minor=sum(row.fees_minor for row in rows),
        upfront_fees_deducted_minor=upfront_deducted,
        net_cash_received_minor=net_cash,
        currency=currency,
        paid_at_disbursement_minor=paid_at_disbursement,
    )


def _level_terms(terms: LoanTerms, plan: PeriodPlan) -> bool:
    """Whether the terms are a plain annuity over regular periods (the fast path's case)."""
    return (
        terms.method is RepaymentMethod.EQUAL_INSTALLMENT
        and terms.interest_method is InterestMethod.DECLINING_BALANCE
        and terms.interest_calculation is InterestCalculation.SAME_AS_REPAYMENT
        and terms.installment_multiple is None
        and not terms.grace_on_principal
        and not terms.grace_on_interest_payment
        and not terms.interest_free_periods
        and terms.level_installment is LevelInstallment.EXACT
        and plan.regular
    )


def build_schedule(terms: LoanTerms, *, calendar: HolidayCalendar) -> Schedule:
    """The repayment schedule of `terms`, due dates adjusted against `calendar`."""
    plan = generate_periods(terms.periods, calendar)
    count = plan.count
    policy = terms.rounding
    currency = policy.currency
    principal = terms.principal.minor
    deducted = financed = fee = 0
    fee_charges: tuple[FeeCharge, ...] = ()
    if terms.fees:
        fees = split_fees(terms.fees, terms.principal, count, policy)
        deducted = fees.deducted.minor
        financed = fees.financed.minor
        fee = fees.per_installment.minor
        fee_charges = fees.charges
    level = None
    carried: tuple[int, ...] = ()
    if _level_terms(terms, plan):
        frequency = terms.periods.frequency
        rate = period_rate(terms.annual_rate, frequency.year_fraction(terms.day_count.basis))
        lent = terms.principal if not financed else Money(principal + financed, currency)
        level = level_rows(lent, rate, plan, policy, fee, 1)
    if level is not None and not terms.fees:
        return level_schedule(terms, plan, *level)
    if level is not None:
        rows, interest = level
    else:
        amortization = AmortizationPlan(
            principal=Money(principal + financed, currency),
            annual_rate=terms.annual_rate,
            method=terms.method,
            interest_method=terms.interest_method,
            rounding=policy,
            installment_multiple=terms.installment_multiple,
            grace_on_principal=terms.grace_on_principal,
            grace_on_interest_payment=terms.grace_on_interest_payment,
            interest_free_periods=terms.interest_free_periods,
            fee_per_installment=Money(fee, currency),
            flat_interest=terms.flat_interest,
            multiple_rounding=terms.multiple_rounding,
            level_rate=level_rate(terms),
        )
        rows, carried = amortize_carrying(amortization, plan, period_fractions(terms, plan))
        interest = sum(row.interest_minor for row in rows)
        if not any(carried):
            carried = ()
    warnings = plan.warnings
    if len(rows) < count:
        warnings += (
            EngineWarning(
                code="term_shortened_by_rounding",
                message=f"the rounded installment repays the loan in {len(rows)} of {count} periods",
            ),
        )
    paid_on_the_day = 0
    fees_total = fee * len(rows)
    if terms.fees:
        # Again with the schedule's interest (fees on interest) and its number of installments.
        final = split_fees(terms.fees, terms.principal, len(rows), policy, Money(interest, currency))
        fee_charges, deducted = final.charges, final.deducted.minor
        paid_on_the_day = final.at_disbursement.minor
        rows, fee_charges = charge_installments(rows, fee_charges, policy)
        fees_total = sum(row.fees_minor for row in rows)
    if terms.installment_multiple is not None and terms.method is not RepaymentMethod.EQUAL_INSTALLMENT:
        warnings += (
            EngineWarning(
                code="installment_multiple_ignored",
                message=f"an installment multiple applies to equal installments, not {terms.method}",
            ),
        )
    return Schedule(
        installments=rows,
        # The parts repay the principal down to the last balance: its sum is a difference.
        totals=ScheduleTotals(
            principal + financed - rows[-1].balance_after_minor,
            interest,
            fees_total,
            deducted,
            principal - deducted - paid_on_the_day,
            currency,
            paid_on_the_day,
        ),
        disbursed_on=terms.periods.start,
        nominal_annual_rate=terms.annual_rate,
        periods_per_year=_periods_per_year(terms.periods.frequency, terms.apr_day_basis),
        regular=plan.regular,
        fee_charges=fee_charges,
        warnings=warnings,
        apr_day_basis=terms.apr_day_basis,
        deferred_interest_minor=carried,
    )


def level_schedule(terms: LoanTerms, plan: PeriodPlan, rows: tuple[Installment, ...], interest: int) -> Schedule:
    """The schedule `build_schedule` makes of the fast path's rows (`amortize.level_rows` over
    `plan`, their total `interest`) for terms without fees: the integer kernel of the fold
    (`loan.kernel`) keeps such rows and makes the `Schedule` from them only when it is read."""
    principal = terms.principal.minor
    return Schedule(
        installments=rows,
        totals=ScheduleTotals(principal - rows[-1].balance_after_minor, interest, 0, 0, principal,
                              terms.rounding.currency, 0),
        disbursed_on=terms.periods.start,
        nominal_annual_rate=terms.annual_rate,
        periods_per_year=_periods_per_year(terms.periods.frequency, terms.apr_day_basis),
        regular=plan.regular,
        warnings=plan.warnings,
        apr_day_basis=terms.apr_day_basis,
    )


def charge_installments(rows: Sequence[Installment], charges: Sequence[FeeCharge],
                        policy: RoundingPolicy) -> tuple[tuple[Installment, ...], tuple[FeeCharge, ...]]:
    """`rows` with the fees on each installment's principal + interest added to their fees, and
    the disclosure lines of those fees with the charges actually made (`per_charge` the first
    row's, `total` the sum); other lines unchanged.  Rows without such fees come back as they are.
    """
    following = [c for c in charges if c.follows_installment]
    if not following:
        return tuple(rows), tuple(charges)
    totals = dict.fromkeys(range(len(following)), 0)
    firsts: dict[int, int] = {}
    charged: list[Installment] = []
    for row in rows:
        added = 0
        for k, charge in enumerate(following):
            one = charge.on_row(row.principal_minor, row.interest_minor, policy)
            totals[k] += one
            firsts.setdefault(k, one)
            added += one
        charged.append(row._replace(fees_minor=row.fees_minor + added))
    currency = policy.currency
    lines = iter(range(len(following)))
    disclosed = []
    for c in charges:
        if not c.follows_installment:
            disclosed.append(c)
            continue
        k = next(lines)
        disclosed.append(replace(c, per_charge=Money(firsts.get(k, 0), currency), charges=len(rows),
                                 total=Money(totals[k], currency)))
    return tuple(charged), tuple(disclosed)

