"""Fineract's regenerated cumulative schedule (`Terms.cumulative_recalculation`), folded.

The figures are RP03, RP08 and RP13 of Fineract's LoanRepayment.feature (5,000.00 at 12 %,
daily interest on a 365-day year, six monthly installments from 1 November 2022, EMI 862.00;
docs/fineract-profile.md §4 and §9), here in our own terms (CNY, half-even) rather than
through the profile's translation.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.allocation import OverpaymentPolicy
from microcredit.lending.calendar import HolidayCalendar
from microcredit.lending.classification import DEFAULT_BUCKETS, DEFAULT_PROVISION_RATES, ClassificationPolicy
from microcredit.lending.daycount import DayCount, DaysInMonth, DaysInYear
from microcredit.lending.fineract.terms import STRATEGIES
from microcredit.lending.loan import ChargeAdded, Disbursement, EventRefused, Repayment, RestFrequency, Terms, fold
from microcredit.lending.loan.cumulative import (
    CompoundingUnit,
    CumulativeRecalculation,
    EarlyPayment,
    InterestCompounding,
)
from microcredit.lending.loan.kernel import covers
from microcredit.lending.loan.state import LoanState
from microcredit.lending.loan.terms import DownPayment
from microcredit.lending.money import Money, RoundingMode, RoundingPolicy
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.prepayment import PrepaymentMode
from microcredit.lending.schedule import InterestCalculation
from microcredit.lending.schedule.model import LevelInstallment

from ..support import LENDING, cny, make_terms

START = date(2022, 11, 1)
TERMS = Terms(
    contract=make_terms(principal="5000.00", annual_rate=Decimal("0.12"),
                        periods=PeriodSpec(START, Frequency.monthly(), 6),
                        interest_calculation=InterestCalculation.DAILY,
                        day_count=DayCount(DaysInMonth.ACTUAL, DaysInYear.D365),
                        rounding=RoundingPolicy("CNY", RoundingMode.HALF_EVEN),
                        installment_multiple=cny("1.00"), level_installment=LevelInstallment.NOMINAL_PMT),
    calendar=HolidayCalendar(name="every day", weekend=frozenset(), covers_all_years=True),
    strategy=STRATEGIES["mifos-standard-strategy"],
    overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS,
    prepayment_mode=PrepaymentMode.SHORTEN_TERM,
    dpd_grace_days=0,
    dpd_tolerance=cny("0.00"),
    buckets=DEFAULT_BUCKETS,
    classification=ClassificationPolicy(provision_rates=DEFAULT_PROVISION_RATES),
    tranches=False,
    down_payment=None,
    recalculation=None,
    cumulative_recalculation=CumulativeRecalculation(rest=RestFrequency.DAILY,
                                                     early_payment=EarlyPayment.REDUCE_INSTALLMENT),
)
DISBURSED = Disbursement(id="d", on=START, amount=cny("5000.00"))


def rows(state: LoanState) -> list[tuple[str, str]]:
    return [(str(i.due.principal), str(i.due.interest)) for i in state.installments]


def test_without_payments_the_schedule_is_the_level_one() -> None:
    state = fold(TERMS, [DISBURSED], as_of=START)
    assert rows(state)[:2] == [("812.68", "49.32"), ("819.32", "42.68")]


def test_a_payment_ahead_is_the_row_s_principal_and_the_later_rows_are_re_amortised() -> None:
    # RP03: 863.00 four days before the first due date.
    paid = Repayment(id="r", on=date(2022, 11, 27), amount=cny("863.00"))
    state = fold(TERMS, [DISBURSED, paid], as_of=paid.on)
    assert rows(state) == [("863.00", "48.18"), ("809.84", "42.16"), ("818.09", "33.91"), ("828.90", "23.10"),
                           ("834.88", "17.12"), ("845.29", "8.34")]
    assert str(state.installments[0].outstanding.total) == "48.18"


def test_an_overpayment_on_a_due_date_is_added_to_that_row() -> None:
    # RP08: 1,500.00 on the first due date.
    paid = Repayment(id="r", on=date(2022, 12, 1), amount=cny("1500.00"))
    state = fold(TERMS, [DISBURSED, paid], as_of=paid.on)
    assert rows(state)[:2] == [("1450.68", "49.32"), ("694.83", "36.17")]


def test_reschedule_next_repayments_takes_the_early_amount_off_the_next_rows() -> None:
    # RP13: 1,000.00 on the first due date, 2,000.00 on the second.
    terms = replace(TERMS, cumulative_recalculation=CumulativeRecalculation(
        rest=RestFrequency.DAILY, early_payment=EarlyPayment.NEXT_PRINCIPAL))
    events = [DISBURSED, Repayment(id="r1", on=date(2022, 12, 1), amount=cny("1000.00")),
              Repayment(id="r2", on=date(2023, 1, 1), amount=cny("2000.00"))]
    state = fold(terms, events, as_of=date(2023, 1, 1))
    assert rows(state) == [("950.68", "49.32"), ("1958.73", "41.27"), ("0.00", "21.31"), ("407.45", "19.24"),
                           ("844.85", "17.15"), ("838.29", "8.27")]


def test_tranches_keep_the_approved_amount_s_installment() -> None:
    # RP16: 10,000.00 approved, interest same as the repayment period, same-as-repayment rest;
    # 5,000.00 disbursed, then 3,000.00 and 2,000.00 on due dates, 1,725.00 paid on each.
    terms = replace(TERMS, contract=replace(TERMS.contract, principal=cny("10000.00"),
                                            interest_calculation=InterestCalculation.SAME_AS_REPAYMENT),
                    tranches=True, cumulative_recalculation=CumulativeRecalculation(
                        rest=RestFrequency.SAME_AS_REPAYMENT, early_payment=EarlyPayment.REDUCE_INSTALLMENT))
    paid = [Repayment(id=f"r{m}", on=date(2022 + (10 + m) // 12, (10 + m) % 12 + 1, 1), amount=cny("1725.00"))
            for m in (1, 2, 3, 4)]
    events = [DISBURSED, paid[0], Disbursement(id="t1", on=date(2023, 1, 1), amount=cny("3000.00")), paid[1],
              paid[2], Disbursement(id="t2", on=date(2023, 3, 1), amount=cny("2000.00")), paid[3]]
    state = fold(terms, events, as_of=date(2023, 3, 1))
    assert rows(state) == [("1675.00", "50.00"), ("1691.75", "33.25"), ("1678.67", "46.33"), ("1695.45", "29.55"),
                           ("1692.41", "32.59"), ("1566.72", "15.67")]
    inside = Disbursement(id="t3", on=date(2023, 3, 10), amount=cny("100.00"))
    with pytest.raises(EventRefused) as refused:
        fold(terms, [*events, inside], as_of=date(2023, 3, 10))
    assert refused.value.code == "cumulative_recalculation_not_reproduced"


def test_under_a_same_as_repayment_rest_a_payment_inside_a_period_is_taken_after_the_row_is_built() -> None:
    # AbstractCumulativeLoanScheduleGenerator.handleRecalculationForNonDueDateTransactions takes a
    # payment before the row only when its rest date is before the due date; under a
    # same-as-repayment rest that is the due date, so handleRecalculationForTransactions takes it
    # once the row is built: it pays the row (862.00) and what is left (1,138.00) is added to the
    # row's principal, the rest re-amortised.  (No Fineract case asserts it: RP14 pays 200.00.)
    terms = replace(TERMS, cumulative_recalculation=CumulativeRecalculation(
        rest=RestFrequency.SAME_AS_REPAYMENT, early_payment=EarlyPayment.REDUCE_INSTALLMENT))
    paid = Repayment(id="r", on=date(2022, 11, 20), amount=cny("2000.00"))
    state = fold(terms, [DISBURSED, paid], as_of=paid.on)
    assert rows(state)[0] == ("1950.68", "49.32")
    assert state.installments[0].outstanding.total.is_zero
    assert sum(i.due.principal.minor for i in state.installments) == 500_000


def test_compounding_dates_follow_their_calendar_from_the_expected_disbursement() -> None:
    dues = [date(2023, 2, 1), date(2023, 3, 1)]
    assert InterestCompounding(unit=CompoundingUnit.DAYS, every=30).dates(date(2023, 1, 1), dues, dues[-1]) == [
        date(2023, 1, 31)]
    assert InterestCompounding(unit=CompoundingUnit.MONTHS, day_of_month=1).dates(
        date(2022, 9, 15), dues, date(2022, 12, 31)) == [date(2022, 10, 1), date(2022, 11, 1), date(2022, 12, 1)]
    assert InterestCompounding(unit=CompoundingUnit.MONTHS, every=2).dates(
        date(2022, 9, 15), dues, date(2023, 1, 31)) == [date(2022, 11, 15), date(2023, 1, 15)]
    assert InterestCompounding(unit=CompoundingUnit.SAME_AS_REPAYMENT).dates(date(2023, 1, 1), dues, dues[0]) == [
        dues[0]]
    with pytest.raises(ValueError, match="day of the month"):
        InterestCompounding(unit=CompoundingUnit.DAYS, day_of_month=1)


def test_overdue_interest_compounded_on_the_due_dates_bears_interest_until_the_recalculation_day() -> None:
    # RP01 (LoanRepayment.feature line 582): 5,000.00 from 1 September 2022, interest compounded
    # monthly on the 1st; nothing paid until 862.00 on 4 December.  The December row counts three
    # days on 5,000.00 plus the three overdue rows' interest (125.22), then 28 on the schedule's.
    start = date(2022, 9, 1)
    plain = replace(TERMS, contract=replace(TERMS.contract, periods=PeriodSpec(start, Frequency.monthly(), 6)))
    compounding = replace(plain, cumulative_recalculation=CumulativeRecalculation(
        rest=RestFrequency.DAILY, early_payment=EarlyPayment.REDUCE_INSTALLMENT,
        compounding=InterestCompounding(unit=CompoundingUnit.MONTHS, day_of_month=1)))
    events = [Disbursement(id="d", on=start, amount=cny("5000.00")),
              Repayment(id="r", on=date(2022, 12, 4), amount=cny("862.00"))]
    assert rows(fold(compounding, events, as_of=date(2022, 12, 4))) == [
        ("812.68", "49.32"), ("819.32", "42.68"), ("828.78", "33.22"), ("833.57", "28.43"), ("844.62", "17.38"),
        ("861.03", "7.93")]
    assert rows(fold(plain, events, as_of=date(2022, 12, 4)))[3] == ("833.70", "28.30")
    # read on the disbursement day, compounding on the due dates changes nothing
    assert rows(fold(compounding, events[:1], as_of=start)) == rows(fold(plain, events[:1], as_of=start))


def test_interest_compounded_inside_a_row_and_the_part_left_uncompounded() -> None:
    # LoanInterestRecalculationCOBTest, the cumulative loan (line 783): 8,000.00 at 10 % a month,
    # interest compounded every 30 days, two installments.  The 31-day first row compounds 30
    # days' interest on 31 January; the second counts from what the first row left (4,188.04:
    # 28.90 of its interest was not compounded), or, once the first is overdue on 2 February, a
    # day on 8,789.04 and then the scheduled 4,216.94.
    start = date(2023, 1, 1)
    terms = replace(TERMS, contract=replace(TERMS.contract, principal=cny("8000.00"), annual_rate=Decimal("1.2"),
                                            periods=PeriodSpec(start, Frequency.monthly(), 2)),
                    cumulative_recalculation=CumulativeRecalculation(
                        rest=RestFrequency.DAILY, early_payment=EarlyPayment.NEXT_PRINCIPAL,
                        compounding=InterestCompounding(unit=CompoundingUnit.DAYS, every=30)))
    disbursed = Disbursement(id="d", on=start, amount=cny("8000.00"))
    assert rows(fold(terms, [disbursed], as_of=start)) == [("3783.06", "817.94"), ("4216.94", "385.53")]
    assert rows(fold(terms, [disbursed], as_of=date(2023, 2, 2))) == [("3783.06", "817.94"), ("4216.94", "403.23")]
    # on the last due date the first row's principal and compounded interest still bear interest:
    # 28 days on 8,789.04 = 809.07; paying the quote closes the loan
    quote = fold(terms, [disbursed], as_of=date(2023, 3, 1))
    assert rows(quote)[1] == ("4216.94", "809.07")
    assert str(quote.payoff_amount) == "9627.01"
    paid_off = fold(terms, [disbursed, Repayment(id="r", on=date(2023, 3, 1), amount=quote.payoff_amount)],
                    as_of=date(2023, 3, 1))
    assert paid_off.outstanding.total.is_zero
    assert paid_off.credit_balance.is_zero


def test_events_the_regenerated_schedule_does_not_follow_are_refused() -> None:
    charge = ChargeAdded(id="c", on=date(2022, 11, 10), amount=cny("5.00"), name="fee")
    with pytest.raises(EventRefused) as refused:
        fold(TERMS, [DISBURSED, charge], as_of=date(2022, 11, 10))
    assert refused.value.code == "cumulative_recalculation_not_reproduced"
    tranche = Disbursement(id="t", on=date(2022, 11, 10), amount=cny("100.00"))
    with pytest.raises(EventRefused):  # a loan that does not take tranches
        fold(TERMS, [DISBURSED, tranche], as_of=date(2022, 11, 10))
    assert not covers(TERMS, [DISBURSED])


def test_the_option_does_not_combine_with_a_down_payment_or_prepaid_principal() -> None:
    with pytest.raises(ValueError, match="cumulative recalculation"):
        replace(TERMS, down_payment=DownPayment(percent=Decimal(10), collected_at_disbursement=True))
    with pytest.raises(ValueError, match="cumulative recalculation"):
        replace(TERMS, overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL)


@LENDING
@given(st.sampled_from(list(EarlyPayment)), st.sampled_from([RestFrequency.DAILY, RestFrequency.SAME_AS_REPAYMENT]),
       st.lists(st.tuples(st.integers(0, 240), st.integers(1, 400_000)), max_size=8), st.integers(0, 240),
       st.sampled_from([None, InterestCompounding(unit=CompoundingUnit.DAYS, every=30),
                        InterestCompounding(unit=CompoundingUnit.MONTHS, day_of_month=1),
                        InterestCompounding(unit=CompoundingUnit.SAME_AS_REPAYMENT)]))
def test_the_regenerated_rows_repay_the_principal_and_every_payment_is_placed_once(
        early: EarlyPayment, rest: RestFrequency, payments: list[tuple[int, int]], read: int,
        compounding: InterestCompounding | None) -> None:
    terms = replace(TERMS, cumulative_recalculation=CumulativeRecalculation(rest=rest, early_payment=early,
                                                                            compounding=compounding))
    events = [DISBURSED, *(Repayment(id=f"r{i}", on=START + timedelta(days=d), amount=Money(a, "CNY"))
                           for i, (d, a) in enumerate(payments))]
    as_of = START + timedelta(days=max([read, *(d for d, _ in payments)]))
    state = fold(terms, events, as_of=as_of)
    assert Money.total((i.due.principal for i in state.installments), "CNY") == cny("5000.00")
    assert all(not i.due.interest.is_negative and not i.outstanding.total.is_negative for i in state.installments)
    paid_in = Money.total((p.amount for p in state.payments if p.event_id is not None), "CNY")
    assert paid_in == state.total("paid").total + state.credit_balance
