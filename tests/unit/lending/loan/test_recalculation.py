"""Interest recalculated on the balance actually outstanding (`loan.recalculation`).

Worked examples on the docs/domain.md §4.1 loan (10,000 at 12 % a year, 12 monthly
installments of 888.49 from 2025-01-15; the schedule charges a month's interest as 1/12 of a
year, a day as 1/360; half-up): each expected figure is
computed here from the rule in exact fractions, independently of the fold.  The
invariants (principal conserved, reversal, value-date order, the kept book) run on
recalculating terms in test_fold.py's properties.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from microcredit.lending.allocation import OverpaymentPolicy
from microcredit.lending.loan import (
    Compounding,
    LoanBook,
    LoanStatus,
    PreClosure,
    Prepayment,
    Recalculation,
    Repayment,
    Rescheduling,
    RestFrequency,
    Reversal,
    fold,
)
from microcredit.lending.loan.recalculation import rest_date
from microcredit.lending.money import Money, RoundingMode
from microcredit.lending.prepayment import PrepaymentMode

from ..support import cny
from .test_fold import DISBURSED, START, TERMS, due_date

DAILY = Recalculation(rest=RestFrequency.DAILY, compounding=Compounding.NONE,
                      pre_closure=PreClosure.TILL_PRE_CLOSURE_DATE)
RECALC = replace(TERMS, recalculation=DAILY)
RATE = Fraction(12, 100)


def interest(amount: Money, days: int) -> Money:
    """`amount` at 12 % a year for `days` days of a 360-day year, rounded half-up once."""
    return amount.times(RATE * Fraction(days, 360), RoundingMode.HALF_UP)


def plain(as_of: date, *events):
    return fold(TERMS, [DISBURSED, *events], as_of=as_of)


def test_without_recalculation_late_principal_earns_nothing_beyond_the_schedule():
    state = plain(date(2025, 3, 20))
    assert state.installments[1].due.interest == state.schedule.installments[1].interest


def test_a_late_installments_principal_earns_interest_in_the_next_installment_until_paid():
    # Installment 1 (100.00 interest, 788.49 principal) is not paid on 15 Feb.
    scheduled = plain(date(2025, 3, 20)).installments
    principal_1 = scheduled[0].due.principal
    assert principal_1 == cny("788.49")
    unpaid = fold(RECALC, [DISBURSED], as_of=date(2025, 3, 20)).installments
    # 15 Feb to 15 Mar: 28 days on the 788.49 overdue (7.36), charged with installment 2.
    assert unpaid[1].due.interest == scheduled[1].due.interest + interest(principal_1, 28) == cny("99.48")
    assert unpaid[0].due.interest == scheduled[0].due.interest  # its own period was on schedule
    # Paid on 1 March: 14 days earn, no more.
    paid = fold(RECALC, [DISBURSED, Repayment(id="late", on=date(2025, 3, 1), amount=cny("888.49"))],
                as_of=date(2025, 3, 20)).installments
    assert paid[1].due.interest == scheduled[1].due.interest + interest(principal_1, 14)
    assert paid[0].outstanding.total.is_zero


def test_compounding_makes_overdue_interest_earn_too():
    compounding = replace(TERMS, recalculation=replace(DAILY, compounding=Compounding.INTEREST))
    scheduled = plain(date(2025, 3, 20)).installments
    state = fold(compounding, [DISBURSED], as_of=date(2025, 3, 20))
    overdue = scheduled[0].due.principal + scheduled[0].due.interest  # 888.49
    assert state.installments[1].due.interest == scheduled[1].due.interest + interest(overdue, 28)


def test_a_same_as_repayment_rest_counts_a_late_payment_from_the_next_due_date():
    rested = replace(TERMS, recalculation=replace(DAILY, rest=RestFrequency.SAME_AS_REPAYMENT))
    scheduled = plain(date(2025, 3, 20)).installments
    state = fold(rested, [DISBURSED, Repayment(id="late", on=date(2025, 3, 1), amount=cny("888.49"))],
                 as_of=date(2025, 3, 20))
    # Paid on 1 March, it still earns to 15 March: the whole 28 days.
    assert state.installments[1].due.interest == scheduled[1].due.interest + interest(
        scheduled[0].due.principal, 28)


def test_principal_paid_ahead_stops_earning_from_its_value_date_and_unearned_interest_comes_back():
    ahead = replace(RECALC, overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS)
    # The first installment paid in full on 20 January, 26 days before it falls due.
    state = fold(ahead, [DISBURSED, Repayment(id="early", on=date(2025, 1, 20), amount=cny("888.49"))],
                 as_of=date(2025, 2, 20))
    first = state.installments[0]
    saved = interest(cny("788.49"), 26)
    assert saved == cny("6.83")
    assert first.due.interest == cny("100.00") - saved
    assert first.outstanding.total.is_zero
    # The interest it had paid beyond what it earned is credit, used on the next due date.
    assert state.interest_refunded == saved
    assert state.credit_balance == saved
    assert state.principal_identity()


def test_a_prepayment_under_a_monthly_rest_earns_until_the_next_monthly_date():
    monthly = replace(TERMS, overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL,
                      recalculation=replace(DAILY, rest=RestFrequency.MONTHLY))
    daily = replace(monthly, recalculation=DAILY)
    events = [DISBURSED, Prepayment(id="p", on=date(2025, 1, 25), amount=cny("3000.00"),
                                    mode=PrepaymentMode.REDUCE_INSTALLMENT)]
    on_daily = fold(daily, events, as_of=date(2025, 2, 20))
    on_monthly = fold(monthly, events, as_of=date(2025, 2, 20))
    prepaid = on_daily.principal_prepaid
    # The prepaid principal keeps earning from 25 Jan to the monthly rest date, 15 Feb.
    assert on_monthly.installments[0].due.interest == on_daily.installments[0].due.interest + interest(prepaid, 21)


def test_after_maturity_overdue_principal_keeps_earning_on_the_last_installment():
    state = fold(RECALC, [DISBURSED], as_of=date(2026, 3, 20))
    plain_state = plain(date(2026, 3, 20))
    last, plain_last = state.installments[-1], plain_state.installments[-1]
    assert last.due_date == date(2026, 1, 15)
    # Two months past maturity (15 Feb, 15 Mar) the whole principal has earned on the last one.
    assert last.due.interest > plain_last.due.interest + interest(cny("10000.00"), 28)
    assert state.principal_identity()


def test_the_payoff_quote_carries_the_recalculated_interest_and_paying_it_closes_the_loan():
    on = date(2025, 3, 20)
    quote = fold(RECALC, [DISBURSED], as_of=on).payoff
    plain_quote = plain(on).payoff
    assert quote is not None
    assert plain_quote is not None
    # Installment 1's 788.49 overdue since 15 Feb earned 28 days (charged on 15 Mar); since
    # then installment 2's principal is overdue too, and both earned 5 days more (accrued).
    rows = plain(on).installments
    extra = interest(rows[0].due.principal, 28) + interest(rows[0].due.principal + rows[1].due.principal, 5)
    assert quote.total - plain_quote.total == extra
    closed = fold(RECALC, [DISBURSED, Prepayment(id="all", on=on, amount=quote.total,
                                                 mode=PrepaymentMode.SHORTEN_TERM)], as_of=date(2025, 4, 20))
    assert closed.status is LoanStatus.CLOSED
    assert closed.outstanding.total.is_zero
    assert closed.credit_balance.is_zero
    # The recalculated interest was settled with the accrued interest, as interest prepaid.
    assert closed.interest_prepaid == quote.accrued_interest


def test_a_pre_closure_to_the_rest_date_quotes_interest_to_that_date():
    rest = replace(TERMS, recalculation=replace(DAILY, rest=RestFrequency.SAME_AS_REPAYMENT,
                                                pre_closure=PreClosure.TILL_REST_DATE))
    on = date(2025, 1, 25)
    to_date = fold(RECALC, [DISBURSED], as_of=on).payoff
    to_rest = fold(rest, [DISBURSED], as_of=on).payoff
    assert to_date is not None
    assert to_rest is not None
    assert to_date.total == cny("10000.00") + interest(cny("10000.00"), 10)
    assert to_rest.total == cny("10000.00") + cny("100.00")  # the whole first period, to 15 Feb


def test_reversing_the_late_payment_brings_back_the_interest_it_stopped():
    events = [DISBURSED, Repayment(id="late", on=date(2025, 3, 1), amount=cny("888.49"))]
    book = LoanBook.open(RECALC)
    for event in events:
        book = book.record(event)
    book = book.record(Reversal(id="undo", on=date(2025, 3, 20), target="late"))
    assert book.state(as_of=date(2025, 3, 20)).installments == fold(
        RECALC, [DISBURSED], as_of=date(2025, 3, 20)).installments


@pytest.mark.parametrize(
    ("rest", "day", "expected"),
    [
        (RestFrequency.DAILY, date(2025, 2, 3), date(2025, 2, 3)),
        (RestFrequency.SAME_AS_REPAYMENT, date(2025, 2, 3), date(2025, 2, 15)),
        (RestFrequency.SAME_AS_REPAYMENT, date(2025, 2, 15), date(2025, 2, 15)),
        (RestFrequency.WEEKLY, date(2025, 1, 23), date(2025, 1, 29)),
        (RestFrequency.WEEKLY, date(2025, 1, 22), date(2025, 1, 22)),
        (RestFrequency.MONTHLY, date(2025, 1, 16), date(2025, 2, 15)),
        (RestFrequency.MONTHLY, date(2025, 3, 15), date(2025, 3, 15)),
    ],
)
def test_a_payment_counts_from_the_first_rest_date_on_or_after_it(rest, day, expected):
    dues = tuple(due_date(n) for n in range(1, 13))
    assert rest_date(rest, day, anchor=START, due_dates=dues) == expected


def test_month_end_anchors_count_whole_months_from_the_anchor():
    anchor = date(2025, 1, 31)
    assert rest_date(RestFrequency.MONTHLY, date(2025, 3, 1), anchor=anchor, due_dates=()) == date(2025, 3, 31)
    assert rest_date(RestFrequency.MONTHLY, date(2025, 2, 10), anchor=anchor, due_dates=()) == date(2025, 2, 28)


def test_the_interest_base_is_the_scheduled_balance_plus_what_is_overdue_and_earns():
    on = date(2025, 3, 20)
    rows = plain(on).installments
    scheduled = rows[1].balance_after  # the running period is installment 3's
    assert plain(on).interest_base == scheduled
    state = fold(RECALC, [DISBURSED], as_of=on)
    assert state.interest_base == scheduled + rows[0].due.principal + rows[1].due.principal
    # A day's interest on it is what the fold accrues for that day.
    next_day = fold(RECALC, [DISBURSED], as_of=date(2025, 3, 21))
    day = RATE * Fraction(state.interest_base.minor, 360)
    assert next_day.payoff is not None
    assert state.payoff is not None
    exact_before = Fraction(state.payoff.accrued_interest.minor)
    assert abs(Fraction(next_day.payoff.accrued_interest.minor) - exact_before - day) <= 1


def test_money_paid_early_on_the_next_principal_lowers_the_interest_still_to_fall_due():
    # Fineract's RESCHEDULE_NEXT_REPAYMENTS: 888.49 on 20 January pays installment 1's principal
    # (788.49) and 100.00 of installment 2's; their interest is left to fall due, lowered.
    early = replace(RECALC, overpayment=OverpaymentPolicy.PAY_NEXT_PRINCIPAL)
    state = fold(early, [DISBURSED, Repayment(id="early", on=date(2025, 1, 20), amount=cny("888.49"))],
                 as_of=date(2025, 3, 20))
    first, second = state.installments[0], state.installments[1]
    assert [(line.installment, line.component.value, line.amount) for line in state.payments[0].lines] == [
        (1, "principal", cny("788.49")), (2, "principal", cny("100.00"))]
    # 888.49 stopped earning for the 26 days to 15 February, then 100.00 for the 28 to 15 March.
    assert first.due.interest == cny("100.00") - interest(cny("888.49"), 26)
    assert second.due.interest == plain(date(2025, 3, 20)).installments[1].due.interest - interest(cny("100.00"), 28)
    assert first.outstanding.interest == first.due.interest
    assert state.interest_refunded == cny("0.00")
    assert state.principal_identity()


def test_after_a_rescheduling_overdue_principal_earns_at_the_new_rate():
    # Installment 1 missed; on 1 March the loan is rescheduled at 0 %: from then on its overdue
    # 788.49 earns nothing more (before, only the 14 days from 15 Feb at 12 %).
    events = [DISBURSED, Rescheduling(id="rs", on=date(2025, 3, 1), installments=6, annual_rate=Decimal("0"))]
    recalculated = fold(RECALC, events, as_of=date(2025, 6, 1)).installments
    scheduled = fold(TERMS, events, as_of=date(2025, 6, 1)).installments
    assert recalculated[1].due.interest == scheduled[1].due.interest + interest(cny("788.49"), 14)
    assert [r.due.interest for r in recalculated[2:]] == [r.due.interest for r in scheduled[2:]]
