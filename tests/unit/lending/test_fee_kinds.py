"""Fee kinds beyond the first three: paid at disbursement, a percent of the amount plus interest or
of interest alone, and fees the institution may not waive (issue 15 §3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.calendar import WEEKENDS_ONLY
from microcredit.lending.fees import Fee, FeeBasis, FeeKind, Payee
from microcredit.lending.money import Money
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.prepayment import PrepaymentMode, partial_prepayment
from microcredit.lending.schedule import RepaymentMethod, build_schedule

from .support import LENDING, cny, fen, make_terms
from .test_worked_examples import START

D = Decimal


def schedule(*fees: Fee, principal: str = "10000.00"):  # type: ignore[no-untyped-def]
    terms = make_terms(principal=principal, annual_rate=D("0.12"), periods=PeriodSpec(START, Frequency.monthly(), 12),
                       fees=fees)
    return build_schedule(terms, calendar=WEEKENDS_ONLY)


def test_a_fee_on_the_amount_plus_interest_is_a_percent_of_both_rounded_once():
    plain = schedule()
    interest = plain.totals.interest  # the plain schedule's own total
    assert interest == cny("661.86")
    fee = Fee("服务费", FeeKind.UPFRONT_DEDUCTED, Payee.LENDER, rate=D("0.02"), basis=FeeBasis.PRINCIPAL_AND_INTEREST)
    priced = schedule(fee)
    # 2 % of 10,661.86 = 213.2372 -> 213.24, kept back from the 10,000 paid out.
    assert priced.totals.upfront_fees_deducted == cny("213.24")
    assert priced.totals.net_cash_received == cny("9786.76")
    assert priced.installments == plain.installments
    on_interest = schedule(Fee("手续费", FeeKind.UPFRONT_DEDUCTED, Payee.LENDER, rate=D("0.10"),
                               basis=FeeBasis.INTEREST))
    assert on_interest.totals.upfront_fees_deducted == cny("66.19")  # 10 % of 661.86 = 66.186, half up
    assert on_interest.fee_charges[0].per_charge == cny("66.19")


def test_a_fee_paid_at_disbursement_costs_the_borrower_what_the_same_fee_deducted_costs():
    deducted = schedule(Fee("服务费", FeeKind.UPFRONT_DEDUCTED, Payee.LENDER, amount=cny("500.00")))
    paid = schedule(Fee("服务费", FeeKind.AT_DISBURSEMENT, Payee.LENDER, amount=cny("500.00")))
    assert paid.totals.upfront_fees_deducted == cny("0.00")
    assert paid.totals.paid_at_disbursement == cny("500.00")
    # The borrower receives 10,000 and pays 500 back the same day: 9,500 kept, as with the deduction.
    assert paid.totals.net_cash_received == deducted.totals.net_cash_received == cny("9500.00")
    assert paid.disclosure.apr == deducted.disclosure.apr
    assert abs(paid.disclosure.apr * 100 - D("21.86")) <= D("0.005")  # docs/domain.md §2.3 case C


@LENDING
@given(
    principal=st.integers(min_value=100_000, max_value=50_000_000),
    percent=st.integers(min_value=1, max_value=500),
    basis=st.sampled_from([b for b in FeeBasis if b is not FeeBasis.INSTALLMENT]),
    kind=st.sampled_from([FeeKind.UPFRONT_DEDUCTED, FeeKind.AT_DISBURSEMENT]),
)
def test_a_percent_fee_is_its_basis_times_the_rate_rounded_half_up_once(principal, percent, basis, kind):
    plain = schedule(principal=str(fen(principal).amount))
    rate = D(percent) / D(1000)
    priced = schedule(Fee("f", kind, Payee.LENDER, rate=rate, basis=basis), principal=str(fen(principal).amount))
    base = {FeeBasis.PRINCIPAL: principal, FeeBasis.INTEREST: plain.totals.interest.minor,
            FeeBasis.PRINCIPAL_AND_INTEREST: principal + plain.totals.interest.minor}[basis]
    exact = Fraction(base) * Fraction(rate)
    expected = int(exact + Fraction(1, 2))  # half up, on non-negative amounts
    assert priced.fee_charges[0].per_charge.minor == expected
    assert priced.totals.net_cash_received.minor == principal - expected
    assert priced.installments == plain.installments  # fees charged once do not touch the installments


@pytest.mark.parametrize(
    ("kind", "basis", "values"),
    [
        (FeeKind.UPFRONT_FINANCED, FeeBasis.INTEREST, {"rate": D("0.01")}),
        (FeeKind.PER_INSTALLMENT, FeeBasis.PRINCIPAL_AND_INTEREST, {"rate": D("0.01")}),
        (FeeKind.AT_DISBURSEMENT, FeeBasis.INTEREST, {"amount": cny("10.00")}),
    ],
)
def test_a_basis_with_interest_is_refused_where_it_has_no_meaning(kind, basis, values):
    with pytest.raises(ValueError, match=r"percent of the amount|no basis"):
        Fee("f", kind, Payee.LENDER, basis=basis, **values)


@pytest.mark.parametrize(
    ("kind", "values", "message"),
    [
        (FeeKind.UPFRONT_DEDUCTED, {"rate": D("0.01")}, "only a fee per installment"),
        (FeeKind.UPFRONT_FINANCED, {"rate": D("0.01")}, "only a fee per installment"),
        (FeeKind.AT_DISBURSEMENT, {"rate": D("0.01")}, "only a fee per installment"),
        (FeeKind.PER_INSTALLMENT, {"amount": cny("10.00")}, "no basis"),
    ],
)
def test_a_percent_of_each_installment_is_for_fees_per_installment_and_needs_a_rate(kind, values, message):
    with pytest.raises(ValueError, match=message):
        Fee("f", kind, Payee.LENDER, basis=FeeBasis.INSTALLMENT, **values)


# --- a fee on each installment's principal + interest ---------------------------------------


def _on_installments(percent: str, **kwargs: object) -> Fee:
    return Fee("担保费", FeeKind.PER_INSTALLMENT, Payee.GUARANTOR, rate=D(percent) / 100,
               basis=FeeBasis.INSTALLMENT, **kwargs)  # type: ignore[arg-type]


def test_a_fee_on_each_installment_is_a_percent_of_that_installment_rounded_per_charge():
    plain = schedule()
    priced = schedule(_on_installments("1"))
    # 10,000 at 12 % over 12 months: 888.49 a month (docs/domain.md §4.1) -> 1 % is 8.8849 -> 8.88.
    assert plain.installments[0].total == cny("888.49")
    assert [row.fees for row in priced.installments[:-1]] == [cny("8.88")] * 11
    last = plain.installments[-1]
    assert priced.installments[-1].fees == cny(str((last.total.amount / 100).quantize(D("0.01"), "ROUND_HALF_UP")))
    # The principal and interest are the plain schedule's; the fees are on top, and disclosed.
    assert [(r.principal, r.interest) for r in priced.installments] == \
        [(r.principal, r.interest) for r in plain.installments]
    line = priced.fee_charges[0]
    assert (line.per_charge, line.charges) == (cny("8.88"), 12)
    assert line.total == priced.totals.fees == Money.total((r.fees for r in priced.installments), "CNY")
    assert priced.disclosure.apr > plain.disclosure.apr


def test_on_equal_principal_the_fee_falls_with_the_installment():
    terms = make_terms(principal="12000.00", annual_rate=D("0.12"), method=RepaymentMethod.EQUAL_PRINCIPAL,
                       periods=PeriodSpec(START, Frequency.monthly(), 12), fees=(_on_installments("2"),))
    rows = build_schedule(terms, calendar=WEEKENDS_ONLY).installments
    fees = [row.fees for row in rows]
    assert fees == sorted(fees, reverse=True)
    assert fees[0] > fees[-1]
    # 1,000 of principal + 120 of interest in the first month (12,000 x 1 %): 2 % of 1,120.
    assert fees[0] == cny("22.40")


@LENDING
@given(
    principal=st.integers(min_value=100_000, max_value=50_000_000),
    per_mille=st.integers(min_value=1, max_value=50),
    level=st.integers(min_value=0, max_value=2_000),
    method=st.sampled_from([RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL]),
)
def test_every_row_charges_the_level_fees_and_its_own_percent_rounded_half_up(principal, per_mille, level, method):
    amount = str(fen(principal).amount)
    rate = D(per_mille) / D(1000)
    fees = (_on_installments(str(rate * 100)), Fee("服务费", FeeKind.PER_INSTALLMENT, Payee.LENDER, amount=fen(level)))
    periods = PeriodSpec(START, Frequency.monthly(), 12)
    plain = build_schedule(make_terms(principal=amount, annual_rate=D("0.12"), method=method, periods=periods),
                           calendar=WEEKENDS_ONLY)
    priced = build_schedule(make_terms(principal=amount, annual_rate=D("0.12"), method=method, periods=periods,
                                       fees=fees), calendar=WEEKENDS_ONLY)
    assert len(priced.installments) == len(plain.installments)
    for row, bare in zip(priced.installments, plain.installments, strict=True):
        assert (row.principal_minor, row.interest_minor) == (bare.principal_minor, bare.interest_minor)
        exact = Fraction(bare.principal_minor + bare.interest_minor) * Fraction(rate)
        assert row.fees_minor == level + int(exact + Fraction(1, 2))
    assert priced.totals.fees.minor == sum(row.fees_minor for row in priced.installments)


def test_a_prepayment_charges_the_fee_again_on_the_rows_it_reamortises():
    terms = make_terms(principal="10000.00", annual_rate=D("0.12"),
                       periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12), fees=(_on_installments("1"),))
    before = build_schedule(terms, calendar=WEEKENDS_ONLY)
    after = partial_prepayment(before, terms, paid_on=date(2025, 4, 15), amount=cny("2000"),
                               mode=PrepaymentMode.REDUCE_INSTALLMENT, calendar=WEEKENDS_ONLY).schedule
    assert after.installments[:3] == before.installments[:3]
    for row in after.installments[3:]:
        assert row.fees == terms.rounding.times(row.principal + row.interest, D("0.01"))
    assert after.installments[3].fees < before.installments[3].fees  # a lower installment, a lower fee


def test_fees_paid_or_deducted_on_the_day_cannot_reach_the_principal():
    with pytest.raises(ValueError, match="cannot reach the principal"):
        schedule(Fee("a", FeeKind.AT_DISBURSEMENT, Payee.LENDER, amount=cny("6000.00")),
                 Fee("b", FeeKind.UPFRONT_DEDUCTED, Payee.LENDER, amount=cny("4000.00")))


def test_a_percent_fee_is_rounded_by_the_loans_rounding():
    # Half up by the loan's policy: 0.5 fen goes up (12.345 -> 12.35 at 0.1 % of 12,345.00).
    fee = Fee("f", FeeKind.AT_DISBURSEMENT, Payee.LENDER, rate=D("0.001"))
    assert schedule(fee, principal="12345.00").fee_charges[0].per_charge == cny("12.35")
