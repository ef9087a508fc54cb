"""Build a schedule from loan terms: periods, fees, amortisation, totals.

    build_schedule(terms, calendar) -> Schedule

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

from collections.abc import Sequence
from decimal import Decimal

from microcredit.lending.calendar import WEEKENDS_ONLY, HolidayCalendar
from microcredit.lending.daycount import YearFraction
from microcredit.lending.diagnostics import EngineWarning
from microcredit.lending.fees import split_fees
from microcredit.lending.money import ZERO, in_engine_context
from microcredit.lending.periods import Period, PeriodPlan, generate_periods
from microcredit.lending.schedule.amortize import AmortizationPlan, amortize
from microcredit.lending.schedule.model import (
    Installment,
    InterestCalculation,
    LoanTerms,
    RepaymentMethod,
    Schedule,
    ScheduleTotals,
)

__all__ = ["build_schedule", "fractions_of", "period_fractions", "periods_per_year", "summarise"]


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
    fraction = terms.periods.frequency.year_fraction(terms.apr_day_basis)
    return Decimal(fraction.denominator) / Decimal(fraction.numerator)


def summarise(rows: tuple[Installment, ...], upfront_deducted: Decimal, net_cash: Decimal) -> ScheduleTotals:
    """Totals of a schedule's rows plus the upfront fees and the cost of credit."""
    principal = sum([row.principal for row in rows], ZERO)
    interest = sum([row.interest for row in rows], ZERO)
    fees = sum([row.fees for row in rows], ZERO)
    return _totals(principal, interest, fees, upfront_deducted, net_cash)


def _totals(
    principal: Decimal,
    interest: Decimal,
    fees: Decimal,
    upfront_deducted: Decimal,
    net_cash: Decimal,
) -> ScheduleTotals:
    payable = principal + interest + fees
    return ScheduleTotals(
        principal=principal,
        interest=interest,
        fees=fees,
        total_payable=payable,
        upfront_fees_deducted=upfront_deducted,
        net_cash_received=net_cash,
        total_cost_of_credit=payable - net_cash,
    )


@in_engine_context
def build_schedule(terms: LoanTerms, calendar: HolidayCalendar = WEEKENDS_ONLY) -> Schedule:
    """The repayment schedule of `terms`, due dates adjusted against `calendar`."""
    plan = generate_periods(terms.periods, calendar)
    count = plan.count
    fees = split_fees(terms.fees, terms.principal, count, terms.rounding)
    amortization = AmortizationPlan(
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
    rows = amortize(amortization, plan, period_fractions(terms, plan))
    warnings: list[EngineWarning] = list(plan.warnings)
    if len(rows) < count:
        warnings.append(
            EngineWarning(
                code="term_shortened_by_rounding",
                message=f"the rounded installment repays the loan in {len(rows)} of {count} periods",
            )
        )
    if terms.installment_multiple is not None and terms.method is not (RepaymentMethod.EQUAL_INSTALLMENT):
        warnings.append(
            EngineWarning(
                code="installment_multiple_ignored",
                message=(f"an installment multiple applies to equal installments, not {terms.method}"),
            )
        )
    if len(rows) < count:
        fees = split_fees(terms.fees, terms.principal, len(rows), terms.rounding)
    net_cash = terms.principal - fees.deducted
    return Schedule(
        installments=rows,
        # Every row carries the same installment fee, and the parts repay the
        # principal down to the last balance, so two of the three sums are products.
        totals=_totals(
            amortization.principal - rows[-1].balance_after,
            sum([row.interest for row in rows], ZERO),
            fees.per_installment * len(rows),
            fees.deducted,
            net_cash,
        ),
        disbursed_on=terms.periods.start,
        nominal_annual_rate=terms.annual_rate,
        periods_per_year=periods_per_year(terms),
        regular=plan.regular,
        fee_charges=fees.charges,
        warnings=tuple(warnings),
        apr_day_basis=terms.apr_day_basis,
    )
