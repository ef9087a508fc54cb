"""The level installment as Fineract's cumulative generator finds it (`LevelInstallment.NOMINAL_PMT`).

Rule K4 of docs/fineract-profile.md: ``LoanApplicationTerms.pmtForInstallment`` (lines 780-794)
takes a nominal periodic rate in which a month has 30 days and ``FinanicalFunctions.pmt``
computes the annuity in doubles.  The rows' interest still follows the actual days.  Our
default (``exact``) is unchanged: the exact annuity over the periods' own factors.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from microcredit.lending.calendar import HolidayCalendar
from microcredit.lending.daycount import DayCount, DaysInMonth, DaysInYear
from microcredit.lending.money import Money, RoundingMode, RoundingPolicy
from microcredit.lending.periods import Frequency, PeriodSpec, PeriodUnit
from microcredit.lending.schedule import (
    InterestCalculation,
    LevelInstallment,
    LoanTerms,
    build_schedule,
    nominal_pmt,
)
from microcredit.lending.schedule.build import level_rate

from .support import make_terms

EUR = RoundingPolicy("EUR", RoundingMode.HALF_EVEN)
CALENDAR = HolidayCalendar(name="no holidays, no weekends", weekend=frozenset(), covers_all_years=True)


def rs03(**changes: object) -> LoanTerms:
    """LoanRepayment.feature RS03: 5,000 EUR at 12 %, 18 months from 1 January 2022, daily interest, 365 days."""
    terms = make_terms(
        principal=Money(500_000, "EUR"),
        annual_rate=Decimal("0.12"),
        periods=PeriodSpec(start=date(2022, 1, 1), frequency=Frequency(PeriodUnit.MONTH), count=18),
        interest_calculation=InterestCalculation.DAILY,
        day_count=DayCount(DaysInMonth.ACTUAL, DaysInYear.D365),
        rounding=EUR,
        level_installment=LevelInstallment.NOMINAL_PMT,
    )
    return replace(terms, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("unit", "every", "calculation", "year", "rate"), [
    (PeriodUnit.MONTH, 1, InterestCalculation.DAILY, DaysInYear.D365, "0.00986301369864"),  # 0.12/365 x 30
    (PeriodUnit.MONTH, 1, InterestCalculation.DAILY, DaysInYear.ACTUAL, "0.00986301369864"),  # ACTUAL is 365 (K1)
    (PeriodUnit.MONTH, 1, InterestCalculation.DAILY, DaysInYear.D360, "0.00999999999999"),  # 12/360 to 12 digits
    (PeriodUnit.MONTH, 2, InterestCalculation.DAILY, DaysInYear.D365, "0.0197260273973"),  # x 60 days
    (PeriodUnit.WEEK, 1, InterestCalculation.DAILY, DaysInYear.D365, "0.00230136986302"),  # x 7 days
    (PeriodUnit.MONTH, 1, InterestCalculation.SAME_AS_REPAYMENT, DaysInYear.D365, "0.01"),  # 0.12/12
    (PeriodUnit.WEEK, 2, InterestCalculation.SAME_AS_REPAYMENT, DaysInYear.D365, "0.00461538461538"),  # /52 x 2
])
def test_the_nominal_rate_counts_a_month_as_thirty_days(
    unit: PeriodUnit, every: int, calculation: InterestCalculation, year: DaysInYear, rate: str
) -> None:
    month = DaysInMonth.ACTUAL
    terms = rs03(periods=PeriodSpec(start=date(2022, 1, 1), frequency=Frequency(unit, every), count=6),
                 interest_calculation=calculation, day_count=DayCount(month, year))
    assert level_rate(terms) == Decimal(rate)


def test_the_exact_default_has_no_nominal_rate() -> None:
    assert level_rate(rs03(level_installment=LevelInstallment.EXACT)) is None


def test_pmt_in_doubles_then_rounded_half_even_to_the_multiple() -> None:
    rate = Decimal("0.00986301369864")
    assert nominal_pmt(500_000, rate, 18, RoundingMode.HALF_EVEN) == 30453  # 304.5288...
    assert nominal_pmt(500_000, rate, 18, RoundingMode.HALF_EVEN, 100) == 30500
    assert nominal_pmt(125_000, Decimal(0), 4, RoundingMode.HALF_EVEN, 100) == 31200  # 312.50 -> 312 (C1)


def test_rs03_rows_use_the_thirty_day_installment_and_actual_day_interest() -> None:
    """RS03 without its multiple of 1: the installment is 304.53 (pmt at 0.12 x 30/365), the first
    row's interest 49.32 (31 days on 5,000 at 12/365 %, rounded half-even)."""
    rows = build_schedule(rs03(), calendar=CALENDAR).installments
    assert {row.total for row in rows[:-1]} == {Money(30453, "EUR")}
    assert rows[0].interest == Money(5096, "EUR")  # 5,000 x 0.12 x 31/365 = 50.96
    exact = build_schedule(rs03(level_installment=LevelInstallment.EXACT), calendar=CALENDAR).installments
    assert exact[0].total != rows[0].total  # the exact annuity on actual days is another amount
    assert sum(row.principal_minor for row in rows) == 500_000


def test_rs03_with_its_multiple_of_one_pays_305() -> None:
    rows = build_schedule(rs03(installment_multiple=Money(100, "EUR")), calendar=CALENDAR).installments
    assert [row.total for row in rows[:3]] == [Money(30500, "EUR")] * 3
