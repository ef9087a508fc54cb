"""Properties every schedule must have, over random products and loans."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given

from microcredit.lending.calendar import WEEKENDS_ONLY
from microcredit.lending.fees import FeeKind, split_fees
from microcredit.lending.money import Money
from microcredit.lending.periods import generate_periods
from microcredit.lending.schedule import (
    AmortizationPlan,
    InterestCalculation,
    InterestMethod,
    LoanTerms,
    RepaymentMethod,
    Schedule,
    amortize,
    build_schedule,
    period_fractions,
)

from .support import LENDING, loan_terms, round_exact


def _schedule_principal(terms: LoanTerms) -> Money:
    fees = split_fees(terms.fees, terms.principal, terms.periods.count, terms.rounding)
    return terms.principal + fees.financed


def _build(terms: LoanTerms) -> Schedule:
    return build_schedule(terms, calendar=WEEKENDS_ONLY)


def _sum(amounts: object) -> Money:
    return Money.total(amounts, "CNY")  # type: ignore[arg-type]


@LENDING
@given(loan_terms())
def test_principal_parts_sum_exactly_to_the_principal(terms: LoanTerms) -> None:
    schedule = _build(terms)
    assert _sum(row.principal for row in schedule.installments) == _schedule_principal(terms)
    assert schedule.totals.principal == _schedule_principal(terms)


@LENDING
@given(loan_terms())
def test_balances_never_negative_and_reach_zero(terms: LoanTerms) -> None:
    rows = _build(terms).installments
    assert not any(row.balance_after.is_negative for row in rows)
    assert not any(row.principal.is_negative or row.interest.is_negative for row in rows)
    assert rows[-1].balance_after.is_zero
    balance = _schedule_principal(terms)
    for row in rows:
        balance -= row.principal
        assert row.balance_after == balance


@LENDING
@given(loan_terms())
def test_each_installment_is_the_sum_of_its_parts(terms: LoanTerms) -> None:
    schedule = _build(terms)
    for row in schedule.installments:
        assert row.principal + row.interest + row.fees == row.total
    totals = schedule.totals
    rows = schedule.installments
    assert totals.principal == _sum(row.principal for row in rows)
    assert totals.interest == _sum(row.interest for row in rows)
    assert totals.fees == _sum(row.fees for row in rows)
    assert totals.total_payable == totals.principal + totals.interest + totals.fees
    assert totals.total_cost_of_credit == totals.total_payable - totals.net_cash_received


@LENDING
@given(loan_terms())
def test_amounts_are_money_of_the_loans_currency(terms: LoanTerms) -> None:
    for row in _build(terms).installments:
        for amount in (row.principal, row.interest, row.fees, row.total, row.balance_after):
            assert isinstance(amount, Money)
            assert amount.currency == terms.currency


@LENDING
@given(loan_terms(plain=True))
def test_equal_installments_differ_only_in_the_last_within_the_rounding_bound(
    terms: LoanTerms,
) -> None:
    rows = _build(terms).installments
    if len(rows) < 2:
        return
    level = rows[0].total
    assert all(row.total == level for row in rows[:-1])
    # The last installment carries the propagated rounding residue: each of the
    # n roundings (the installment and every period's interest) is at most one
    # quantum, compounded at the periodic rate r for the remaining periods, so
    # |last - level| <= q * sum_{j<n} (1+r)^j.  (docs/domain.md's own table has
    # 888.47 against 888.49: two fen, more than one rounding step.)
    r = Fraction(terms.annual_rate) / 12
    bound = Fraction(1, 100) * sum((1 + r) ** j for j in range(len(rows)))
    assert abs(Fraction((rows[-1].total - level).amount)) <= bound


@LENDING
@given(loan_terms())
def test_declining_interest_is_the_rounded_period_interest_on_the_outstanding_balance(
    terms: LoanTerms,
) -> None:
    if (
        terms.interest_method is not InterestMethod.DECLINING_BALANCE
        or terms.grace_on_interest_payment
        or terms.method is RepaymentMethod.BULLET
    ):
        return
    schedule = _build(terms)
    plan = generate_periods(terms.periods, WEEKENDS_ONLY)
    balance = Fraction(_schedule_principal(terms).amount)
    rate = Fraction(terms.annual_rate)
    for k, (row, period) in enumerate(zip(schedule.installments, plan.periods, strict=False)):
        if k < terms.interest_free_periods:
            expected = Money.zero("CNY")
        else:
            same = terms.interest_calculation is InterestCalculation.SAME_AS_REPAYMENT
            if period.regular and same:
                fraction = terms.periods.frequency.year_fraction(terms.day_count.basis)
            else:
                fraction = terms.day_count.year_fraction(period.start, period.end)
            year = Fraction(fraction.numerator, fraction.denominator)
            expected = Money.parse(round_exact(balance * rate * year, 2, terms.rounding.mode), "CNY")
        assert row.interest == expected, (k, row)
        balance -= Fraction(row.principal.amount)
    assert schedule.totals.interest == _sum(row.interest for row in schedule.installments)


@LENDING
@given(loan_terms())
def test_the_fast_path_gives_the_same_rows_as_the_reference_loop(terms: LoanTerms) -> None:
    plan = generate_periods(terms.periods, WEEKENDS_ONLY)
    amortization = AmortizationPlan(
        principal=terms.principal,
        annual_rate=terms.annual_rate,
        method=terms.method,
        interest_method=terms.interest_method,
        rounding=terms.rounding,
    )
    fractions = period_fractions(terms, plan)
    assert amortize(amortization, plan, fractions) == amortize(amortization, plan, fractions, fast=False)


@LENDING
@given(loan_terms(plain=True))
def test_fast_path_matches_reference_on_plain_annuities(terms: LoanTerms) -> None:
    plan = generate_periods(terms.periods, WEEKENDS_ONLY)
    amortization = AmortizationPlan(
        principal=terms.principal,
        annual_rate=terms.annual_rate,
        method=terms.method,
        interest_method=terms.interest_method,
        rounding=terms.rounding,
    )
    fractions = period_fractions(terms, plan)
    assert amortize(amortization, plan, fractions) == amortize(amortization, plan, fractions, fast=False)


@LENDING
@given(loan_terms())
def test_fees_appear_where_their_kind_says(terms: LoanTerms) -> None:
    schedule = _build(terms)
    split = split_fees(terms.fees, terms.principal, len(schedule.installments), terms.rounding,
                       schedule.totals.interest)
    assert schedule.totals.upfront_fees_deducted == split.deducted
    assert schedule.totals.paid_at_disbursement == split.at_disbursement
    assert schedule.totals.net_cash_received == terms.principal - split.deducted - split.at_disbursement
    # Each row: the level fees, plus each fee on the installment's own principal + interest.
    following = [c for c in schedule.fee_charges if c.follows_installment]
    for row in schedule.installments:
        own = sum(c.on_row(row.principal_minor, row.interest_minor, terms.rounding) for c in following)
        assert row.fees_minor == split.per_installment.minor + own
    per_installment = [c for c in schedule.fee_charges if c.kind is FeeKind.PER_INSTALLMENT]
    assert _sum(c.total for c in per_installment) == schedule.totals.fees
