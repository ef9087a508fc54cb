"""The APR solver's properties, and results that no caller's decimal context can change."""

from __future__ import annotations

import decimal
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from microcredit.lending.allocation import (
    DUE_DATE_ORDER,
    OverpaymentPolicy,
    Payment,
    allocate,
    apply_allocation,
    replay,
    reverse,
)
from microcredit.lending.apr import CashFlow, disclose, irr, xirr_daily
from microcredit.lending.calendar import WEEKENDS_ONLY
from microcredit.lending.classification import DEFAULT_PROVISION_RATES, ClassificationPolicy, RiskCategory, provision
from microcredit.lending.delinquency import LateFeeRule, late_fee, loan_dpd
from microcredit.lending.money import Money, RoundingMode
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.schedule import LoanTerms, build_schedule

from .support import CNY, LENDING, cny, due, loan_terms, make_terms, round_exact

D = Decimal
POLICY = ClassificationPolicy(provision_rates=DEFAULT_PROVISION_RATES)


def test_engine_results_ignore_the_callers_decimal_context() -> None:
    terms = make_terms(
        principal="10000.00",
        annual_rate=D("0.12"),
        periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
    )
    expected = build_schedule(terms, calendar=WEEKENDS_ONLY).installments
    with decimal.localcontext(decimal.Context(prec=6, rounding=decimal.ROUND_DOWN)):
        assert build_schedule(terms, calendar=WEEKENDS_ONLY).installments == expected


def test_waterfalls_charges_and_displays_ignore_the_callers_decimal_context() -> None:
    # A caller's 6-digit, round-down context once cut 123,456.78 of principal to 123,456 inside
    # the waterfall (0.78 lost), and truncated late fees, provisions and the displayed APR.
    dues = (due(1, date(2025, 2, 15), "123456.78", "1234.56", "0", "3.94"),)
    disclosure = build_schedule(
        make_terms(principal="10000.00", annual_rate=D("0.12"),
                   periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12)),
        calendar=WEEKENDS_ONLY,
    ).disclosure
    rules = {"strategy": DUE_DATE_ORDER, "overpayment": OverpaymentPolicy.CREDIT_BALANCE}

    def results() -> tuple[object, ...]:
        allocation = allocate(dues, cny("124695.28"), date(2025, 3, 1), **rules)
        return (
            allocation,
            apply_allocation(dues, allocation),
            reverse(allocation, cny("1000.01")),
            replay(dues, [Payment(date(2025, 3, 1), cny("124695.28"))], **rules),
            loan_dpd(dues, date(2025, 3, 1), grace_days=0, tolerance=cny("124694.28")),
            late_fee(dues[0], as_of=date(2025, 3, 1),
                     rule=LateFeeRule(amount=cny("20"), rate=D("0.0123"), after_days=1), rounding=CNY),
            provision(cny("123456.78"), RiskCategory.SPECIAL_MENTION, rounding=CNY, policy=POLICY),
            disclosure.apr_percent,
            disclosure.ear_percent,
        )

    expected = results()
    assert allocate(dues, cny("124695.28"), date(2025, 3, 1), **rules).allocated == cny("124695.28")
    # The late fee is 20.00 + 1.23 % of 124,691.34 = 20 + 1,533.70 (1,533.703...), the provision 3 %.
    assert expected[5] == cny("1553.70")
    assert expected[6] == cny("3703.70")
    with decimal.localcontext(decimal.Context(prec=6, rounding=decimal.ROUND_DOWN)):
        assert results() == expected


def test_installment_multiple_carries_the_residue_to_the_last_installment() -> None:
    terms = make_terms(
        principal="10000.00",
        annual_rate=D("0.12"),
        periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
        installment_multiple="1",
    )
    rows = build_schedule(terms, calendar=WEEKENDS_ONLY).installments
    # 888.4879 rounds to a whole 888 yuan; the shortfall accumulates into the last installment.
    assert [r.total for r in rows[:-1]] == [cny("888.00")] * 11
    assert rows[-1].total > cny("888.00")
    assert Money.total((r.principal for r in rows), "CNY") == cny("10000.00")


@LENDING
@given(st.integers(1, 10**7), st.integers(1, 3000), st.integers(1, 48))
@example(1, 1569, 1)  # a 1-yuan loan: an absolute NPV tolerance stopped 1e-9 short of the rate
def test_irr_recovers_the_rate_of_an_exact_annuity(principal: int, rate_bp: int, n: int) -> None:
    r = Fraction(rate_bp, 100_000)
    growth = (1 + r) ** n
    payment = Fraction(principal) * r * growth / (growth - 1)
    # 20-digit payments: the rate comes back to the solver's tolerance.
    flows = [D(principal)] + [-(D(payment.numerator) / D(payment.denominator))] * n
    assert abs(irr(flows) - D(rate_bp) / 100_000) < D("1e-9")


@LENDING
@given(loan_terms(plain=True))
def test_apr_of_a_fee_free_monthly_annuity_equals_its_nominal_rate(terms: LoanTerms) -> None:
    schedule = build_schedule(terms, calendar=WEEKENDS_ONLY)
    rows = schedule.installments
    r = Fraction(terms.annual_rate) / 12
    v = 1 / (1 + r)
    # Paying exactly at the contract rate, the schedule's NPV at r is the discounted sum of
    # the interest roundings delta_k = row interest - exact interest; the IRR moves by
    # about NPV / duration.  Bound that, annualised, with a margin.
    balance = Fraction(terms.principal.amount)
    npv = Fraction(0)
    duration = Fraction(0)
    for k, row in enumerate(rows, start=1):
        npv += (Fraction(row.interest.amount) - balance * r) * v**k
        duration += k * Fraction(row.total.amount) * v ** (k + 1)
        balance -= Fraction(row.principal.amount)
    allowed = 12 * (abs(npv) / duration) * Fraction(3, 2) + Fraction(1, 10**7)
    gap = abs(Fraction(schedule.disclosure.apr) - Fraction(terms.annual_rate))
    assert gap <= allowed
    if terms.principal >= cny("1000000"):
        assert gap < Fraction(1, 10**6)


def test_xirr_on_regular_dates_matches_the_periodic_rate() -> None:
    start = date(2025, 1, 1)
    flows = [(start, D(1000))] + [(start + timedelta(days=30 * k), D("-88.85")) for k in range(1, 13)]
    daily = xirr_daily(flows)
    assert D("0.0003") < daily < D("0.0004")
    result = disclose(
        cash_flows=[CashFlow(d, Money.parse(a, "CNY"), 0) for d, a in flows],
        nominal_annual_rate=D("0.12"),
        periods_per_year=D(12),
        regular=False,
        day_basis=365,
    )
    assert result.method.value == "xirr_days"
    assert result.day_basis == 365
    # The EAR is (1 + daily)^365 - 1 by definition.
    assert abs(result.ear - ((1 + daily) ** 365 - 1)) < D("1e-10")


def test_irr_refuses_flows_without_a_root() -> None:
    with pytest.raises(ValueError, match="no rate of return"):
        irr([D(100), D(100)])


def test_round_exact_oracle_agrees_with_known_values() -> None:
    assert round_exact(Fraction(92_1151, 10_000)) == D("92.12")
    assert round_exact(Fraction(5, 1000), mode=RoundingMode.HALF_EVEN) == D("0.00")


def test_irr_over_thousands_of_years_is_refused_not_overflowed() -> None:
    # Discounting at -99 % a day over 2.9 million days overflowed the engine's exponent
    # (decimal.Overflow, an HTTP 500 for a first due date or settlement in 9999).
    with pytest.raises(ValueError, match="span"):
        xirr_daily([(date(2025, 1, 1), D(100)), (date(9999, 12, 1), D(-200))])
    with pytest.raises(ValueError, match="span"):
        irr([D(100), *[D(0)] * 600_000, D(-200)])


def test_a_cost_too_large_to_state_is_refused_not_an_invalid_operation() -> None:
    # 50 % a day for a year: EAR = 1.5^365 - 1 ~ 10^64 could not be quantised to 12 places in
    # 50 digits (decimal.InvalidOperation, POST /quotes answered 500).
    start = date(2025, 1, 1)
    flows = [CashFlow(start, cny("100"), 0), CashFlow(start + timedelta(days=1), cny("-150"), 1)]
    with pytest.raises(ValueError, match="too large"):
        disclose(cash_flows=flows, nominal_annual_rate=D("0.12"), periods_per_year=D(365), regular=True, day_basis=365)


def test_irr_above_100_percent_a_period_is_found() -> None:
    # A 10-year 到期一次还本付息 loan at 12 % is one period earning 120 %: its rate lay above the
    # [-99 %, 100 %] bracket and the quote was refused ("no rate of return").
    assert abs(irr([D(10000), D(-22000)]) - D("1.2")) < D("1e-12")
    assert abs(irr([D(100), D(0), D(-2352)]) - D("3.849742261192856")) < D("1e-12")  # sqrt(23.52) - 1
    with pytest.raises(ValueError, match="no rate of return"):
        irr([D(1), D(-(10**9))])
