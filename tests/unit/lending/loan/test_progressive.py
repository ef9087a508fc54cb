"""A loan on the progressive calculator's schedule (`Terms.progressive`), folded.

The figures are those of Fineract's LoanInterestRecalculationCOBTest and Loan.feature (100.00
at 7 %, 30/360, six monthly installments from 1 January 2024; docs/fineract-profile.md §5),
here in our own terms rather than through the `fineract` profile's translation.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from microcredit.lending.allocation import AllocationStrategy, Component, OverpaymentPolicy
from microcredit.lending.calendar import HolidayCalendar
from microcredit.lending.classification import DEFAULT_BUCKETS, DEFAULT_PROVISION_RATES, ClassificationPolicy
from microcredit.lending.daycount import DayCount, DaysInMonth, DaysInYear
from microcredit.lending.loan import (
    Disbursement,
    EventRefused,
    LoanState,
    LoanStatus,
    Prepayment,
    ProgressiveInterest,
    Recalculation,
    Repayment,
    RestFrequency,
    Terms,
    fold,
)
from microcredit.lending.loan.recalculation import Compounding, PreClosure
from microcredit.lending.money import RoundingMode, RoundingPolicy
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.prepayment import PrepaymentMode
from microcredit.lending.schedule import InterestCalculation

from ..support import cny, make_terms

START = date(2024, 1, 1)
PRINCIPAL_FIRST = AllocationStrategy("principal_first", (Component.PENALTY, Component.FEE, Component.PRINCIPAL,
                                                         Component.INTEREST))
TERMS = Terms(
    contract=make_terms(principal="100.00", annual_rate=Decimal("0.07"),
                        periods=PeriodSpec(START, Frequency.monthly(), 6),
                        interest_calculation=InterestCalculation.DAILY,
                        day_count=DayCount(DaysInMonth.THIRTY, DaysInYear.D360),
                        rounding=RoundingPolicy("CNY", RoundingMode.HALF_EVEN)),
    calendar=HolidayCalendar(name="every day", weekend=frozenset(), covers_all_years=True),
    strategy=PRINCIPAL_FIRST,
    overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS,
    prepayment_mode=PrepaymentMode.SHORTEN_TERM,
    dpd_grace_days=0,
    dpd_tolerance=cny("0.00"),
    buckets=DEFAULT_BUCKETS,
    classification=ClassificationPolicy(provision_rates=DEFAULT_PROVISION_RATES),
    tranches=True,
    down_payment=None,
    recalculation=None,
    progressive=ProgressiveInterest(days_in_year=DaysInYear.D360, overdue_rest=RestFrequency.DAILY),
)
DISBURSED = Disbursement(id="d", on=START, amount=cny("100.00"))


def _rows(state: LoanState) -> list[tuple[str, str]]:
    return [(str(i.due.principal.amount), str(i.due.interest.amount)) for i in state.installments]


def test_the_schedule_is_the_calculators():
    state = fold(TERMS, [DISBURSED], as_of=START)
    assert _rows(state) == [("16.43", "0.58"), ("16.52", "0.49"), ("16.62", "0.39"), ("16.72", "0.29"),
                            ("16.81", "0.20"), ("16.90", "0.10")]


def test_a_late_installments_principal_earns_in_the_next_period_until_it_is_paid():
    # Paid 14 days late: the March installment's interest is 14 days on 100.00 (0.28) and 15 on
    # 83.57 (0.25); the EMI stays and the last installment absorbs the difference (P5, P8).
    paid = Repayment(id="r", on=date(2024, 2, 15), amount=cny("17.01"))
    state = fold(TERMS, [DISBURSED, paid], as_of=date(2024, 2, 15))
    rows = _rows(state)
    assert rows[1] == ("16.48", "0.53")
    assert rows[5] == ("16.94", "0.10")
    assert state.installments[0].outstanding.total.is_zero


@pytest.mark.parametrize(("rest", "interest"), [(RestFrequency.DAILY, "0.53"),
                                                (RestFrequency.SAME_AS_REPAYMENT, "0.58")])
def test_unpaid_principal_earns_to_the_day_read_or_to_the_due_date_by_the_rest(rest, interest):
    terms = replace(TERMS, progressive=ProgressiveInterest(days_in_year=DaysInYear.D360, overdue_rest=rest))
    state = fold(terms, [DISBURSED], as_of=date(2024, 2, 15))
    assert str(state.installments[1].due.interest.amount) == interest


def test_without_a_rest_overdue_principal_changes_nothing():
    terms = replace(TERMS, progressive=ProgressiveInterest(days_in_year=DaysInYear.D360))
    assert _rows(fold(terms, [DISBURSED], as_of=date(2024, 3, 15))) == _rows(fold(terms, [DISBURSED], as_of=START))


def test_the_payoff_quote_settles_the_loan_and_later_installments_bear_no_interest():
    # Loan.feature line 5539: 83.57 principal + 0.24 interest on 15 February.
    on_time = Repayment(id="r1", on=date(2024, 2, 1), amount=cny("17.01"))
    quote = fold(TERMS, [DISBURSED, on_time], as_of=date(2024, 2, 15)).payoff
    assert quote is not None
    assert (quote.principal, quote.accrued_interest, quote.total) == (cny("83.57"), cny("0.24"), cny("83.81"))
    state = fold(TERMS, [DISBURSED, on_time, Repayment(id="r2", on=date(2024, 2, 15), amount=quote.total)],
                 as_of=date(2024, 2, 15))
    assert state.status is LoanStatus.CLOSED
    assert _rows(state)[1:] == [("16.77", "0.24"), ("17.01", "0.00"), ("17.01", "0.00"), ("17.01", "0.00"),
                                ("15.77", "0.00")]
    assert state.principal_identity()


def test_under_a_rest_date_pre_closure_the_payoff_counts_interest_to_the_running_periods_due_date():
    # Loan.feature line 5598 (TILL_REST_FREQUENCY_DATE): 83.57 + 0.49, the whole March interest.
    terms = replace(TERMS, progressive=replace(TERMS.progressive, pre_closure=PreClosure.TILL_REST_DATE))
    on_time = Repayment(id="r1", on=date(2024, 2, 1), amount=cny("17.01"))
    quote = fold(terms, [DISBURSED, on_time], as_of=date(2024, 2, 15)).payoff
    assert quote is not None
    assert quote.total == cny("84.06")
    state = fold(terms, [DISBURSED, on_time, Repayment(id="r2", on=date(2024, 2, 15), amount=quote.total)],
                 as_of=date(2024, 2, 15))
    assert state.status is LoanStatus.CLOSED
    assert _rows(state)[1:] == [("16.52", "0.49"), ("17.01", "0.00"), ("17.01", "0.00"), ("17.01", "0.00"),
                                ("16.02", "0.00")]


@pytest.mark.parametrize("event", [
    Disbursement(id="t", on=date(2024, 2, 10), amount=cny("20.00")),
    Prepayment(id="p", on=date(2024, 2, 10), amount=cny("20.00"), mode=PrepaymentMode.SHORTEN_TERM),
])
def test_what_the_model_does_not_follow_yet_is_refused_by_code(event):
    with pytest.raises(EventRefused) as refused:
        fold(TERMS, [DISBURSED, event], as_of=date(2024, 2, 10))
    assert refused.value.code in ("progressive_tranche", "progressive_not_reproduced")


def test_the_calculator_does_not_take_the_engines_recalculation_beside_its_own_nor_prepaid_principal():
    with pytest.raises(ValueError, match="own recalculation"):
        replace(TERMS, recalculation=Recalculation(rest=RestFrequency.DAILY, compounding=Compounding.NONE,
                                                   pre_closure=PreClosure.TILL_PRE_CLOSURE_DATE))
    with pytest.raises(ValueError, match="prepaid principal"):
        replace(TERMS, overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL)
