"""The integer engine is exact: rounding on integers, rational rates, rows equal to the Fraction reference."""

from __future__ import annotations

import decimal
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.calendar import WEEKENDS_ONLY
from microcredit.lending.daycount import YearFraction
from microcredit.lending.money import Money, RoundingMode, RoundingPolicy, divide_rounded
from microcredit.lending.periods import Frequency, PeriodSpec, generate_periods
from microcredit.lending.schedule import (
    AmortizationPlan,
    Installment,
    InterestMethod,
    LoanTerms,
    RepaymentMethod,
    amortize,
    build_schedule,
    level_installment,
    level_payment,
    period_rate,
)

from .reference import minor, reference_amortize, reference_fractions, reference_plan, reference_schedule
from .support import CNY, LENDING, cny, fen, loan_terms, make_terms, round_exact

D = Decimal
MODES = list(RoundingMode)

# -- rounding on integers ------------------------------------------------------------------


@LENDING
@given(
    st.integers(-(10**30), 10**30),
    st.integers(0, 30),
    st.integers(0, 30),
    st.sampled_from(MODES),
)
def test_divide_rounded_is_decimal_quantize_of_the_exact_quotient(
    x: int, twos: int, fives: int, mode: RoundingMode
) -> None:
    # d = 2^a 5^b divides a power of ten, so x / d is a finite decimal and
    # Decimal computes it exactly (Inexact stays clear): a true oracle.
    d = 2**twos * 5**fives
    quotient = decimal.Context(prec=200, traps=[decimal.Inexact]).divide(Decimal(x), Decimal(d))
    expected = quotient.quantize(Decimal(1), rounding=mode.decimal_rounding, context=decimal.Context(prec=200))
    assert divide_rounded(x, d, mode) == int(expected)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("d", [2, 4, 10, 200])
def test_divide_rounded_on_every_tie_and_its_neighbours(mode: RoundingMode, d: int) -> None:
    exact = decimal.Context(prec=50, traps=[decimal.Inexact])
    for x in range(-3 * d, 3 * d + 1):
        expected = exact.divide(Decimal(x), Decimal(d)).quantize(Decimal(1), rounding=mode.decimal_rounding)
        assert divide_rounded(x, d, mode) == int(expected), (x, d)


@LENDING
@given(st.integers(-(10**40), 10**40), st.integers(1, 10**25), st.sampled_from(MODES))
def test_divide_rounded_matches_the_fraction_oracle_for_any_divisor(x: int, d: int, mode: RoundingMode) -> None:
    assert Decimal(divide_rounded(x, d, mode)) == round_exact(Fraction(x, d), 0, mode)


def test_divide_rounded_refuses_a_non_positive_denominator() -> None:
    with pytest.raises(ValueError, match="positive"):
        divide_rounded(1, 0, RoundingMode.HALF_UP)


# -- rates and the level installment ------------------------------------------------------


def test_period_rate_is_the_exact_fraction_in_lowest_terms() -> None:
    assert period_rate(D("0.12"), YearFraction(1, 12)) == (1, 100)
    assert period_rate(D("0.1234"), YearFraction(1, 12)) == (617, 60000)
    assert period_rate(D("0.0365"), YearFraction(31, 365)) == (31, 10000)
    assert period_rate(D("0"), YearFraction(1, 12)) == (0, 1)


def test_level_payment_of_the_domain_example() -> None:
    # Source: docs/domain.md §4.1: 10,000 at 1 % a month over 12 months -> 888.49.
    assert level_payment(1_000_000, [(1, 100)] * 12, RoundingMode.HALF_UP) == 88849
    assert level_payment(1_000_000, [(1, 100)] * 12, RoundingMode.HALF_UP, 100) == 88800
    assert level_installment(cny("10000.00"), [D("0.01")] * 12, rounding=CNY) == cny("888.49")
    assert level_installment(cny("10000.00"), [D("0.01")] * 12, rounding=CNY, multiple=cny("10")) == cny("890.00")


@LENDING
@given(
    st.integers(1, 10**10),
    st.integers(0, 3000),
    st.integers(1, 60),
    st.sampled_from(MODES),
)
def test_level_payment_is_the_rounded_exact_annuity(principal: int, bp: int, n: int, mode: RoundingMode) -> None:
    rate = Fraction(bp, 120_000)
    exact = Fraction(principal, n) if rate == 0 else principal * rate / (1 - (1 + rate) ** -n)
    assert Decimal(level_payment(principal, [rate.as_integer_ratio()] * n, mode)) == round_exact(exact, 0, mode)


@LENDING
@given(
    st.integers(1, 10**10),
    st.lists(st.tuples(st.integers(0, 500), st.integers(1, 5000)), min_size=1, max_size=24),
    st.sampled_from(MODES),
)
def test_level_payment_with_unequal_rates_repays_the_principal_exactly(
    principal: int, rates: list[tuple[int, int]], mode: RoundingMode
) -> None:
    annuity = Fraction(0)
    discount = Fraction(1)
    for a, b in rates:
        discount /= 1 + Fraction(a, b)
        annuity += discount
    assert Decimal(level_payment(principal, rates, mode)) == round_exact(principal / annuity, 0, mode)


# -- rows: integer engine == Fraction reference --------------------------------------------


@LENDING
@given(loan_terms())
def test_schedule_rows_equal_the_fraction_reference_in_every_field(terms: LoanTerms) -> None:
    schedule = build_schedule(terms, calendar=WEEKENDS_ONLY)
    reference = reference_schedule(terms)
    assert [tuple(row) for row in schedule.installments] == reference
    totals = schedule.totals
    assert totals.principal_minor == sum(row[5] for row in reference)
    assert totals.interest_minor == sum(row[6] for row in reference)
    assert totals.fees_minor == sum(row[7] for row in reference)


@LENDING
@given(loan_terms(plain=True))
def test_plain_annuities_equal_the_fraction_reference(terms: LoanTerms) -> None:
    assert [tuple(row) for row in build_schedule(terms, calendar=WEEKENDS_ONLY).installments] == reference_schedule(
        terms
    )


@st.composite
def plans(draw: st.DrawFn) -> tuple[AmortizationPlan, LoanTerms]:
    """Amortisation plans as prepayment and rescheduling build them: fixed amounts, later numbers."""
    terms = draw(loan_terms())
    dates = generate_periods(terms.periods, WEEKENDS_ONLY)
    plan = reference_plan(terms, dates.count)
    fixed = draw(st.integers(0, 2))
    amount = Money(draw(st.integers(1, 10**7)), terms.currency)
    carried = draw(st.sampled_from([None, Money(draw(st.integers(1, 10**5)), terms.currency)]))
    return (
        AmortizationPlan(
            principal=plan.principal,
            annual_rate=plan.annual_rate,
            method=plan.method,
            interest_method=plan.interest_method,
            rounding=plan.rounding,
            installment_multiple=plan.installment_multiple,
            grace_on_principal=plan.grace_on_principal,
            grace_on_interest_payment=plan.grace_on_interest_payment,
            interest_free_periods=plan.interest_free_periods,
            fee_per_installment=plan.fee_per_installment,
            fixed_installment=amount if fixed == 1 else None,
            fixed_principal=amount if fixed == 2 else None,
            first_number=draw(st.integers(1, 30)),
            deferred_interest=carried,
        ),
        terms,
    )


@LENDING
@given(plans(), st.booleans())
def test_amortize_equals_the_fraction_reference_for_any_plan(
    case: tuple[AmortizationPlan, LoanTerms], fast: bool
) -> None:
    plan, terms = case
    dates = generate_periods(terms.periods, WEEKENDS_ONLY)
    fractions = reference_fractions(terms, dates)
    rows = amortize(plan, dates, fractions, fast=fast)
    assert [tuple(row) for row in rows] == reference_amortize(plan, dates, fractions)


def test_a_half_even_tie_on_the_level_installment_is_seen_as_a_tie() -> None:
    # 1,000 fen at 0 % over 16 periods: 62.5 fen exactly, a tie.
    spec = PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 16)
    for mode, expected in [(RoundingMode.HALF_EVEN, 62), (RoundingMode.HALF_UP, 63)]:
        terms = make_terms(principal="10.00", annual_rate=D(0), periods=spec, rounding=RoundingPolicy("CNY", mode))
        assert build_schedule(terms, calendar=WEEKENDS_ONLY).installments[0].total_minor == expected


# -- rows present Money --------------------------------------------------------------------


def test_rows_store_minor_units_and_present_money() -> None:
    row = Installment(1, date(2025, 2, 15), date(2025, 1, 15), date(2025, 2, 15), 31, 78849, 10000, 500, 921151, "CNY")
    assert (row.principal, row.interest, row.fees, row.total, row.balance_after) == (
        cny("788.49"),
        cny("100.00"),
        cny("5.00"),
        cny("893.49"),
        cny("9211.51"),
    )
    assert row.total_minor == 89349
    assert str(row.interest) == "100.00"
    assert str(row._replace(interest_minor=0).interest) == "0.00"
    whole = Installment(1, date(2025, 2, 15), date(2025, 1, 15), date(2025, 2, 15), 31, 889, 0, 0, 0, "JPY")
    assert str(whole.principal) == "889"
    assert whole.principal == Money(889, "JPY")


@LENDING
@given(loan_terms())
def test_money_fields_are_the_minor_units_exactly(terms: LoanTerms) -> None:
    schedule = build_schedule(terms, calendar=WEEKENDS_ONLY)
    for row in schedule.installments:
        assert minor(row.principal) == row.principal_minor
        assert minor(row.interest) == row.interest_minor
        assert minor(row.total) == row.total_minor
        assert row.total == row.principal + row.interest + row.fees
        assert row.balance_after == fen(row.balance_after_minor)


def test_rows_ignore_a_tiny_caller_context() -> None:
    terms = make_terms(
        principal="123456789.01",
        annual_rate=D("0.0799"),
        periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 36),
        method=RepaymentMethod.EQUAL_PRINCIPAL,
        interest_method=InterestMethod.DECLINING_BALANCE,
    )
    rows = build_schedule(terms, calendar=WEEKENDS_ONLY).installments
    expected = [(r.principal, r.interest, r.total, r.balance_after) for r in rows]
    with decimal.localcontext(decimal.Context(prec=3, rounding=decimal.ROUND_DOWN)):
        rows = build_schedule(terms, calendar=WEEKENDS_ONLY).installments
        assert [(r.principal, r.interest, r.total, r.balance_after) for r in rows] == expected
