"""Prepayment both ways, payoff quotes, deferral and rescheduling."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending import allocation, prepayment, restructure
from microcredit.lending.allocation import DUE_DATE_ORDER, Component, InstallmentDue, OverpaymentPolicy, Payment
from microcredit.lending.calendar import WEEKENDS_ONLY, BusinessDayRule
from microcredit.lending.money import Money
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.prepayment import PrepaymentMode, Reamortisation, payoff_quote
from microcredit.lending.restructure import DeferralInterest
from microcredit.lending.schedule import (
    Installment,
    InterestMethod,
    LoanTerms,
    RepaymentMethod,
    Schedule,
    build_schedule,
)

from .support import LENDING, cny, fen, make_terms, round_exact

D = Decimal
# The conventions of these loans: dates on a weekends-only calendar (no business-day rule unless a
# test sets one), deferral interest payable, payments in due-date order.
partial_prepayment = functools.partial(prepayment.partial_prepayment, calendar=WEEKENDS_ONLY)
defer_installments = functools.partial(
    restructure.defer_installments, calendar=WEEKENDS_ONLY, interest=DeferralInterest.PAYABLE
)
reschedule = functools.partial(restructure.reschedule, calendar=WEEKENDS_ONLY)
replay = functools.partial(allocation.replay, strategy=DUE_DATE_ORDER)


def _build(terms: LoanTerms) -> Schedule:
    return build_schedule(terms, calendar=WEEKENDS_ONLY)


def _reamortising(schedule: Schedule, terms: LoanTerms, mode: PrepaymentMode) -> Reamortisation:
    return Reamortisation(schedule, terms, mode, WEEKENDS_ONLY)


def _f(amount: Money) -> Fraction:
    """An amount as an exact fraction of yuan."""
    return Fraction(amount.amount)


def _round(value: Fraction) -> Money:
    """The test oracle's half-up rounding of an exact yuan amount, as Money."""
    return Money.parse(round_exact(value), "CNY")


def _total(amounts: object) -> Money:
    return Money.total(amounts, "CNY")  # type: ignore[arg-type]


TERMS = make_terms(
    principal="10000.00",
    annual_rate=D("0.12"),
    periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
)
SCHEDULE = _build(TERMS)
# docs/domain.md §4.1: the balance after installment 3 is 7,610.80.
BALANCE_AFTER_3 = cny("7610.80")


def _annuity(principal: Money, monthly_rate: Fraction, months: int) -> Money:
    growth = (1 + monthly_rate) ** months
    return _round(_f(principal) * monthly_rate * growth / (growth - 1))


def test_prepayment_on_a_due_date_shortening_the_term() -> None:
    result = partial_prepayment(
        SCHEDULE, TERMS, paid_on=date(2025, 4, 15), amount=cny("2000"), mode=PrepaymentMode.SHORTEN_TERM
    )
    rows = result.schedule.installments
    assert (result.accrued_interest, result.principal_prepaid) == (cny("0.00"), cny("2000"))
    assert rows[:3] == SCHEDULE.installments[:3]
    assert [r.total for r in rows[3:-1]] == [cny("888.49")] * (len(rows) - 4)
    assert rows[-1].total < cny("888.49")
    assert len(rows) < 12
    assert _total(r.principal for r in rows[3:]) == BALANCE_AFTER_3 - cny("2000")
    assert rows[-1].balance_after.is_zero


def test_prepayment_on_a_due_date_lowering_the_installment() -> None:
    result = partial_prepayment(
        SCHEDULE,
        TERMS,
        paid_on=date(2025, 4, 15),
        amount=cny("2000"),
        mode=PrepaymentMode.REDUCE_INSTALLMENT,
    )
    rows = result.schedule.installments
    assert len(rows) == 12
    level = _annuity(BALANCE_AFTER_3 - cny("2000"), Fraction(1, 100), 9)
    assert [r.total for r in rows[3:-1]] == [level] * 8
    assert [r.due_date for r in rows] == [r.due_date for r in SCHEDULE.installments]
    assert _total(r.principal for r in rows[3:]) == BALANCE_AFTER_3 - cny("2000")


def test_prepayment_between_due_dates_settles_accrued_interest_first() -> None:
    result = partial_prepayment(
        SCHEDULE,
        TERMS,
        paid_on=date(2025, 4, 25),
        amount=cny("2000"),
        mode=PrepaymentMode.REDUCE_INSTALLMENT,
    )
    # 10 days on 7,610.80 at 12 % on ACT/360 (the terms' day count).
    accrued = _round(_f(BALANCE_AFTER_3) * Fraction(12, 100) * Fraction(10, 360))
    assert result.accrued_interest == accrued
    assert result.principal_prepaid == cny("2000") - accrued
    first_new = result.schedule.installments[3]
    assert (first_new.period_start, first_new.days) == (date(2025, 4, 25), 20)
    remaining = BALANCE_AFTER_3 - result.principal_prepaid
    expected = _round(_f(remaining) * Fraction(12, 100) * Fraction(20, 360))
    assert first_new.interest == expected


def test_prepayment_refusals() -> None:
    with pytest.raises(ValueError, match="in full"):
        partial_prepayment(
            SCHEDULE, TERMS, paid_on=date(2025, 4, 15), amount=cny("9000"), mode=PrepaymentMode.SHORTEN_TERM
        )
    with pytest.raises(ValueError, match="accrued"):
        partial_prepayment(
            SCHEDULE, TERMS, paid_on=date(2025, 4, 25), amount=cny("5"), mode=PrepaymentMode.SHORTEN_TERM
        )


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
    terms = make_terms(
        principal=cny("10000.00"),
        annual_rate=D("0.12"),
        periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
        method=method,
    )
    schedule = _build(terms)
    paid_on = date.fromordinal(date(2025, 1, 15).toordinal() + day)
    amount = fen(cents)
    try:
        result = partial_prepayment(schedule, terms, paid_on=paid_on, amount=amount, mode=mode)
    except ValueError:
        return
    rows = result.schedule.installments
    assert result.accrued_interest + result.principal_prepaid == amount
    assert _total(r.principal for r in rows) + result.principal_prepaid == cny("10000.00")
    assert not any(r.balance_after.is_negative for r in rows)
    assert rows[-1].balance_after.is_zero
    assert [r.number for r in rows] == list(range(1, len(rows) + 1))


def test_payoff_quote_on_any_day() -> None:
    # 10 days into period 4: principal 7,610.80 + interest accrued for 10 days, nothing overdue.
    quote = payoff_quote(SCHEDULE, as_of=date(2025, 4, 25), day_count=TERMS.day_count, rounding=TERMS.rounding)
    accrued = _round(_f(BALANCE_AFTER_3) * Fraction(12, 100) * Fraction(10, 360))
    assert (quote.principal, quote.accrued_interest) == (BALANCE_AFTER_3, accrued)
    assert quote.total == BALANCE_AFTER_3 + accrued


def test_payoff_quote_with_arrears_fees_and_penalties() -> None:
    rows = SCHEDULE.installments
    # Installment 3 unpaid (late fee 20, penalty 3.94), 1 and 2 paid, 4..12 not yet due.
    outstanding = [
        InstallmentDue(
            r.number, r.due_date, r.principal, r.interest, cny("20.00") if r.number == 3 else cny("0"), cny("0")
        )
        for r in rows[2:]
    ]
    quote = payoff_quote(
        SCHEDULE,
        as_of=date(2025, 4, 25),
        day_count=TERMS.day_count,
        rounding=TERMS.rounding,
        outstanding=outstanding,
        penalties=cny("3.94"),
        prepayment_fee=cny("10.00"),
    )
    balance_after_2 = cny("8415.14")
    accrued = _round(_f(BALANCE_AFTER_3) * Fraction(12, 100) * Fraction(10, 360))
    assert quote.principal == balance_after_2
    assert quote.overdue_interest == cny("84.15")
    assert quote.fees == cny("20.00")
    assert quote.accrued_interest == accrued
    assert quote.total == balance_after_2 + cny("84.15") + accrued + cny("20.00") + cny("3.94") + cny("10.00")


def test_deferral_inserts_interest_only_installments_and_moves_the_rest() -> None:
    deferred = defer_installments(SCHEDULE, TERMS, from_number=4, periods=2)
    rows = deferred.installments
    assert len(rows) == 14
    assert rows[:3] == SCHEDULE.installments[:3]
    # During the deferral the 7,610.80 balance bears 1 % a month, no principal.
    assert [(r.number, r.principal, r.interest, r.due_date) for r in rows[3:5]] == [
        (4, cny("0.00"), cny("76.11"), date(2025, 5, 15)),
        (5, cny("0.00"), cny("76.11"), date(2025, 6, 15)),
    ]
    moved = rows[5]
    original = SCHEDULE.installments[3]
    assert (moved.number, moved.due_date) == (6, date(2025, 7, 15))
    assert (moved.principal, moved.interest) == (original.principal, original.interest)
    assert rows[-1].due_date == date(2026, 3, 15)
    assert _total(r.principal for r in rows) == cny("10000.00")
    waived = defer_installments(SCHEDULE, TERMS, from_number=4, periods=2, interest=DeferralInterest.WAIVED)
    assert [r.interest for r in waived.installments[3:5]] == [cny("0.00"), cny("0.00")]


def test_rescheduling_keeps_history_and_capitalises_arrears() -> None:
    result = reschedule(
        SCHEDULE,
        TERMS,
        effective=date(2025, 4, 15),
        count=24,
        annual_rate=D("0.10"),
        capitalised_arrears=cny("50.00"),
        outstanding_principal=BALANCE_AFTER_3,
    )
    rows = result.installments
    # Installments due on or before the effective date (1 to 3) are history.
    assert rows[:3] == SCHEDULE.installments[:3]
    new = rows[3:]
    assert [r.number for r in new] == list(range(4, 28))
    assert _total(r.principal for r in new) == BALANCE_AFTER_3 + cny("50.00")
    level = _annuity(BALANCE_AFTER_3 + cny("50.00"), Fraction(10, 1200), 24)
    assert [r.total for r in new[:-1]] == [level] * 23
    assert new[0].period_start == date(2025, 4, 15)
    assert result.nominal_annual_rate == D("0.10")
    assert not result.regular


@pytest.mark.parametrize("mode", list(PrepaymentMode))
def test_prepayment_keeps_the_interest_free_periods_and_principal_grace_still_to_come(mode: PrepaymentMode) -> None:
    # Prepaying after installment 2 re-amortised installments 3-6 with interest although the
    # contract made periods 1-6 interest-free, and with principal although 1-4 were a grace.
    for free, grace in ((6, 0), (0, 4)):
        terms = make_terms(
            principal=cny("12000.00"),
            annual_rate=D("0.12"),
            periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
            interest_free_periods=free,
            grace_on_principal=grace,
        )
        schedule = _build(terms)
        result = partial_prepayment(schedule, terms, paid_on=date(2025, 3, 15), amount=cny("1000"), mode=mode)
        rows = result.schedule.installments
        assert rows[:2] == schedule.installments[:2]
        assert [r.interest for r in rows[2:free]] == [cny("0.00")] * (free - 2)
        assert [r.principal for r in rows[2:grace]] == [cny("0.00")] * (grace - 2)
        assert _total(r.principal for r in rows) + result.principal_prepaid == cny("12000.00")


def test_deferral_keeps_flat_interest_on_the_original_principal() -> None:
    # A flat loan charges P x rate every period; the moved installments were re-priced on the
    # declining balance (120.00 became 90.00, 80.00, ... 10.00: 1,050 of interest forgiven).
    terms = make_terms(
        principal=cny("12000.00"),
        annual_rate=D("0.12"),
        periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
        interest_method=InterestMethod.FLAT,
    )
    schedule = _build(terms)
    assert {r.interest for r in schedule.installments} == {cny("120.00")}
    rows = defer_installments(schedule, terms, from_number=4, periods=1).installments
    assert len(rows) == 13
    assert [r.interest for r in rows[4:]] == [cny("120.00")] * 9
    assert _total(r.principal for r in rows) == cny("12000.00")


def test_payoff_quote_counts_the_penalties_recorded_on_the_installments() -> None:
    # `outstanding` says what each installment still owes; its penalty (罚息) was left out of the
    # total, so the loan would be "settled" with 3.94 still owed.
    rows = SCHEDULE.installments
    outstanding = [
        InstallmentDue(
            r.number, r.due_date, r.principal, r.interest, cny("0"), cny("3.94") if r.number == 3 else cny("0")
        )
        for r in rows[2:]
    ]
    quote = payoff_quote(
        SCHEDULE,
        as_of=date(2025, 4, 25),
        day_count=TERMS.day_count,
        rounding=TERMS.rounding,
        outstanding=outstanding,
        penalties=cny("0.40"),
    )
    assert quote.penalties == cny("4.34")
    assert quote.total == quote.principal + quote.overdue_interest + quote.accrued_interest + cny("4.34")


def test_rescheduling_keeps_a_period_that_ended_before_its_postponed_due_date() -> None:
    # Period 2 ends on Saturday 2025-03-15 and falls due on Monday the 17th (following rule).
    # Rescheduled on the 15th, it was dropped from the history while the new schedule started on
    # the 15th from the balance before it: the 92.12 of interest of 02-15..03-15 vanished.
    terms = make_terms(
        principal=cny("10000.00"),
        annual_rate=D("0.12"),
        periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12, business_day_rule=BusinessDayRule.FOLLOWING),
    )
    schedule = _build(terms)
    assert schedule.installments[1].due_date == date(2025, 3, 17)
    rows = reschedule(schedule, terms, effective=date(2025, 3, 15), count=10).installments
    assert rows[:2] == schedule.installments[:2]
    assert rows[2].period_start == date(2025, 3, 15)
    assert _total(r.principal for r in rows) == cny("10000.00")


# docs/domain.md §4.1 loan with a 3-month interest-payment grace: the interest of months 1-3 (100.00,
# 92.12, 84.15) is carried and paid with installment 4 (352.38 = 276.27 + 76.11).
GRACE_TERMS = replace(TERMS, grace_on_interest_payment=3)
GRACE_SCHEDULE = _build(GRACE_TERMS)


def test_the_schedule_records_the_interest_an_interest_payment_grace_carries() -> None:
    rows = GRACE_SCHEDULE.installments
    assert [r.interest for r in rows[:4]] == [cny("0.00"), cny("0.00"), cny("0.00"), cny("352.38")]
    assert [GRACE_SCHEDULE.deferred_after(k) for k in range(6)] == [
        cny("0.00"),
        cny("100.00"),
        cny("192.12"),
        cny("276.27"),
        cny("0.00"),
        cny("0.00"),
    ]
    assert SCHEDULE.deferred_after(3) == cny("0.00")


@pytest.mark.parametrize(
    ("mode", "count", "level", "installment_4"),
    [
        # Shortening keeps the level installment 888.49 (not the 804.34 a grace row shows):
        # 11 installments; installment 4 = 192.12 carried + 74.15 + 66.01 on the new balance.
        (PrepaymentMode.SHORTEN_TERM, 11, cny("888.49"), cny("332.28")),
        # Reducing keeps 12 installments: 192.12 + 74.15 + 67.06.
        (PrepaymentMode.REDUCE_INSTALLMENT, 12, cny("782.91"), cny("333.33")),
    ],
)
def test_a_prepayment_inside_the_grace_keeps_the_interest_it_deferred(
    mode: PrepaymentMode, count: int, level: Decimal, installment_4: Decimal
) -> None:
    # Prepaying 1,000 on 2025-03-15 dropped the 192.12 of months 1 and 2 from the schedule.
    result = partial_prepayment(GRACE_SCHEDULE, GRACE_TERMS, paid_on=date(2025, 3, 15), amount=cny("1000"), mode=mode)
    rows = result.schedule.installments
    assert (len(rows), rows[3].interest) == (count, installment_4)
    assert rows[2].interest == cny("0.00")
    assert {r.total for r in rows[4:-1]} == {level}
    assert result.schedule.deferred_after(2) == cny("192.12")
    assert _total(r.principal for r in rows) + result.principal_prepaid == cny("10000.00")


def test_the_payoff_quote_includes_the_deferred_interest_without_extra_arguments() -> None:
    quote = payoff_quote(GRACE_SCHEDULE, as_of=date(2025, 3, 25), day_count=TERMS.day_count, rounding=TERMS.rounding)
    # 8,415.14 + 192.12 deferred + 28.05 accrued for 10 days on 8,415.14.
    assert (quote.principal, quote.deferred_interest, quote.accrued_interest) == (
        cny("8415.14"),
        cny("192.12"),
        cny("28.05"),
    )
    assert quote.total == cny("8635.31")
    bullet_terms = replace(TERMS, method=RepaymentMethod.BULLET)
    bullet = _build(bullet_terms)
    # A 12-period bullet loan defers every month's 100.00 to maturity: 3 months + 10 days.
    quote = payoff_quote(bullet, as_of=date(2025, 4, 25), day_count=TERMS.day_count, rounding=TERMS.rounding)
    assert (quote.deferred_interest, quote.accrued_interest, quote.total) == (
        cny("300.00"),
        cny("33.33"),
        cny("10333.33"),
    )


@st.composite
def graced_loans(draw: st.DrawFn) -> tuple[LoanTerms, date, Decimal, PrepaymentMode]:
    """A loan with an interest-payment grace, a prepayment day inside the term, an amount and a mode."""
    count = draw(st.integers(3, 24))
    terms = make_terms(
        principal=fen(draw(st.integers(100_000, 10_000_000))),
        annual_rate=D(draw(st.integers(0, 360_000))).scaleb(-6),
        periods=PeriodSpec(date(2025, 1, 31), Frequency.monthly(), count),
        method=draw(
            st.sampled_from(
                [RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL, RepaymentMethod.INTEREST_ONLY]
            )
        ),
        grace_on_interest_payment=draw(st.integers(1, count - 1)),
        grace_on_principal=draw(st.integers(0, count - 1)),
        interest_free_periods=draw(st.integers(0, 2)),
    )
    paid_on = date(2025, 1, 31) + timedelta(days=draw(st.integers(1, count * 30)))
    amount = fen(draw(st.integers(1, 5_000_000)))
    return terms, paid_on, amount, draw(st.sampled_from(list(PrepaymentMode)))


@LENDING
@given(graced_loans())
def test_an_interest_payment_grace_moves_interest_and_never_removes_it(
    case: tuple[LoanTerms, date, Decimal, PrepaymentMode],
) -> None:
    # The grace changes when interest is paid, not the balances: the same loan without it repays
    # the same principal, so it must charge the same interest in total, prepayment or not, and a
    # payoff differs by exactly the interest the ended periods deferred.
    graced, paid_on, amount, mode = case
    plain = replace(graced, grace_on_interest_payment=0)
    with_grace, without = _build(graced), _build(plain)
    assert [r.principal for r in with_grace.installments] == [r.principal for r in without.installments]
    assert with_grace.totals.interest == without.totals.interest
    ended = sum(1 for r in with_grace.installments if r.period_end <= paid_on)
    moved = _total(
        a.interest - b.interest for a, b in zip(without.installments[:ended], with_grace.installments, strict=False)
    )
    assert with_grace.deferred_after(ended) == moved
    quotes = [
        payoff_quote(s, as_of=paid_on, day_count=graced.day_count, rounding=graced.rounding)
        for s in (with_grace, without)
    ]
    assert quotes[0].total - quotes[1].total == moved
    try:
        result = partial_prepayment(with_grace, graced, paid_on=paid_on, amount=amount, mode=mode)
    except ValueError as refused:
        with pytest.raises(ValueError, match=str(refused)):
            partial_prepayment(without, plain, paid_on=paid_on, amount=amount, mode=mode)
        return
    reference = partial_prepayment(without, plain, paid_on=paid_on, amount=amount, mode=mode)
    rows, reference_rows = result.schedule.installments, reference.schedule.installments
    # Repaid early (shortening), the graced loan keeps rows of no principal up to the installment
    # after the grace, which collects what was carried.
    assert [r.principal for r in rows[: len(reference_rows)]] == [r.principal for r in reference_rows]
    assert all(r.principal.is_zero for r in rows[len(reference_rows) :])
    assert result.schedule.totals.interest == reference.schedule.totals.interest
    assert result.schedule.deferred_after(len(rows)).is_zero


@pytest.mark.parametrize(
    ("from_number", "inserted", "collecting"),
    [
        # Deferring inside the grace: the inserted installment 3 pays 84.15 on 8,415.14 and the
        # moved installment 4's interest (276.27 carried + 76.11) is now number 5's.
        (3, cny("84.15"), 5),
        (1, cny("100.00"), 5),
        # Deferring the installment that collects the carried interest moves the collection on.
        (4, cny("76.11"), 5),
    ],
)
def test_a_deferral_keeps_the_interest_the_grace_carried(from_number: int, inserted: Decimal, collecting: int) -> None:
    # The moved installment that collected the carried 276.27 was re-priced on its own period
    # (76.11): deferring one period inside the grace forgave 276.27 of interest.
    rows = defer_installments(GRACE_SCHEDULE, GRACE_TERMS, from_number=from_number, periods=1).installments
    assert rows[from_number - 1].interest == inserted
    assert rows[collecting - 1].interest == cny("352.38")
    assert _total(r.interest for r in rows) == GRACE_SCHEDULE.totals.interest + inserted


@LENDING
@given(graced_loans(), st.integers(1, 24), st.integers(1, 3))
def test_a_deferral_charges_the_inserted_interest_and_forgives_none(
    case: tuple[LoanTerms, date, Decimal, PrepaymentMode], start: int, periods: int
) -> None:
    terms = case[0]
    schedule = _build(terms)
    from_number = min(start, len(schedule.installments))
    rows = defer_installments(schedule, terms, from_number=from_number, periods=periods).installments
    inserted = _total(r.interest for r in rows[from_number - 1 : from_number - 1 + periods])
    assert _total(r.interest for r in rows) == schedule.totals.interest + inserted
    assert _total(r.principal for r in rows) == schedule.totals.principal


def test_rescheduling_mid_period_charges_the_interest_accrued_since_the_last_period_end() -> None:
    # Rescheduled on 2025-04-25, ten days into period 4: the new schedule started on the 25th from
    # the balance after installment 3, so the interest of 04-15..04-25 was charged by no one.
    rows = reschedule(SCHEDULE, TERMS, effective=date(2025, 4, 25), count=12)
    stub = _round(_f(BALANCE_AFTER_3) * Fraction(12, 100) * Fraction(10, 360))
    assert stub == cny("25.37")
    first = rows.installments[3]
    assert (first.number, first.period_start) == (4, date(2025, 4, 25))
    # 30 days on 7,610.80 at 1 % a month, plus the stub.
    assert first.interest == cny("76.11") + stub
    assert _total(r.principal for r in rows.installments) == cny("10000.00")
    # A payoff inside the first new period still owes the stub.
    quote = payoff_quote(rows, as_of=date(2025, 5, 1), day_count=TERMS.day_count, rounding=TERMS.rounding)
    assert quote.deferred_interest == stub
    assert quote.total == BALANCE_AFTER_3 + stub + quote.accrued_interest
    # Stated by the caller (capitalised among the arrears instead): not charged twice.
    capitalised = reschedule(
        SCHEDULE,
        TERMS,
        effective=date(2025, 4, 25),
        count=12,
        capitalised_arrears=stub,
        accrued_interest=cny("0"),
    )
    assert capitalised.installments[3].interest == _round(_f(BALANCE_AFTER_3 + stub) / 100)


def test_rescheduling_inside_an_interest_payment_grace_keeps_the_interest_it_carried() -> None:
    # After 2 months of the 3-month grace 192.12 of interest is carried; rescheduling dropped it.
    rows = reschedule(GRACE_SCHEDULE, GRACE_TERMS, effective=date(2025, 3, 15), count=10).installments
    assert rows[:2] == GRACE_SCHEDULE.installments[:2]
    assert rows[2].interest == cny("84.15") + cny("192.12")
    assert rows[3].interest == cny("76.11")
    assert _total(r.principal for r in rows) == cny("10000.00")


def test_rescheduling_inside_an_interest_free_period_charges_no_stub() -> None:
    terms = replace(TERMS, interest_free_periods=3)
    schedule = _build(terms)
    rows = reschedule(schedule, terms, effective=date(2025, 2, 25), count=6).installments
    # 2025-02-25..03-25 on the balance after installment 1, nothing for 02-15..02-25.
    assert rows[1].interest == _round(_f(rows[0].balance_after) / 100)


def _dues(schedule_rows: tuple[Installment, ...]) -> list[InstallmentDue]:
    return [InstallmentDue(r.number, r.due_date, r.principal, r.interest, r.fees, cny("0")) for r in schedule_rows]


@pytest.mark.parametrize("mode", list(PrepaymentMode))
def test_an_overpayment_prepaying_principal_re_amortises_the_schedule(mode: PrepaymentMode) -> None:
    # Installments 1-3 paid on their dates, the third with 2,000 more: the later installments
    # are those of the schedule re-amortised on 5,610.80 (56.11 of interest in month 4, not 76.11).
    rows = SCHEDULE.installments
    payments = [Payment(r.due_date, r.total) for r in rows[:2]]
    payments.append(Payment(rows[2].due_date, rows[2].total + cny("2000")))
    result = replay(
        _dues(rows),
        payments,
        overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL,
        prepayer=_reamortising(SCHEDULE, TERMS, mode),
    )
    expected = partial_prepayment(SCHEDULE, TERMS, paid_on=rows[2].due_date, amount=cny("2000"), mode=mode)
    assert list(result.dues[3:]) == _dues(expected.schedule.installments[3:])
    assert result.dues[3].interest == cny("56.11")
    assert result.allocations[-1].prepayment == cny("2000")
    assert result.credit_balance.is_zero
    assert _total(d.principal for d in result.dues) == BALANCE_AFTER_3 - cny("2000")


def test_an_overpayment_beyond_the_loan_settles_it_and_the_rest_is_credit() -> None:
    rows = SCHEDULE.installments
    paid_on = date(2025, 4, 25)
    payments = [Payment(r.due_date, r.total) for r in rows[:3]] + [Payment(paid_on, cny("9000"))]
    reamortising = _reamortising(SCHEDULE, TERMS, PrepaymentMode.SHORTEN_TERM)
    result = replay(_dues(rows), payments, overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL, prepayer=reamortising)
    payoff = payoff_quote(SCHEDULE, as_of=paid_on, day_count=TERMS.day_count, rounding=TERMS.rounding).total
    assert payoff == BALANCE_AFTER_3 + cny("25.37")
    assert all(d.total.is_zero for d in result.dues)
    assert result.credit_balance == cny("9000") - payoff
    assert result.allocations[-1].prepayment == payoff
    assert result.prepayer is not None
    assert result.prepayer.settled_on == paid_on
    assert reamortising.settled_on is None  # the state passed in is not changed


def test_an_overpayment_short_of_the_accrued_interest_is_held_as_credit() -> None:
    rows = SCHEDULE.installments
    payments = [Payment(r.due_date, r.total) for r in rows[:3]] + [Payment(date(2025, 4, 25), cny("20.00"))]
    result = replay(
        _dues(rows),
        payments,
        overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL,
        prepayer=_reamortising(SCHEDULE, TERMS, PrepaymentMode.SHORTEN_TERM),
    )
    assert list(result.dues[3:]) == _dues(rows[3:])
    assert result.credit_balance == cny("20.00")
    assert result.allocations[-1].prepayment.is_zero


@LENDING
@given(
    st.lists(
        st.tuples(st.integers(0, 400), st.integers(1, 400_000)),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(list(PrepaymentMode)),
)
def test_replaying_prepayments_keeps_every_fen(payments: list[tuple[int, int]], mode: PrepaymentMode) -> None:
    made = [Payment(date(2025, 1, 16) + timedelta(days=day), fen(cents)) for day, cents in payments]
    result = replay(
        _dues(SCHEDULE.installments),
        made,
        overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL,
        prepayer=_reamortising(SCHEDULE, TERMS, mode),
    )
    paid = _total(p.amount for p in made)
    handed = _total(a.prepayment for a in result.allocations)
    assert _total(a.allocated for a in result.allocations) + result.credit_balance + handed == paid
    assert not any(d.owed(c).is_negative for d in result.dues for c in Component)
    # Principal is repaid by lines or by prepayments, never created: what is still owed plus
    # what the lines repaid is at most the loan, and short of it only by what was prepaid.
    by_lines = _total(
        line.amount for a in result.allocations for line in a.lines if line.component is Component.PRINCIPAL
    )
    owed = _total(d.principal for d in result.dues)
    taken = result.prepayer.prepayments if result.prepayer is not None else ()
    assert _total(p.amount for p in taken) == handed
    assert all(p.amount == p.accrued_interest + p.principal_prepaid for p in taken)
    # Every fen of principal is owed, repaid by a line, or prepaid: none created, none lost.
    assert owed + by_lines + _total(p.principal_prepaid for p in taken) == TERMS.principal


def test_a_second_prepayment_in_the_same_period_starts_from_the_lowered_balance() -> None:
    # The balance was read from the last ended installment (7,610.80), so the second prepayment
    # re-amortised from the balance before the first: 1,000 + 1,000 left 6,623.48 owed.
    first = partial_prepayment(
        SCHEDULE, TERMS, paid_on=date(2025, 4, 20), amount=cny("1000"), mode=PrepaymentMode.REDUCE_INSTALLMENT
    )
    assert first.accrued_interest == cny("12.68")  # 5 days on 7,610.80
    second = partial_prepayment(
        first.schedule, TERMS, paid_on=date(2025, 4, 25), amount=cny("1000"), mode=PrepaymentMode.REDUCE_INSTALLMENT
    )
    lowered = BALANCE_AFTER_3 - first.principal_prepaid
    assert second.accrued_interest == _round(_f(lowered) * Fraction(12, 100) * Fraction(5, 360))
    assert _total(r.principal for r in second.schedule.installments[3:]) == lowered - second.principal_prepaid
    quote = payoff_quote(first.schedule, as_of=date(2025, 4, 25), day_count=TERMS.day_count, rounding=TERMS.rounding)
    assert (quote.principal, quote.accrued_interest) == (lowered, second.accrued_interest)
    # Through replay: a second overpayment beyond the payoff settles the loan.
    rows = SCHEDULE.installments
    payments = [Payment(r.due_date, r.total) for r in rows[:3]]
    payments += [Payment(date(2025, 4, 20), cny("1000")), Payment(date(2025, 4, 25), cny("9000"))]
    result = replay(
        _dues(rows),
        payments,
        overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL,
        prepayer=_reamortising(SCHEDULE, TERMS, PrepaymentMode.SHORTEN_TERM),
    )
    assert all(d.total.is_zero for d in result.dues)
    assert result.credit_balance == cny("9000") - quote.total


def test_rescheduling_after_a_prepayment_lends_only_what_is_owed() -> None:
    prepaid = partial_prepayment(
        SCHEDULE, TERMS, paid_on=date(2025, 4, 20), amount=cny("2000"), mode=PrepaymentMode.REDUCE_INSTALLMENT
    )
    owed = BALANCE_AFTER_3 - prepaid.principal_prepaid
    rows = reschedule(prepaid.schedule, TERMS, effective=date(2025, 4, 25), count=9).installments
    assert _total(r.principal for r in rows[3:]) == owed  # it was 7,610.80: the prepayment lent again
    stub = _round(_f(owed) * Fraction(12, 100) * Fraction(5, 360))
    assert rows[3].interest == _round(_f(owed) / 100) + stub


def test_reamortising_inside_an_interest_payment_grace_prepays_principal_and_keeps_the_carried_interest() -> None:
    # Principal + accrued + 50 does not cover the 192.12 carried: it raised "repays the loan in full".
    rows = GRACE_SCHEDULE.installments
    paid_on = date(2025, 3, 25)
    amount = cny("8415.14") + cny("28.05") + cny("50.00")
    payments = [Payment(r.due_date, r.total) for r in rows[:2]] + [Payment(paid_on, amount)]
    result = replay(
        _dues(rows),
        payments,
        overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL,
        prepayer=_reamortising(GRACE_SCHEDULE, GRACE_TERMS, PrepaymentMode.SHORTEN_TERM),
    )
    assert _total(d.principal for d in result.dues) == cny("0.01")
    assert result.credit_balance == cny("50.01")
    # The carried 192.12 is still collected with installment 4 (with the fen's interest).
    assert cny("192.12") <= _total(d.interest for d in result.dues) < cny("192.12") + cny("0.05")


def test_reamortising_in_an_interest_free_period_charges_no_interest() -> None:
    terms = replace(TERMS, interest_free_periods=3)
    schedule = _build(terms)
    rows = schedule.installments
    paid_on = date(2025, 3, 5)
    payments = [Payment(rows[0].due_date, rows[0].total), Payment(paid_on, rows[0].balance_after + cny("500"))]
    result = replay(
        _dues(rows),
        payments,
        overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL,
        prepayer=_reamortising(schedule, terms, PrepaymentMode.SHORTEN_TERM),
    )
    # Settled for the principal alone (it charged 54.81 of interest the contract waives).
    assert result.allocations[-1].prepayment == rows[0].balance_after
    assert result.credit_balance == cny("500")


def test_rescheduling_before_any_period_ended_keeps_the_stub_for_quotes_and_prepayments() -> None:
    rescheduled = reschedule(SCHEDULE, TERMS, effective=date(2025, 2, 5), count=12)
    stub = cny("70.00")  # 21 days on 10,000 at 12 % on 360
    assert rescheduled.installments[0].interest == cny("100.00") + stub
    assert rescheduled.deferred_after(0) == stub
    quote = payoff_quote(rescheduled, as_of=date(2025, 2, 20), day_count=TERMS.day_count, rounding=TERMS.rounding)
    assert quote.total == cny("10000.00") + stub + cny("50.00")
    with pytest.raises(ValueError, match="terms do not describe"):
        partial_prepayment(
            rescheduled, TERMS, paid_on=date(2025, 2, 20), amount=cny("1000"), mode=PrepaymentMode.SHORTEN_TERM
        )
    new_terms = replace(TERMS, periods=PeriodSpec(date(2025, 2, 5), Frequency.monthly(), 12))
    prepaid = partial_prepayment(
        rescheduled, new_terms, paid_on=date(2025, 2, 20), amount=cny("1000"), mode=PrepaymentMode.SHORTEN_TERM
    )
    first = prepaid.schedule.installments[0]
    assert first.interest == _round(_f(cny("9050")) * Fraction(12, 100) * Fraction(13, 360)) + stub


def test_rescheduling_charges_no_stub_for_a_waived_deferral() -> None:
    deferred = defer_installments(SCHEDULE, TERMS, from_number=4, periods=2, interest=DeferralInterest.WAIVED)
    rows = reschedule(deferred, TERMS, effective=date(2025, 4, 25), count=9).installments
    assert rows[3].interest == cny("76.11")


def test_reamortising_under_the_preceding_rule_counts_a_paid_installment_as_ended() -> None:
    # Installment 1 falls due on Friday 02-14, its period ends on Saturday 02-15: paying it with
    # 1,000 more on the 14th was refused as "paid before its period ended".
    terms = replace(TERMS, periods=replace(TERMS.periods, business_day_rule=BusinessDayRule.PRECEDING))
    schedule = _build(terms)
    rows = schedule.installments
    assert rows[0].due_date == date(2025, 2, 14)
    for mode in PrepaymentMode:
        result = replay(
            _dues(rows),
            [Payment(rows[0].due_date, rows[0].total + cny("1000"))],
            overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL,
            prepayer=_reamortising(schedule, terms, mode),
        )
        assert result.allocations[-1].prepayment == cny("1000")
        assert _total(d.principal for d in result.dues) == rows[0].balance_after - cny("1000")


def test_after_prepaying_down_to_a_grace_carried_interest_an_early_payment_waits_as_credit() -> None:
    # Once principal was prepaid down to 0.01, a payment short of the carried 192.12 was handed
    # to partial_prepayment as 0 and raised.
    rows = GRACE_SCHEDULE.installments
    payments = [Payment(r.due_date, r.total) for r in rows[:2]]
    payments += [Payment(date(2025, 3, 25), cny("8443.19")), Payment(date(2025, 4, 20), cny("100.00"))]
    result = replay(
        _dues(rows),
        payments,
        overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL,
        prepayer=_reamortising(GRACE_SCHEDULE, GRACE_TERMS, PrepaymentMode.SHORTEN_TERM),
        as_of=date(2025, 5, 15),
    )
    assert result.allocations[-2].paid_on == date(2025, 4, 20)
    assert result.allocations[-2].credit_balance == cny("100.00")
    # Used on 05-15 towards the installment that collects the carried interest.
    assert result.allocations[-1].paid_on == date(2025, 5, 15)
    assert result.credit_balance.is_zero
    # Left: the carried 192.12 less the 100.00 of credit (the 0.01 of principal was paid on 04-15
    # from the 0.01 the prepayment could not use).
    assert [(d.number, d.principal, d.interest) for d in result.dues if d.total] == [(4, cny("0.00"), cny("92.12"))]


def test_deferring_after_a_prepayment_defers_the_lowered_balance() -> None:
    # The inserted installments bore interest on 7,610.80 (the balance before a 2,000 prepayment)
    # from 04-15, charging 04-15..04-20 twice: the payoff on 04-25 rose by 2,003.32.
    prepaid = partial_prepayment(
        SCHEDULE, TERMS, paid_on=date(2025, 4, 20), amount=cny("2000"), mode=PrepaymentMode.REDUCE_INSTALLMENT
    )
    owed = BALANCE_AFTER_3 - prepaid.principal_prepaid
    deferred = defer_installments(prepaid.schedule, TERMS, from_number=4, periods=2)
    rows = deferred.installments
    assert (rows[3].period_start, rows[3].balance_after) == (date(2025, 4, 20), owed)
    assert rows[3].interest == _round(_f(owed) * Fraction(12, 100) * Fraction(25, 360))
    assert rows[4].interest == _round(_f(owed) / 100)
    assert _total(r.principal for r in rows[3:]) == owed
    before, after = (
        payoff_quote(s, as_of=date(2025, 4, 25), day_count=TERMS.day_count, rounding=TERMS.rounding).total
        for s in (prepaid.schedule, deferred)
    )
    assert after == before


def test_deferring_a_rescheduled_loan_with_its_original_terms_is_refused() -> None:
    rescheduled = reschedule(SCHEDULE, TERMS, effective=date(2025, 3, 5), count=6, annual_rate=D("0.06"))
    with pytest.raises(ValueError, match="terms do not describe"):
        defer_installments(rescheduled, TERMS, from_number=2, periods=1)


def test_reamortise_is_a_pure_function_of_its_state() -> None:
    # The Reamortiser kept the schedule as mutable state: a second replay with the same hook
    # started from the first replay's prepayments.  Now state in, state out.
    rows = SCHEDULE.installments
    start = _reamortising(SCHEDULE, TERMS, PrepaymentMode.REDUCE_INSTALLMENT)
    dues = tuple(_dues(rows))
    settled_before = _dues(rows[:3])
    after_3 = tuple(
        InstallmentDue(d.number, d.due_date, cny("0"), cny("0"), cny("0"), cny("0")) if d in settled_before else d
        for d in dues
    )
    following, new_dues, unused = prepayment.reamortise(start, after_3, paid_on=date(2025, 4, 20), amount=cny("1000"))
    assert start.prepayments == ()
    assert start.schedule is SCHEDULE  # the state passed in is unchanged
    assert unused.is_zero
    assert following.schedule == following.prepayments[0].schedule
    again = prepayment.reamortise(start, after_3, paid_on=date(2025, 4, 20), amount=cny("1000"))
    assert again == (following, new_dues, unused)  # same inputs, same outputs
    # A back-dated payment replays from the same values: the result does not depend on what an
    # earlier replay did.
    made = [Payment(r.due_date, r.total) for r in rows[:4]]
    made[3] = Payment(rows[3].due_date, rows[3].total + cny("500"))  # installment 4 with 500 more
    back_dated = Payment(date(2025, 4, 20), cny("1000"))
    first = replay(dues, made, overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL, prepayer=start)
    with_back_dated = replay(dues, [*made, back_dated], overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL, prepayer=start)
    in_order = replay(dues, sorted([*made, back_dated], key=lambda p: p.paid_on),
                      overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL, prepayer=start)
    assert with_back_dated == in_order
    assert first.prepayer is not None
    assert with_back_dated.prepayer is not None
    assert len(first.prepayer.prepayments) == 1
    assert [p.paid_on for p in first.prepayer.prepayments] == [date(2025, 5, 15)]
    assert [p.paid_on for p in with_back_dated.prepayer.prepayments] == [date(2025, 4, 20), date(2025, 5, 15)]
    assert start.prepayments == ()
