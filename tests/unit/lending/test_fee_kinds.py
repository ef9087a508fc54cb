"""Fee kinds beyond the first three: paid at disbursement, a percent of the amount plus interest or
of interest alone, and fees the institution may not waive (issue 15 §3)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.calendar import WEEKENDS_ONLY
from microcredit.lending.fees import Fee, FeeBasis, FeeKind, Payee
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.schedule import build_schedule

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
    basis=st.sampled_from(list(FeeBasis)),
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


def test_fees_paid_or_deducted_on_the_day_cannot_reach_the_principal():
    with pytest.raises(ValueError, match="cannot reach the principal"):
        schedule(Fee("a", FeeKind.AT_DISBURSEMENT, Payee.LENDER, amount=cny("6000.00")),
                 Fee("b", FeeKind.UPFRONT_DEDUCTED, Payee.LENDER, amount=cny("4000.00")))


def test_a_percent_fee_is_rounded_by_the_loans_rounding():
    # Half up by the loan's policy: 0.5 fen goes up (12.345 -> 12.35 at 0.1 % of 12,345.00).
    fee = Fee("f", FeeKind.AT_DISBURSEMENT, Payee.LENDER, rate=D("0.001"))
    assert schedule(fee, principal="12345.00").fee_charges[0].per_charge == cny("12.35")
