"""Prepayment both ways, payoff quotes, deferral and rescheduling."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.allocation import InstallmentDue
from microcredit.lending.calendar import BusinessDayRule
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.prepayment import PrepaymentMode, partial_prepayment, payoff_quote
from microcredit.lending.restructure import DeferralInterest, defer_installments, reschedule
from microcredit.lending.schedule import InterestMethod, LoanTerms, RepaymentMethod, build_schedule

from .support import LENDING, round_exact

D = Decimal
TERMS = LoanTerms(
    principal=D("10000.00"),
    annual_rate=D("0.12"),
    periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
)
SCHEDULE = build_schedule(TERMS)
# DOMAIN.md §4.1: the balance after installment 3 is 7,610.80.
BALANCE_AFTER_3 = D("7610.80")


def _annuity(principal: Decimal, monthly_rate: Fraction, months: int) -> Decimal:
    growth = (1 + monthly_rate) ** months
    return round_exact(Fraction(principal) * monthly_rate * growth / (growth - 1))


def test_prepayment_on_a_due_date_shortening_the_term() -> None:
    result = partial_prepayment(
        SCHEDULE, TERMS, paid_on=date(2025, 4, 15), amount=D(2000), mode=PrepaymentMode.SHORTEN_TERM
    )
    rows = result.schedule.installments
    assert (result.accrued_interest, result.principal_prepaid) == (D("0.00"), D("2000"))
    assert rows[:3] == SCHEDULE.installments[:3]
    assert [r.total for r in rows[3:-1]] == [D("888.49")] * (len(rows) - 4)
    assert rows[-1].total < D("888.49")
    assert len(rows) < 12
    assert sum(r.principal for r in rows[3:]) == BALANCE_AFTER_3 - D(2000)
    assert rows[-1].balance_after == 0


def test_prepayment_on_a_due_date_lowering_the_installment() -> None:
    result = partial_prepayment(
        SCHEDULE,
        TERMS,
        paid_on=date(2025, 4, 15),
        amount=D(2000),
        mode=PrepaymentMode.REDUCE_INSTALLMENT,
    )
    rows = result.schedule.installments
    assert len(rows) == 12
    level = _annuity(BALANCE_AFTER_3 - D(2000), Fraction(1, 100), 9)
    assert [r.total for r in rows[3:-1]] == [level] * 8
    assert [r.due_date for r in rows] == [r.due_date for r in SCHEDULE.installments]
    assert sum(r.principal for r in rows[3:]) == BALANCE_AFTER_3 - D(2000)


def test_prepayment_between_due_dates_settles_accrued_interest_first() -> None:
    result = partial_prepayment(
        SCHEDULE,
        TERMS,
        paid_on=date(2025, 4, 25),
        amount=D(2000),
        mode=PrepaymentMode.REDUCE_INSTALLMENT,
    )
    # 10 days on 7,610.80 at 12 % on ACT/360 (the terms' day count).
    accrued = round_exact(Fraction(BALANCE_AFTER_3) * Fraction(12, 100) * Fraction(10, 360))
    assert result.accrued_interest == accrued
    assert result.principal_prepaid == D(2000) - accrued
    first_new = result.schedule.installments[3]
    assert (first_new.period_start, first_new.days) == (date(2025, 4, 25), 20)
    remaining = BALANCE_AFTER_3 - result.principal_prepaid
    expected = round_exact(Fraction(remaining) * Fraction(12, 100) * Fraction(20, 360))
    assert first_new.interest == expected


def test_prepayment_refusals() -> None:
    with pytest.raises(ValueError, match="in full"):
        partial_prepayment(SCHEDULE, TERMS, paid_on=date(2025, 4, 15), amount=D(9000), mode=PrepaymentMode.SHORTEN_TERM)
    with pytest.raises(ValueError, match="accrued"):
        partial_prepayment(SCHEDULE, TERMS, paid_on=date(2025, 4, 25), amount=D(5), mode=PrepaymentMode.SHORTEN_TERM)


@LENDING
@given(
    st.integers(1, 330),
    st.integers(100, 500_000),
    st.sampled_from(list(PrepaymentMode)),
    st.sampled_from([RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL]),
)
def test_prepayment_keeps_principal_conserved(
    day: int, cents: int, mode: PrepaymentMode, method: RepaymentMethod
) -> None:
    terms = LoanTerms(
        principal=D("10000.00"),
        annual_rate=D("0.12"),
        periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
        method=method,
    )
    schedule = build_schedule(terms)
    paid_on = date.fromordinal(date(2025, 1, 15).toordinal() + day)
    amount = D(cents).scaleb(-2)
    try:
        result = partial_prepayment(schedule, terms, paid_on=paid_on, amount=amount, mode=mode)
    except ValueError:
        return
    rows = result.schedule.installments
    assert result.accrued_interest + result.principal_prepaid == amount
    assert sum(r.principal for r in rows) + result.principal_prepaid == D("10000.00")
    assert all(r.balance_after >= 0 for r in rows)
    assert rows[-1].balance_after == 0
    assert [r.number for r in rows] == list(range(1, len(rows) + 1))


def test_payoff_quote_on_any_day() -> None:
    # 10 days into period 4: principal 7,610.80 + interest accrued for 10 days, nothing overdue.
    quote = payoff_quote(SCHEDULE, as_of=date(2025, 4, 25), day_count=TERMS.day_count, rounding=TERMS.rounding)
    accrued = round_exact(Fraction(BALANCE_AFTER_3) * Fraction(12, 100) * Fraction(10, 360))
    assert (quote.principal, quote.accrued_interest) == (BALANCE_AFTER_3, accrued)
    assert quote.total == BALANCE_AFTER_3 + accrued


def test_payoff_quote_with_arrears_fees_and_penalties() -> None:
    rows = SCHEDULE.installments
    # Installment 3 unpaid (late fee 20, penalty 3.94), 1 and 2 paid, 4..12 not yet due.
    outstanding = [
        InstallmentDue(r.number, r.due_date, r.principal, r.interest, D("20.00") if r.number == 3 else D(0))
        for r in rows[2:]
    ]
    quote = payoff_quote(
        SCHEDULE,
        as_of=date(2025, 4, 25),
        day_count=TERMS.day_count,
        rounding=TERMS.rounding,
        outstanding=outstanding,
        penalties=D("3.94"),
        prepayment_fee=D("10.00"),
    )
    balance_after_2 = D("8415.14")
    accrued = round_exact(Fraction(BALANCE_AFTER_3) * Fraction(12, 100) * Fraction(10, 360))
    assert quote.principal == balance_after_2
    assert quote.overdue_interest == D("84.15")
    assert quote.fees == D("20.00")
    assert quote.accrued_interest == accrued
    assert quote.total == balance_after_2 + D("84.15") + accrued + D("20.00") + D("3.94") + D("10.00")


def test_deferral_inserts_interest_only_installments_and_moves_the_rest() -> None:
    deferred = defer_installments(SCHEDULE, TERMS, from_number=4, periods=2)
    rows = deferred.installments
    assert len(rows) == 14
    assert rows[:3] == SCHEDULE.installments[:3]
    # During the deferral the 7,610.80 balance bears 1 % a month, no principal.
    assert [(r.number, r.principal, r.interest, r.due_date) for r in rows[3:5]] == [
        (4, D("0.00"), D("76.11"), date(2025, 5, 15)),
        (5, D("0.00"), D("76.11"), date(2025, 6, 15)),
    ]
    moved = rows[5]
    original = SCHEDULE.installments[3]
    assert (moved.number, moved.due_date) == (6, date(2025, 7, 15))
    assert (moved.principal, moved.interest) == (original.principal, original.interest)
    assert rows[-1].due_date == date(2026, 3, 15)
    assert sum(r.principal for r in rows) == D("10000.00")
    waived = defer_installments(SCHEDULE, TERMS, from_number=4, periods=2, interest=DeferralInterest.WAIVED)
    assert [r.interest for r in waived.installments[3:5]] == [D("0.00"), D("0.00")]


def test_rescheduling_keeps_history_and_capitalises_arrears() -> None:
    result = reschedule(
        SCHEDULE,
        TERMS,
        effective=date(2025, 4, 15),
        count=24,
        annual_rate=D("0.10"),
        capitalised_arrears=D("50.00"),
        outstanding_principal=BALANCE_AFTER_3,
    )
    rows = result.installments
    # Installments due on or before the effective date (1 to 3) are history.
    assert rows[:3] == SCHEDULE.installments[:3]
    new = rows[3:]
    assert [r.number for r in new] == list(range(4, 28))
    assert sum(r.principal for r in new) == BALANCE_AFTER_3 + D("50.00")
    level = _annuity(BALANCE_AFTER_3 + D("50.00"), Fraction(10, 1200), 24)
    assert [r.total for r in new[:-1]] == [level] * 23
    assert new[0].period_start == date(2025, 4, 15)
    assert result.nominal_annual_rate == D("0.10")
    assert not result.regular


@pytest.mark.parametrize("mode", list(PrepaymentMode))
def test_prepayment_keeps_the_interest_free_periods_and_principal_grace_still_to_come(mode: PrepaymentMode) -> None:
    # Prepaying after installment 2 re-amortised installments 3-6 with interest although the
    # contract made periods 1-6 interest-free, and with principal although 1-4 were a grace.
    for free, grace in ((6, 0), (0, 4)):
        terms = LoanTerms(
            principal=D("12000.00"),
            annual_rate=D("0.12"),
            periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
            interest_free_periods=free,
            grace_on_principal=grace,
        )
        schedule = build_schedule(terms)
        result = partial_prepayment(schedule, terms, paid_on=date(2025, 3, 15), amount=D(1000), mode=mode)
        rows = result.schedule.installments
        assert rows[:2] == schedule.installments[:2]
        assert [r.interest for r in rows[2:free]] == [D("0.00")] * (free - 2)
        assert [r.principal for r in rows[2:grace]] == [D("0.00")] * (grace - 2)
        assert sum(r.principal for r in rows) + result.principal_prepaid == D("12000.00")


def test_deferral_keeps_flat_interest_on_the_original_principal() -> None:
    # A flat loan charges P x rate every period; the moved installments were re-priced on the
    # declining balance (120.00 became 90.00, 80.00, ... 10.00: 1,050 of interest forgiven).
    terms = LoanTerms(
        principal=D("12000.00"),
        annual_rate=D("0.12"),
        periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
        interest_method=InterestMethod.FLAT,
    )
    schedule = build_schedule(terms)
    assert {r.interest for r in schedule.installments} == {D("120.00")}
    rows = defer_installments(schedule, terms, from_number=4, periods=1).installments
    assert len(rows) == 13
    assert [r.interest for r in rows[4:]] == [D("120.00")] * 9
    assert sum(r.principal for r in rows) == D("12000.00")


def test_payoff_quote_counts_the_penalties_recorded_on_the_installments() -> None:
    # `outstanding` says what each installment still owes; its penalty (罚息) was left out of the
    # total, so the loan would be "settled" with 3.94 still owed.
    rows = SCHEDULE.installments
    outstanding = [
        InstallmentDue(r.number, r.due_date, r.principal, r.interest, D(0), D("3.94") if r.number == 3 else D(0))
        for r in rows[2:]
    ]
    quote = payoff_quote(
        SCHEDULE,
        as_of=date(2025, 4, 25),
        day_count=TERMS.day_count,
        rounding=TERMS.rounding,
        outstanding=outstanding,
        penalties=D("0.40"),
    )
    assert quote.penalties == D("4.34")
    assert quote.total == quote.principal + quote.overdue_interest + quote.accrued_interest + D("4.34")


def test_rescheduling_keeps_a_period_that_ended_before_its_postponed_due_date() -> None:
    # Period 2 ends on Saturday 2025-03-15 and falls due on Monday the 17th (following rule).
    # Rescheduled on the 15th, it was dropped from the history while the new schedule started on
    # the 15th from the balance before it: the 92.12 of interest of 02-15..03-15 vanished.
    terms = LoanTerms(
        principal=D("10000.00"),
        annual_rate=D("0.12"),
        periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12, business_day_rule=BusinessDayRule.FOLLOWING),
    )
    schedule = build_schedule(terms)
    assert schedule.installments[1].due_date == date(2025, 3, 17)
    rows = reschedule(schedule, terms, effective=date(2025, 3, 15), count=10).installments
    assert rows[:2] == schedule.installments[:2]
    assert rows[2].period_start == date(2025, 3, 15)
    assert sum(r.principal for r in rows) == D("10000.00")
